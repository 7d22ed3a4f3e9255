// durable-objects/feed-batch.ts: what an inbox collects between two feed pushes. State changes of
// its copies are sampled like items (at most FEED_BATCH_MAX copies per push), one per copy: its
// latest, so a page read and an ack before the push arrive as one change, `acked`.

import { describe, expect, it } from "vitest";
import { FeedCollector } from "../../../durable-objects/feed-batch.js";
import type { FeedItem } from "../../../protocol/envelope.js";
import type { StateChange } from "../../../durable-objects/message-log.js";

const change = (id: string, status: StateChange["status"], at = 1, via: StateChange["via"] = "poll"): StateChange => ({ id, status, at, via });

describe("FeedCollector's state changes", () => {
  it("keep each copy's latest state once: delivered then acked is acked", () => {
    const feed = new FeedCollector(10);
    feed.addState(change("a", "delivered", 1));
    feed.addState(change("a", "acked", 2));
    feed.addState(change("b", "delivered", 3, "webhook"));
    expect(feed.size).toBe(3);
    expect(feed.take().states).toEqual([change("a", "acked", 2), change("b", "delivered", 3, "webhook")]);
  });

  it("never go back: a later delivered does not replace an acked", () => {
    const feed = new FeedCollector(10);
    feed.addState(change("a", "acked", 2));
    feed.addState(change("a", "delivered", 3));
    expect(feed.take().states).toEqual([change("a", "acked", 2)]);
  });

  it("sample at most maxItems copies per batch, still updating those kept, and start empty after take()", () => {
    const feed = new FeedCollector(2);
    for (const id of ["a", "b", "c"]) feed.addState(change(id, "delivered"));
    feed.addState(change("b", "expired", 5, null));
    expect(feed.size, "every change counts towards a push").toBe(4);
    expect(feed.take().states).toEqual([change("a", "delivered"), change("b", "expired", 5, null)]);
    expect(feed.size).toBe(0);
    expect(feed.take().states).toEqual([]);
  });
});

describe("FeedCollector.restore, after a push that failed", () => {
  const item = (id: string): FeedItem => ({ id, from: "a", to: "b", ts: "2026-12-02T00:00:00.000Z", type: "notification", topic: "t", encrypted: false, bytes: 1 });

  it("puts the failed batch back before what was collected since, with counts added", () => {
    const feed = new FeedCollector(10);
    feed.add("t", 60_000, () => item("m1"));
    feed.addAttempt({ at: "x", agent: "b", messageId: "m1", webhookId: "w", attempt: 1, status: 500, latencyMs: 3, error: null, outcome: "retrying" });
    feed.addState(change("m0", "delivered", 1));
    const failed = feed.take();
    feed.add("t", 61_000, () => item("m2"));
    feed.addState(change("m0", "acked", 2));
    feed.restore(failed);
    expect(feed.size).toBeGreaterThan(0);
    const batch = feed.take();
    expect(batch.items.map((i) => i.id)).toEqual(["m1", "m2"]);
    expect(batch.topics.get("t")).toEqual({ count: 2, lastTs: 61_000 });
    expect(batch.perMinute.get(60_000)).toBe(2);
    expect(batch.attempts).toHaveLength(1);
    expect(batch.states, "the later state of the same copy wins").toEqual([change("m0", "acked", 2)]);
  });

  it("keeps the sample limit: items over it are counted as dropped, an older final state is not undone", () => {
    const feed = new FeedCollector(2);
    feed.add(null, 1, () => item("m1"));
    feed.add(null, 1, () => item("m2"));
    feed.addState(change("m1", "acked", 5));
    const failed = feed.take();
    feed.add(null, 2, () => item("m3"));
    feed.addState(change("m1", "delivered", 6));
    feed.restore(failed);
    const batch = feed.take();
    expect(batch.items.map((i) => i.id)).toEqual(["m1", "m2"]);
    expect(batch.dropped).toBe(1);
    expect(batch.states).toEqual([change("m1", "acked", 5)]);
  });
});
