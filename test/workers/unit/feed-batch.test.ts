// durable-objects/feed-batch.ts: what an inbox collects between two feed pushes. State changes of
// its copies are sampled like items (at most FEED_BATCH_MAX copies per push), one per copy: its
// latest, so a page read and an ack before the push arrive as one change, `acked`.

import { describe, expect, it } from "vitest";
import { FeedCollector } from "../../../durable-objects/feed-batch.js";
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
