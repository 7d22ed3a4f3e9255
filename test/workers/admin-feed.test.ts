// The admin's views (SPEC §7): the global feed paged by arrival (`afterSeq`), and /admin/stats.

import { describe, expect, it, vi } from "vitest";
import type { MinuteStats, WebhookHealth } from "../../durable-objects/feed.js";
import type { FeedItem, SendResponse, WebhookAttempt } from "../../protocol/envelope.js";
import type { ErrorBody } from "../../protocol/errors.js";
import { ADMIN_KEY, call, register, send, textMessage } from "../support/relay.js";

/** A page of the admin's global feed: feed items with their arrival number in their shard, and the cursor after them. */
interface FeedPage {
  messages: (FeedItem & { seq: number })[];
  count: number;
  lastSeq: string;
}

interface Stats {
  generatedAt: string;
  perMinute: MinuteStats[];
  webhooks: WebhookHealth[];
}

async function stats(): Promise<Stats> {
  const reply = await call<Stats>("GET", "/admin/stats?minutes=5", { key: ADMIN_KEY });
  expect(reply.status).toBe(200);
  return reply.body;
}

const totalStored = (perMinute: MinuteStats[]): number => perMinute.reduce((n, m) => n + m.stored, 0);

describe("the admin feed", () => {
  it("afterSeq walks the feed in arrival order, every item exactly once, long-polling at the end", async () => {
    const [alice, bob, carol] = await Promise.all([register("feedseq"), register("feedseq"), register("feedseq")]);
    const topic = `seq.${crypto.randomUUID().slice(0, 8)}`;
    const start = await call<FeedPage>("GET", "/messages?limit=1", { key: ADMIN_KEY });
    let cursor = start.body.lastSeq;
    const sent: string[] = [];
    for (let i = 0; i < 6; i++) {
      const reply = await send<SendResponse>(alice, textMessage(i % 2 ? bob.name : carol.name, `m${i}`, { topic }));
      sent.push(reply.body.id);
    }
    const seen: string[] = [];
    await vi.waitFor(
      async () => {
        const page = await call<FeedPage>("GET", `/messages?afterSeq=${cursor}&limit=2&topic=${topic}`, { key: ADMIN_KEY });
        expect(page.status).toBe(200);
        for (const item of page.body.messages) seen.push(item.id);
        cursor = page.body.lastSeq;
        expect(seen.length, "all six feed items").toBeGreaterThanOrEqual(6);
      },
      { timeout: 15_000, interval: 50 },
    );
    expect(seen.length, "no item twice").toBe(6);
    expect([...seen].sort()).toEqual([...sent].sort());
    // Nothing after the end: a long-poll answers empty at its deadline, keeping the cursor.
    const idle = await call("GET", `/messages?afterSeq=${cursor}&topic=${topic}&wait=1`, { key: ADMIN_KEY });
    expect(idle.body).toMatchObject({ messages: [], count: 0, lastSeq: cursor });
  });

  it("refuses an afterSeq that is not a cursor (whole numbers joined by _)", async () => {
    for (const bad of ["-1", "abc", "1.5", "1e3", "1__2", "_1", "1_"]) {
      const reply = await call<ErrorBody>("GET", `/messages?afterSeq=${bad}`, { key: ADMIN_KEY });
      expect(reply.status, bad).toBe(400);
      expect(reply.body.code).toBe("BAD_REQUEST");
    }
  });
});

describe("GET /admin/stats", () => {
  it("answers one entry per minute with exact stored counts, and each webhook's latest outcome and failures in a row", async () => {
    // Nothing listens on port 9: every attempt to the hook agent fails and is retried.
    const [alice, bob, hook] = await Promise.all([register("stats"), register("stats"), register("stats", { webhookUrl: "http://127.0.0.1:9/hook" })]);
    const before = await stats();
    const storedBefore = totalStored(before.perMinute);
    for (let i = 0; i < 3; i++) expect((await send(alice, textMessage(bob.name, `s${i}`))).status).toBe(201);
    expect((await send(alice, textMessage(hook.name, "to a dead endpoint"))).status).toBe(201);

    // Counters reach the Feed in batches; storage is per test file, so these four are the only new ones.
    const after = await vi.waitFor(
      async () => {
        const now = await stats();
        expect(totalStored(now.perMinute)).toBe(storedBefore + 4);
        return now;
      },
      { timeout: 15_000, interval: 100 },
    );
    for (const view of [before, after]) {
      // Consecutive minutes, oldest first: five, or six when a minute began while the answer was made.
      expect([5, 6]).toContain(view.perMinute.length);
      const minutes = view.perMinute.map((m) => Date.parse(m.minute));
      expect(minutes.every((t) => t % 60_000 === 0)).toBe(true);
      expect(minutes.slice(1).map((t, i) => t - minutes[i]!)).toEqual(Array(minutes.length - 1).fill(60_000));
      // The last is the current minute (or the one before, if a minute began since it was read).
      const sinceLast = Date.parse(view.generatedAt) - minutes.at(-1)!;
      expect(sinceLast).toBeGreaterThanOrEqual(0);
      expect(sinceLast).toBeLessThan(120_000);
    }

    // The hook agent's health is its latest attempt, and every attempt so far failed: it catches up
    // with the agent's own attempt log (the Feed lags it by a batch).
    await vi.waitFor(
      async () => {
        const log = (await call<WebhookAttempt[]>("GET", "/webhooks/deliveries?limit=100", { key: hook.apiKey })).body;
        expect(log.length).toBeGreaterThan(0);
        const health = (await stats()).webhooks;
        expect(health).toEqual([
          { agent: hook.name, lastAt: log[0]!.at, lastOutcome: "retrying", lastStatus: null, failuresInRow: log.length },
        ]);
      },
      { timeout: 20_000, interval: 200 },
    );
    // No more retries after the test.
    expect((await call("PATCH", `/agents/${hook.name}`, { key: ADMIN_KEY, json: { webhookUrl: null } })).status).toBe(200);
  });

  it("refuses minutes that are not 1..1440 whole numbers, and agents", async () => {
    for (const bad of ["0", "-5", "x"]) expect((await call("GET", `/admin/stats?minutes=${bad}`, { key: ADMIN_KEY })).status).toBe(400);
    const agent = await register("stats");
    expect((await call("GET", "/admin/stats", { key: agent.apiKey })).status).toBe(401);
  });
});
