// The admin feed over three feed shards (this project's FEED_SHARDS): every inbox pushes to the
// shard of its name, and GET /messages (admin), /channels, /webhooks/deliveries and /admin/stats
// merge the shards with the answers one feed would give.

import { describe, expect, it, vi } from "vitest";
import type { FeedItem, SendResponse, WebhookAttempt } from "../../protocol/envelope.js";
import type { ErrorBody } from "../../protocol/errors.js";
import type { AdminStats } from "../../protocol/wire-schemas.js";
import { ADMIN_KEY, call, register, send, textMessage, type TestAgent } from "../support/relay.js";
import { limits, onePerShard } from "../support/shards.js";

const SHARDS = limits.feedShards;

interface FeedPage {
  messages: (FeedItem & { seq: number })[];
  count: number;
  hasMore: boolean;
  lastSeq: string;
}

const feed = (query: string) => call<FeedPage>("GET", `/messages?${query}`, { key: ADMIN_KEY });
const copy = (item: { id: string; to: string }) => `${item.id}>${item.to}`;

/** Sends `n` messages on `topic`, round robin to the recipients; answers the copies as `id>recipient`. */
async function sendRound(sender: TestAgent, recipients: TestAgent[], topic: string, n: number): Promise<string[]> {
  const sent: string[] = [];
  for (let i = 0; i < n; i++) {
    const to = recipients[i % recipients.length]!;
    const reply = await send<SendResponse>(sender, textMessage(to.name, `m${i}`, { topic }));
    expect(reply.status, reply.text).toBe(201);
    sent.push(copy({ id: reply.body.id, to: to.name }));
  }
  return sent;
}

/** Follows `afterSeq` cursors from `cursor` until `expected` copies were seen; answers them in order and the last cursor. */
async function walk(cursor: string, topic: string, expected: number): Promise<{ seen: string[]; cursor: string }> {
  const seen: string[] = [];
  await vi.waitFor(
    async () => {
      const page = await feed(`afterSeq=${cursor}&limit=4&topic=${topic}`);
      expect(page.status, page.text).toBe(200);
      expect(page.body.count).toBe(page.body.messages.length);
      expect(page.body.count).toBeLessThanOrEqual(4);
      seen.push(...page.body.messages.map(copy));
      cursor = page.body.lastSeq;
      expect(seen.length, `${expected} feed items`).toBeGreaterThanOrEqual(expected);
    },
    { timeout: 20_000, interval: 20 },
  );
  return { seen, cursor };
}

describe("the admin feed over several shards", () => {
  it("afterSeq cursors walk every shard's items exactly once, also items that arrive during the walk", async () => {
    expect(SHARDS).toBeGreaterThan(1);
    const sender = await register("fsender");
    const recipients = await onePerShard("fwalk", SHARDS);
    const topic = `walk.${crypto.randomUUID().slice(0, 8)}`;
    const start = (await feed("limit=1")).body.lastSeq;
    expect(start.split("_")).toHaveLength(SHARDS);

    const first = await sendRound(sender, recipients, topic, 9);
    const part = await walk(start, topic, 9);
    const second = await sendRound(sender, recipients, topic, 7);
    const rest = await walk(part.cursor, topic, 7);
    const seen = [...part.seen, ...rest.seen];
    expect(seen).toHaveLength(16);
    expect(new Set(seen).size).toBe(16);
    expect([...seen].sort()).toEqual([...first, ...second].sort());

    // At the end, a long-poll answers empty at its deadline and keeps the cursor.
    const idle = await feed(`afterSeq=${rest.cursor}&topic=${topic}&wait=1`);
    expect(idle.body).toMatchObject({ messages: [], count: 0, hasMore: false, lastSeq: rest.cursor });
  });

  it("a page by time is the newest items of all shards, and its lastSeq starts a walk at what arrives after it", async () => {
    const sender = await register("fsender");
    const recipients = await onePerShard("ftime", SHARDS);
    const topic = `time.${crypto.randomUUID().slice(0, 8)}`;
    const before = await sendRound(sender, recipients, topic, 6);
    const page = await vi.waitFor(
      async () => {
        const reply = await feed(`topic=${topic}&limit=100`);
        expect(reply.body.count).toBe(6);
        return reply.body;
      },
      { timeout: 20_000, interval: 20 },
    );
    expect(page.messages.map(copy).sort()).toEqual([...before].sort());
    const times = page.messages.map((item) => Date.parse(item.ts));
    expect(times).toEqual([...times].sort((a, b) => b - a));
    // A smaller page holds the newest of them, whichever shards they are in.
    const newest = (await feed(`topic=${topic}&limit=4`)).body;
    expect(newest.messages.map(copy)).toEqual(page.messages.slice(0, 4).map(copy));
    expect(newest.hasMore).toBe(true);

    const after = await sendRound(sender, recipients, topic, 5);
    const walked = await walk(page.lastSeq, topic, 5);
    expect([...walked.seen].sort()).toEqual([...after].sort());
  });

  it("answers a long-poll as soon as any one shard has a new item", async () => {
    const sender = await register("fsender");
    const recipients = await onePerShard("fpoll", SHARDS);
    const topic = `poll.${crypto.randomUUID().slice(0, 8)}`;
    const cursor = (await feed(`topic=${topic}&limit=1`)).body.lastSeq;
    const last = recipients.at(-1)!;
    const held = feed(`afterSeq=${cursor}&topic=${topic}&wait=20`);
    const [sent] = await sendRound(sender, [last], topic, 1);
    const answered = await held;
    expect(answered.status).toBe(200);
    expect(answered.body.messages.map(copy)).toEqual([sent]);
  });

  it("refuses an afterSeq that is not a cursor, and reads a short one as positions of the first shards", async () => {
    for (const bad of ["x", "1.2", "1,2", "_", "1_2_"]) {
      const reply = await call<ErrorBody>("GET", `/messages?afterSeq=${bad}`, { key: ADMIN_KEY });
      expect(reply.status, bad).toBe(400);
      expect(reply.body.code).toBe("BAD_REQUEST");
    }
    const short = await feed("afterSeq=0&limit=1");
    expect(short.status).toBe(200);
    expect(short.body.lastSeq.split("_")).toHaveLength(SHARDS);
  });
});

describe("counts over several shards", () => {
  it("channel counts and per-minute stored counts add up over the shards exactly", async () => {
    const sender = await register("csender");
    const recipients = await onePerShard("ccount", SHARDS);
    const topic = `count.${crypto.randomUUID().slice(0, 8)}`;
    const stats = async () => (await call<AdminStats>("GET", "/admin/stats?minutes=5", { key: ADMIN_KEY })).body;
    const stored = (s: AdminStats) => s.perMinute.reduce((n, m) => n + m.stored, 0);
    const storedBefore = stored(await stats());
    await sendRound(sender, recipients, topic, 10);
    await vi.waitFor(
      async () => {
        const channels = (await call<{ topic: string; count: number }[]>("GET", "/channels?detail=true", { key: ADMIN_KEY })).body;
        expect(channels.find((ch) => ch.topic === topic)?.count).toBe(10);
        expect(stored(await stats())).toBe(storedBefore + 10);
      },
      { timeout: 20_000, interval: 50 },
    );
    // Each shard counted the pushes of its own inboxes.
    const objects = (await stats()).objects;
    expect(objects.feed.map((shard) => shard.shard)).toEqual([0, 1, 2]);
    for (const shard of objects.feed) expect(shard.requests, `feed shard ${shard.shard}`).toBeGreaterThan(0);
  });

  it("the admin's webhook deliveries are every agent's attempts, newest first", async () => {
    const sender = await register("wsender");
    // Nothing listens on port 9: every attempt fails and is retried.
    const hooks = await onePerShard("whook", SHARDS, { webhookUrl: "http://127.0.0.1:9/hook" });
    await sendRound(sender, hooks, `hook.${crypto.randomUUID().slice(0, 8)}`, SHARDS);
    await vi.waitFor(
      async () => {
        const own = await Promise.all(hooks.map(async (h) => (await call<WebhookAttempt[]>("GET", "/webhooks/deliveries?limit=100", { key: h.apiKey })).body));
        for (const log of own) expect(log.length).toBeGreaterThan(0);
        const mine = new Set(hooks.map((h) => h.name));
        const all = (await call<WebhookAttempt[]>("GET", "/webhooks/deliveries?limit=100", { key: ADMIN_KEY })).body.filter((a) => mine.has(a.agent));
        const expected = own.flat().sort((a, b) => Date.parse(b.at) - Date.parse(a.at));
        expect(all.map((a) => a.at)).toEqual(expected.map((a) => a.at));
        expect(new Set(all.map((a) => a.agent))).toEqual(mine);
      },
      { timeout: 20_000, interval: 200 },
    );
    for (const hook of hooks) expect((await call("PATCH", `/agents/${hook.name}`, { key: ADMIN_KEY, json: { webhookUrl: null } })).status).toBe(200);
  });
});
