// Concurrency (SPEC §4.2): within one inbox `ts` is unique and strictly increasing in arrival
// order, even when many messages arrive in the same millisecond, so `after=<newestTs>` is an
// exact cursor. Many senders at once lose nothing and duplicate nothing.

import { describe, expect, it } from "vitest";
import type { Envelope, MessagePage, SendResponse } from "../../protocol/envelope.js";
import { ADMIN_KEY, call, register, textMessage, uniqueName, type TestAgent } from "../support/relay.js";

async function sendNow(from: TestAgent, body: unknown): Promise<SendResponse> {
  const reply = await call<SendResponse>("POST", "/messages", { key: from.apiKey, json: body });
  expect(reply.status).toBe(201);
  return reply.body;
}

async function page(agent: TestAgent, query: string): Promise<MessagePage<Envelope>> {
  const reply = await call<MessagePage<Envelope>>("GET", `/messages?${query}`, { key: agent.apiKey });
  expect(reply.status).toBe(200);
  return reply.body;
}

/** Walks the whole inbox oldest first with `sort=asc&after=<newestTs>&limit=N`. */
async function walkAsc(agent: TestAgent, limit: number, extra = ""): Promise<Envelope[]> {
  const seen: Envelope[] = [];
  let after: string | null = null;
  for (let guard = 0; guard < 10_000; guard++) {
    const got = await page(agent, `sort=asc&limit=${limit}${extra}${after === null ? "" : `&after=${after}`}`);
    seen.push(...got.messages);
    if (got.messages.length === 0) return seen;
    expect(got.messages.length === limit || !got.hasMore).toBe(true);
    after = got.newestTs;
  }
  throw new Error("paging did not end");
}

async function registerMany(prefix: string, n: number): Promise<TestAgent[]> {
  const replies = await Promise.all(
    Array.from({ length: n }, () => call<TestAgent>("POST", "/agents", { key: ADMIN_KEY, json: { name: uniqueName(prefix) } })),
  );
  for (const reply of replies) expect(reply.status).toBe(201);
  return replies.map((r) => r.body);
}

function expectStrictlyIncreasing(messages: Envelope[]): void {
  for (let i = 1; i < messages.length; i++) {
    expect(Date.parse(messages[i]!.ts), `${messages[i - 1]!.ts} then ${messages[i]!.ts}`).toBeGreaterThan(Date.parse(messages[i - 1]!.ts));
  }
}

describe("the asc cursor over messages that arrived at once", () => {
  const COUNT = 200;

  it.each([7, 100, 1])("walks all %s-sized pages: every message exactly once, ts strictly increasing", async (limit) => {
    const [alice, bob] = await Promise.all([register("alice"), register("bob")]);
    const receipts = await Promise.all(Array.from({ length: COUNT }, (_, i) => sendNow(alice, textMessage(bob.name, `n${i}`))));
    const walked = await walkAsc(bob, limit);
    const ids = walked.map((m) => m.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect([...ids].sort()).toEqual(receipts.map((r) => r.id).sort());
    expect(new Set(walked.map((m) => m.ts)).size).toBe(COUNT);
    expectStrictlyIncreasing(walked);
    // Each message is stored with the ts its sender was told.
    const told = new Map(receipts.map((r) => [r.id, r.ts]));
    for (const m of walked) expect(m.ts).toBe(told.get(m.id));
  }, 120_000);

  it("a poller walking with after=<newestTs> while sends arrive sees each message exactly once", async () => {
    const [alice, bob] = await Promise.all([register("alice"), register("bob")]);
    const TOTAL = 150;
    const sending = Promise.all(
      Array.from({ length: TOTAL }, async (_, i) => {
        // Spread the sends a little, so the poller's pages interleave with arrivals.
        if (i % 25 === 0) await new Promise((r) => setTimeout(r, 5));
        return sendNow(alice, textMessage(bob.name, `live${i}`));
      }),
    );
    const seen: Envelope[] = [];
    let after: string | null = null;
    const deadline = Date.now() + 60_000;
    while (seen.length < TOTAL && Date.now() < deadline) {
      const got = await page(bob, `sort=asc&limit=9${after === null ? "" : `&after=${after}`}`);
      seen.push(...got.messages);
      if (got.newestTs !== null) after = got.newestTs;
    }
    const receipts = await sending;
    const rest = await walkAsc(bob, 100, after === null ? "" : `&after=${after}`);
    seen.push(...rest);
    const ids = seen.map((m) => m.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect([...ids].sort()).toEqual(receipts.map((r) => r.id).sort());
    expectStrictlyIncreasing(seen);
  }, 120_000);
});

describe("many senders at once", () => {
  it("50 agents sending to one inbox at the same time: none lost, none duplicated", async () => {
    const bob = await register("bob");
    const senders = await registerMany("sender", 50);
    const PER_SENDER = 2;
    const receipts = await Promise.all(
      senders.flatMap((sender) => Array.from({ length: PER_SENDER }, (_, i) => sendNow(sender, textMessage(bob.name, `${sender.name}#${i}`)))),
    );
    const walked = await walkAsc(bob, 100);
    expect(walked).toHaveLength(senders.length * PER_SENDER);
    expect(new Set(walked.map((m) => m.id)).size).toBe(walked.length);
    expect(walked.map((m) => m.id).sort()).toEqual(receipts.map((r) => r.id).sort());
    expectStrictlyIncreasing(walked);
    for (const sender of senders) {
      const mine = walked.filter((m) => m.from === sender.name);
      expect(mine.map((m) => m.payload).sort()).toEqual([`${sender.name}#0`, `${sender.name}#1`]);
    }
  }, 120_000);

  it("one agent multicasting while others send directly: every inbox gets exactly its messages", async () => {
    const inboxes = await registerMany("target", 5);
    const senders = await registerMany("mixed", 10);
    const names = inboxes.map((a) => a.name);
    const receipts = await Promise.all(
      senders.flatMap((sender, s) => [
        sendNow(sender, textMessage(names, `multi-${s}`)),
        sendNow(sender, textMessage(names[s % names.length]!, `direct-${s}`)),
      ]),
    );
    for (const [t, target] of inboxes.entries()) {
      const walked = await walkAsc(target, 4);
      const expected = senders.length + senders.filter((_, s) => s % names.length === t).length;
      expect(walked).toHaveLength(expected);
      expect(new Set(walked.map((m) => m.id)).size).toBe(expected);
      expectStrictlyIncreasing(walked);
      const multicastIds = new Set(receipts.filter((r) => r.recipients.length === names.length).map((r) => r.id));
      expect(walked.filter((m) => multicastIds.has(m.id))).toHaveLength(senders.length);
    }
  }, 120_000);
});

describe("the desc default with after", () => {
  it("returns the newest N after X, and hasMore says that older ones remain", async () => {
    const [alice, bob] = await Promise.all([register("alice"), register("bob")]);
    const receipts: SendResponse[] = [];
    for (let i = 0; i < 30; i++) receipts.push(await sendNow(alice, textMessage(bob.name, `d${i}`)));
    const x = receipts[9]!.ts;
    const newest = await page(bob, `after=${x}&limit=5`);
    expect(newest.messages.map((m) => m.id)).toEqual(receipts.slice(25).map((r) => r.id).reverse());
    expect(newest.hasMore).toBe(true);
    expect(newest.newestTs).toBe(receipts[29]!.ts);
    expect(newest.oldestTs).toBe(receipts[25]!.ts);
    // Older ones after X remain: walking down with before=oldestTs reaches X and stops.
    const older = await page(bob, `after=${x}&before=${newest.oldestTs}&limit=100`);
    expect(older.messages.map((m) => m.id)).toEqual(receipts.slice(10, 25).map((r) => r.id).reverse());
    expect(older.hasMore).toBe(false);
    // All 20 after X fit in one page: nothing more.
    const all = await page(bob, `after=${x}&limit=20`);
    expect(all.messages).toHaveLength(20);
    expect(all.hasMore).toBe(false);
    // The asc cursor from X gives the oldest ones after X instead.
    const asc = await page(bob, `sort=asc&after=${x}&limit=5`);
    expect(asc.messages.map((m) => m.id)).toEqual(receipts.slice(10, 15).map((r) => r.id));
    expect(asc.hasMore).toBe(true);
  }, 60_000);
});
