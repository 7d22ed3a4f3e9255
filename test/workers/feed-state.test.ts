// The delivery state in the admin's views (issue 11, item 6), through HTTP on the real Worker and
// objects: each feed item carries its copy's state (stored → delivered via … → acked / expired),
// and /admin/stats names the agents holding copies they have not been handed yet, oldest first.
// Both reach the feed shard with the recipient inbox's next push (FEED_FLUSH_MS, 2 s here), so
// every check waits for its answer.

import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import type { SeqItem } from "../../durable-objects/feed.js";
import { ITEM_STATES_QUERY } from "../../durable-objects/feed-states.js";
import { OLDEST_UNDELIVERED_QUERY, UNREPORTED_QUERY } from "../../durable-objects/message-store.js";
import type { MessagePage, SendResponse } from "../../protocol/envelope.js";
import { adminStats, feedPage, type AdminStats } from "../../protocol/wire-schemas.js";
import { ADMIN_KEY, call, inbox, register, send, textMessage, type TestAgent } from "../support/relay.js";

/** Longer than a push interval and a slow machine. */
const WAIT = { timeout: 15_000, interval: 100 };

/** The admin feed's items sent by `from`, checked against the declared schema (no undeclared field). */
async function feedFrom(from: TestAgent): Promise<SeqItem[]> {
  const reply = await call<{ messages: SeqItem[] }>("GET", `/messages?from=${from.name}&limit=50`, { key: ADMIN_KEY });
  expect(reply.status, reply.text).toBe(200);
  expect(feedPage.parse(reply.body)).toEqual(reply.body);
  return reply.body.messages;
}

/** Waits until the feed item of `id` for `to` is there and passes `check`; answers it. */
async function feedItemOnceIt(from: TestAgent, id: string, to: TestAgent, check: (item: SeqItem) => void): Promise<SeqItem> {
  return vi.waitFor(async () => {
    const item = (await feedFrom(from)).find((m) => m.id === id && m.to === to.name);
    expect(item, `the feed item of ${id} for ${to.name}`).toBeDefined();
    check(item!);
    return item!;
  }, WAIT);
}

async function stats(): Promise<AdminStats> {
  const reply = await call<AdminStats>("GET", "/admin/stats?minutes=1", { key: ADMIN_KEY });
  expect(reply.status, reply.text).toBe(200);
  expect(adminStats.parse(reply.body)).toEqual(reply.body);
  return reply.body;
}

const backlogOf = (view: AdminStats, agent: TestAgent) => view.backlog.find((row) => row.agent === agent.name);

async function sendTo(from: TestAgent, to: TestAgent | TestAgent[], payload = "hello"): Promise<SendResponse> {
  const reply = await send<SendResponse>(from, textMessage(Array.isArray(to) ? to.map((a) => a.name) : to.name, payload));
  expect(reply.status, reply.text).toBe(201);
  return reply.body;
}

describe("a feed item's delivery state", () => {
  it("is `stored` after the send, `delivered` via poll after the recipient's page, `acked` after its DELETE", async () => {
    const [alice, bob] = await Promise.all([register("fs_a"), register("fs_b")]);
    const sent = await sendTo(alice, bob);
    const stored = await feedItemOnceIt(alice, sent.id, bob, (item) => expect(item.status).toBe("stored"));
    expect(stored.via).toBeUndefined();
    expect(stored.statusAt).toBeUndefined();

    const before = Date.now();
    expect((await inbox<MessagePage>(bob)).body.messages.map((m) => m.id)).toEqual([sent.id]);
    const delivered = await feedItemOnceIt(alice, sent.id, bob, (item) => expect(item).toMatchObject({ status: "delivered", via: "poll" }));
    expect(Date.parse(delivered.statusAt!)).toBeGreaterThanOrEqual(before - 1000);
    expect(Date.parse(delivered.statusAt!)).toBeGreaterThanOrEqual(Date.parse(delivered.ts));

    expect((await call("DELETE", `/messages/${sent.id}`, { key: bob.apiKey })).status).toBe(204);
    const acked = await feedItemOnceIt(alice, sent.id, bob, (item) => expect(item.status).toBe("acked"));
    // The way it was delivered stays on the item; the time is the ack's.
    expect(acked.via).toBe("poll");
    expect(Date.parse(acked.statusAt!)).toBeGreaterThanOrEqual(Date.parse(delivered.statusAt!));
    // The item is the same one: one item per copy, its state updated in place.
    expect(acked.seq).toBe(stored.seq);
  });

  it("is `delivered` via mcp for a copy read with via=mcp", async () => {
    const [alice, bob] = await Promise.all([register("fs_a"), register("fs_b")]);
    const sent = await sendTo(alice, bob);
    expect((await call("GET", `/messages/${sent.id}?via=mcp`, { key: bob.apiKey })).status).toBe(200);
    await feedItemOnceIt(alice, sent.id, bob, (item) => expect(item).toMatchObject({ status: "delivered", via: "mcp" }));
  });

  it("follows each copy of a multicast on its own: one recipient reads, the other does not", async () => {
    const [alice, reader, idle] = await Promise.all([register("fs_a"), register("fs_r"), register("fs_i")]);
    const sent = await sendTo(alice, [reader, idle]);
    expect((await inbox(reader)).status).toBe(200);
    await feedItemOnceIt(alice, sent.id, reader, (item) => expect(item).toMatchObject({ status: "delivered", via: "poll" }));
    const idleItem = await feedItemOnceIt(alice, sent.id, idle, (item) => expect(item.status).toBe("stored"));
    expect(idleItem.via).toBeUndefined();
  });
});

describe("the backlog in /admin/stats", () => {
  it("names an agent that has not read, with the ts of its oldest undelivered copy, and drops it once it read", async () => {
    const [alice, carol] = await Promise.all([register("fs_a"), register("fs_c")]);
    const first = await sendTo(alice, carol, "first");
    await sendTo(alice, carol, "second");
    const oldestTs = first.recipients[0]!.ts;
    const row = await vi.waitFor(async () => {
      const view = await stats();
      const found = backlogOf(view, carol);
      expect(found, "carol in the backlog").toBeDefined();
      // The second copy's push may come later, but the oldest stays the first.
      expect(found!.oldestUndeliveredTs).toBe(oldestTs);
      return { found: found!, view };
    }, WAIT);
    expect(Date.parse(row.found.reportedAt)).toBeGreaterThanOrEqual(Date.parse(oldestTs));
    expect(Date.parse(row.found.reportedAt)).toBeLessThanOrEqual(Date.now());
    // Oldest first.
    const ages = row.view.backlog.map((b) => Date.parse(b.oldestUndeliveredTs));
    expect(ages).toEqual([...ages].sort((a, b) => a - b));
    expect(backlogOf(row.view, alice), "the sender holds nothing").toBeUndefined();

    // One page hands carol both copies: nothing is undelivered, and carol leaves the backlog.
    expect((await inbox<MessagePage>(carol)).body.messages).toHaveLength(2);
    await vi.waitFor(async () => expect(backlogOf(await stats(), carol), "carol caught up").toBeUndefined(), WAIT);
  });

  it("moves to the next undelivered copy when only the oldest was read", async () => {
    const [alice, dave] = await Promise.all([register("fs_a"), register("fs_d")]);
    const first = await sendTo(alice, dave, "first");
    const second = await sendTo(alice, dave, "second");
    await vi.waitFor(async () => expect(backlogOf(await stats(), dave)?.oldestUndeliveredTs).toBe(first.recipients[0]!.ts), WAIT);
    expect((await call("GET", `/messages/${first.id}`, { key: dave.apiKey })).status).toBe(200);
    await vi.waitFor(async () => expect(backlogOf(await stats(), dave)?.oldestUndeliveredTs).toBe(second.recipients[0]!.ts), WAIT);
  });

  it("an agent that is removed leaves it", async () => {
    const [alice, erin] = await Promise.all([register("fs_a"), register("fs_e")]);
    await sendTo(alice, erin);
    await vi.waitFor(async () => expect(backlogOf(await stats(), erin)).toBeDefined(), WAIT);
    expect((await call("DELETE", `/agents/${erin.name}`, { key: ADMIN_KEY })).status).toBe(204);
    expect(backlogOf(await stats(), erin)).toBeUndefined();
  });
});

describe("cost", () => {
  it("the oldest undelivered copy is found through the partial index, not by scanning the inbox", async () => {
    const bob = await register("fs_b");
    const plan = await runInDurableObject(env.INBOX.getByName(bob.name.toLowerCase()), (_instance, state) =>
      state.storage.sql.exec<{ detail: string }>(`EXPLAIN QUERY PLAN ${OLDEST_UNDELIVERED_QUERY}`).toArray().map((r) => r.detail),
    );
    expect(plan.join("; ")).toMatch(/messages_undelivered/);
  });

  it("the copies whose sender has not heard their state are found through the partial index when the inbox opens", async () => {
    const bob = await register("fs_u");
    const plan = await runInDurableObject(env.INBOX.getByName(bob.name.toLowerCase()), (_instance, state) =>
      state.storage.sql.exec<{ detail: string }>(`EXPLAIN QUERY PLAN ${UNREPORTED_QUERY}`).toArray().map((r) => r.detail),
    );
    expect(plan.join("; ")).toMatch(/messages_unreported/);
  });

  it("a page's states are looked up by primary key, one query for the page", async () => {
    const plan = await runInDurableObject(env.FEED.getByName("feed"), (_instance, state) =>
      state.storage.sql.exec<{ detail: string }>(`EXPLAIN QUERY PLAN ${ITEM_STATES_QUERY}`, "[]").toArray().map((r) => r.detail),
    );
    expect(plan.join("; ")).toMatch(/SEARCH s USING PRIMARY KEY \(message_id=\? AND recipient=\?\)/);
  });
});
