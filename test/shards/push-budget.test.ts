// Adaptive feed pushes (durable-objects/push-slots.ts) with this project's small budget: 10
// pushes a second per feed shard, FEED_FLUSH_MS = 100, FEED_FLUSH_MAX_MS = 3000. Busy inboxes on
// one shard are told to wait longer between pushes, /admin/stats says how far behind the feed may
// be, and nothing stored goes uncounted or missing from the feed meanwhile. An inbox that goes
// quiet while waiting pushes after IDLE_PUSH_MS (5 s) instead (durable-objects/views.ts).

import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { expect, it, vi } from "vitest";
import type { FeedItem, SendResponse } from "../../protocol/envelope.js";
import type { AdminStats } from "../../protocol/wire-schemas.js";
import { ADMIN_KEY, call, register, send, textMessage } from "../support/relay.js";
import { limits, registerInShard } from "../support/shards.js";

const stats = async () => (await call<AdminStats>("GET", "/admin/stats?minutes=5", { key: ADMIN_KEY })).body;
const stored = (s: AdminStats) => s.perMinute.reduce((n, m) => n + m.stored, 0);

it("stretches the push interval of a busy shard's inboxes, keeping every count exact and every item in the feed", async () => {
  expect([limits.feedPushBudget, limits.feedFlushMs, limits.feedFlushMaxMs]).toEqual([10, 100, 3000]);
  const sender = await register("bsender");
  const busy = await Promise.all(Array.from({ length: 12 }, () => registerInShard("busy", 1, limits.feedShards)));
  const topic = `busy.${crypto.randomUUID().slice(0, 8)}`;
  const start = await stats();
  const cursor = (await call<{ lastSeq: string }>("GET", `/messages?topic=${topic}&limit=1`, { key: ADMIN_KEY })).body.lastSeq;

  // Rounds of one message to each busy inbox, until the shard tells its inboxes to wait longer.
  const sent = new Set<string>();
  let stretched: AdminStats | null = null;
  for (let round = 0; round < 40 && stretched === null; round++) {
    for (const to of busy) {
      const reply = await send<SendResponse>(sender, textMessage(to.name, `r${round}`, { topic }));
      expect(reply.status).toBe(201);
      sent.add(`${reply.body.id}>${to.name}`);
    }
    const now = await stats();
    if (now.objects.feed[1]!.pushWaitMs > limits.feedFlushMs) stretched = now;
  }
  expect(stretched, "the busy shard stretched the interval").not.toBeNull();
  expect(stretched!.feedPushWaitMs).toBe(Math.max(...stretched!.objects.feed.map((shard) => shard.pushWaitMs)));
  expect(stretched!.feedPushWaitMs).toBeLessThanOrEqual(limits.feedFlushMaxMs);

  // Every message is counted and reaches the feed (within FEED_FLUSH_MAX_MS of its push being due).
  const seen = new Set<string>();
  let at = cursor;
  await vi.waitFor(
    async () => {
      const page = await call<{ messages: FeedItem[]; lastSeq: string }>("GET", `/messages?afterSeq=${at}&topic=${topic}&limit=100`, { key: ADMIN_KEY });
      for (const item of page.body.messages) seen.add(`${item.id}>${item.to}`);
      at = page.body.lastSeq;
      expect(seen.size).toBe(sent.size);
      expect(stored(await stats())).toBe(stored(start) + sent.size);
    },
    { timeout: 30_000, interval: 100 },
  );
  expect([...seen].sort()).toEqual([...sent].sort());
});

it("pushes the batch of an inbox that goes quiet while waiting for a far slot after IDLE_PUSH_MS, before it could be evicted", async () => {
  const sender = await register("qsender");
  const quiet = await registerInShard("quiet", 2, limits.feedShards);
  const topic = `quiet.${crypto.randomUUID().slice(0, 8)}`;
  // As if its shard had told it to wait a minute.
  await runInDurableObject(env.INBOX.getByName(quiet.name.toLowerCase()), (instance) => {
    (instance as unknown as { views: { feedNotBefore: number } }).views.feedNotBefore = Date.now() + 60_000;
  });
  const reply = await send<SendResponse>(sender, textMessage(quiet.name, "then nothing", { topic }));
  expect(reply.status).toBe(201);
  await vi.waitFor(
    async () => {
      const page = await call<{ messages: FeedItem[] }>("GET", `/messages?topic=${topic}`, { key: ADMIN_KEY });
      expect(page.body.messages.map((m) => m.id)).toEqual([reply.body.id]);
    },
    { timeout: 20_000, interval: 200 },
  );
});
