// SPEC §4.1 rate limits, under the limits project's small numbers: RATE_LIMIT_PER_MIN=5 (a fresh
// agent may send 5 at once), INBOX_MAX=5. (The broadcast limit is tested in test/broadcast/.)

import { describe, expect, it } from "vitest";
import type { MessagePage, SendResponse } from "../../protocol/envelope.js";
import type { ErrorBody } from "../../protocol/errors.js";
import { call, inbox, register, send, textMessage, type Reply, type TestAgent } from "../support/relay.js";

const RATE = 5;

/** n fresh agents at once. */
async function agents(prefix: string, n: number): Promise<TestAgent[]> {
  return Promise.all(Array.from({ length: n }, () => register(prefix)));
}

/** The status of each reply, counted: { 201: 5, 429: 3 }. */
function statusCounts(replies: Reply[]): Record<number, number> {
  const counts: Record<number, number> = {};
  for (const reply of replies) counts[reply.status] = (counts[reply.status] ?? 0) + 1;
  return counts;
}

/** Checks a reply is a well-formed 429 and returns its retryAfter. */
function expectRateLimited(reply: Reply): number {
  expect(reply.status).toBe(429);
  const header = reply.headers.get("Retry-After");
  expect(header).toMatch(/^\d+$/);
  const seconds = Number(header);
  expect(seconds).toBeGreaterThanOrEqual(1);
  expect(reply.body).toMatchObject({ code: "RATE_LIMITED", error: expect.any(String), retryAfter: seconds });
  return seconds;
}

describe("the send rate limit (per sending agent)", () => {
  it("lets a fresh agent send its whole allowance at once, then answers 429 with Retry-After", async () => {
    const [alice, bob] = await agents("rl_burst", 2);
    const burst = await Promise.all(Array.from({ length: RATE }, (_, i) => send(alice!, textMessage(bob!.name, `m${i}`))));
    expect(burst.map((r) => r.status)).toEqual(Array(RATE).fill(201));

    const sixth = await send(alice!, textMessage(bob!.name, "one too many"));
    const retryAfter = expectRateLimited(sixth);
    // 5 per minute refill one every 12 s: the wait is never longer than the whole window.
    expect(retryAfter).toBeLessThanOrEqual(60);

    // The refused send stored nothing.
    const got = await inbox<MessagePage>(bob!, "limit=10");
    expect(got.body.messages.map((m) => m.payload).sort()).toEqual(["m0", "m1", "m2", "m3", "m4"]);
  });

  it("counts exactly under concurrency: of 8 concurrent sends, exactly 5 are stored", async () => {
    const [alice, bob] = await agents("rl_race", 2);
    // The 429s' bodies are errors, checked by expectRateLimited; only the 201s' ids are read.
    const replies = await Promise.all(Array.from({ length: 8 }, (_, i) => send<SendResponse>(alice!, textMessage(bob!.name, `race${i}`))));
    expect(statusCounts(replies)).toEqual({ 201: 5, 429: 3 });
    for (const refused of replies.filter((r) => r.status === 429)) expectRateLimited(refused);

    const got = await inbox<MessagePage>(bob!, "limit=10");
    expect(got.body.count).toBe(5);
    const storedIds = got.body.messages.map((m) => m.id).sort();
    expect(storedIds).toEqual(replies.filter((r) => r.status === 201).map((r) => r.body.id).sort());
  });

  it("does not count a rejected request: bad body, unknown recipient, full inbox", async () => {
    const [alice, bob, full, filler] = await agents("rl_reject", 4);
    // Fill `full`'s inbox (INBOX_MAX=5) from another sender.
    for (let i = 0; i < 5; i++) expect((await send(filler!, textMessage(full!.name, `fill${i}`))).status).toBe(201);

    const invalid = await send(alice!, { to: bob!.name, type: "shout", encrypted: false, payload: "x" });
    expect(invalid.status).toBe(400);
    const notJson = await call("POST", "/messages", { key: alice!.apiKey, raw: "{not json" });
    expect(notJson.status).toBe(400);
    const unknown = await send<ErrorBody>(alice!, textMessage("nobody_" + bob!.name.slice(-10), "x"));
    expect(unknown.status).toBe(404);
    expect(unknown.body.code).toBe("UNKNOWN_RECIPIENT");
    for (let i = 0; i < 2; i++) {
      const refused = await send<ErrorBody>(alice!, textMessage(full!.name, "no room"));
      expect(refused.status).toBe(507);
      expect(refused.body.code).toBe("INBOX_FULL");
    }

    // Six rejected requests later, the whole allowance is still there.
    const burst = await Promise.all(Array.from({ length: RATE }, (_, i) => send(alice!, textMessage(bob!.name, `ok${i}`))));
    expect(burst.map((r) => r.status)).toEqual(Array(RATE).fill(201));
    expectRateLimited(await send(alice!, textMessage(bob!.name, "over")));
  });

  it("does not count a rejected request even while it is in flight beside accepted ones", async () => {
    const [alice, bob, full, filler] = await agents("rl_inflight", 4);
    for (let i = 0; i < 5; i++) expect((await send(filler!, textMessage(full!.name, `fill${i}`))).status).toBe(201);

    // Five sends to a full inbox and five good ones, all at once: the refused ones must not
    // hold the allowance that the good ones need.
    const replies = await Promise.all([
      ...Array.from({ length: RATE }, () => send(alice!, textMessage(full!.name, "no room"))),
      ...Array.from({ length: RATE }, (_, i) => send(alice!, textMessage(bob!.name, `good${i}`))),
    ]);
    expect(replies.slice(RATE).map((r) => r.status)).toEqual(Array(RATE).fill(201));
    // A refused send may meet the rate limit first (429) or the full inbox (507).
    for (const refused of replies.slice(0, RATE)) expect([429, 507]).toContain(refused.status);
  });

  it("counts a multicast once, whatever the number of recipients", async () => {
    const [alice, bob, carol, dave] = await agents("rl_multi", 4);
    const multicast = await send<SendResponse>(alice!, textMessage([bob!.name, carol!.name, dave!.name], "to three"));
    expect(multicast.status).toBe(201);
    expect(multicast.body.recipients).toHaveLength(3);

    // One request used, four left.
    const rest = await Promise.all(Array.from({ length: RATE - 1 }, (_, i) => send(alice!, textMessage(bob!.name, `direct${i}`))));
    expect(rest.map((r) => r.status)).toEqual(Array(RATE - 1).fill(201));
    expectRateLimited(await send(alice!, textMessage([carol!.name, dave!.name], "over")));
  });

  it("limits each agent separately: another agent's sends are unaffected", async () => {
    const [alice, bob, carol, dave] = await agents("rl_peer", 4);
    const aliceBurst = await Promise.all(Array.from({ length: RATE + 1 }, () => send(alice!, textMessage(carol!.name, "a"))));
    expect(statusCounts(aliceBurst)).toEqual({ 201: 5, 429: 1 });

    // Right after alice ran out, bob still has his whole allowance.
    const bobBurst = await Promise.all(Array.from({ length: RATE }, () => send(bob!, textMessage(dave!.name, "b"))));
    expect(bobBurst.map((r) => r.status)).toEqual(Array(RATE).fill(201));
    expectRateLimited(await send(bob!, textMessage(dave!.name, "over")));
  });
});
