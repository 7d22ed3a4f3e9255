// Broadcast (SPEC §4.1): answered 201 once recorded in the sender's Inbox, then fanned out by
// its alarm in batches (FANOUT_BATCH = 40 agents per run) to every agent except the sender.
//
// A broadcast reaches every agent of the relay under test, not only this file's: the assertions
// below look only at this file's agents and at messages from this file's senders.

import { describe, expect, it, vi } from "vitest";
import type { Envelope, MessagePage, SendResponse } from "../../protocol/envelope.js";
import type { ErrorBody } from "../../protocol/errors.js";
import { ADMIN_KEY, call, register, send, textMessage, uniqueName, type TestAgent } from "../support/relay.js";

/** The agent's messages from `sender`, oldest first. */
async function from(agent: TestAgent, sender: TestAgent): Promise<Envelope[]> {
  const reply = await call<MessagePage<Envelope>>("GET", `/messages?sort=asc&limit=100&from=${sender.name}`, { key: agent.apiKey });
  expect(reply.status).toBe(200);
  return reply.body.messages;
}

/** Registers agents whose names sort after the sender's, so the fan-out (in name order) passes the sender first. */
async function listeners(n: number): Promise<TestAgent[]> {
  const replies = await Promise.all(
    Array.from({ length: n }, () => call<TestAgent>("POST", "/agents", { key: ADMIN_KEY, json: { name: uniqueName("zlisten") } })),
  );
  for (const reply of replies) expect(reply.status).toBe(201);
  return replies.map((r) => r.body);
}

/** Waits until every agent holds the message `id` from `sender`; returns each agent's copies of it. */
async function untilAllHave(agents: TestAgent[], sender: TestAgent, id: string, timeoutMs = 20_000): Promise<Map<string, Envelope[]>> {
  const copies = new Map<string, Envelope[]>();
  await vi.waitFor(
    async () => {
      const missing = agents.filter((a) => !copies.has(a.name));
      const found = await Promise.all(missing.map(async (a) => [a, (await from(a, sender)).filter((m) => m.id === id)] as const));
      for (const [agent, mine] of found) if (mine.length > 0) copies.set(agent.name, mine);
      expect(copies.size, `inboxes holding broadcast ${id}`).toBe(agents.length);
    },
    { timeout: timeoutMs, interval: 100 },
  );
  return copies;
}

const broadcastBody = (payload: string, extra: Record<string, unknown> = {}) => textMessage("broadcast", payload, extra);

describe("broadcast", () => {
  it("answers 201 with the id, the ts, no recipients and a queued fan-out", async () => {
    const caster = await register("caster");
    const reply = await send(caster, broadcastBody("hello all"));
    expect(reply.status).toBe(201);
    const body = reply.body as SendResponse;
    expect(Object.keys(body).sort()).toEqual(["broadcast", "id", "recipients", "ts"]);
    expect(body.recipients).toEqual([]);
    expect(body.broadcast).toEqual({ status: "queued" });
    expect(body.ts).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
    expect(typeof body.id).toBe("string");
  });

  it("reaches every other agent once, with the same id and `to: broadcast`, but not the sender", async () => {
    const caster = await register("caster");
    const others = await listeners(5);
    const sent = { topic: "announce", correlationId: "bc-1", sentAt: "2026-04-01T08:00:00.000Z", type: "notification" };
    const reply = await send<SendResponse>(caster, broadcastBody("to everyone", sent));
    expect(reply.status).toBe(201);
    const id = reply.body.id as string;
    const copies = await untilAllHave(others, caster, id);
    for (const agent of others) {
      const mine = copies.get(agent.name)!;
      expect(mine).toHaveLength(1);
      const copy = mine[0]!;
      // `delivered`: whether this copy had been read before (the polling above reads it).
      expect(copy).toEqual({ ...broadcastBody("to everyone", sent), id, from: caster.name, ts: copy.ts, depth: 0, delivered: expect.any(Boolean) });
      expect(copy.ts).toMatch(/Z$/);
    }
    // The fan-out visits agents in name order and the sender's name sorts first, so by now it
    // has passed the sender; the sender's inbox has no copy.
    const own = await call<Envelope>("GET", `/messages/${id}`, { key: caster.apiKey });
    expect(own.status).toBe(404);
  });

  it("keeps a client-chosen id; a replay with it answers 200 with the original answer and stores nothing new", async () => {
    const caster = await register("caster");
    const others = await listeners(3);
    const id = crypto.randomUUID();
    const body = broadcastBody("only once", { id });
    const first = await send<SendResponse>(caster, body);
    expect(first.status).toBe(201);
    expect(first.body.id).toBe(id);
    await untilAllHave(others, caster, id);
    const replay = await send(caster, body);
    expect(replay.status).toBe(200);
    expect(replay.body).toEqual(first.body);
    // A later broadcast from the same sender is fanned out after anything the replay could have
    // queued; once it has arrived everywhere, each inbox still holds one copy of the first.
    const later = await send<SendResponse>(caster, broadcastBody("afterwards"));
    await untilAllHave(others, caster, later.body.id);
    for (const agent of others) expect((await from(agent, caster)).filter((m) => m.id === id)).toHaveLength(1);
  });

  it("a broadcast with an id already used for different content answers 409", async () => {
    const caster = await register("caster");
    const id = crypto.randomUUID();
    expect((await send(caster, broadcastBody("first", { id }))).status).toBe(201);
    const reply = await send<ErrorBody>(caster, broadcastBody("second", { id }));
    expect(reply.status).toBe(409);
    expect(reply.body.code).toBe("CONFLICT");
  });

  it("an Idempotency-Key makes a broadcast replay answer 200 with the same id", async () => {
    const caster = await register("caster");
    const others = await listeners(2);
    const headers = { "Idempotency-Key": `bc-${crypto.randomUUID()}` };
    const first = await send<SendResponse>(caster, broadcastBody("keyed"), headers);
    expect(first.status).toBe(201);
    const replay = await send(caster, broadcastBody("keyed"), headers);
    expect(replay.status).toBe(200);
    expect(replay.body).toEqual(first.body);
    const changed = await send(caster, broadcastBody("other words"), headers);
    expect(changed.status).toBe(409);
    const copies = await untilAllHave(others, caster, first.body.id);
    for (const agent of others) expect(copies.get(agent.name)).toHaveLength(1);
  });

  it("reaches all of 120 agents (more than three fan-out batches of 40)", async () => {
    const caster = await register("caster");
    const others = await listeners(120);
    const reply = await send<SendResponse>(caster, broadcastBody("to a crowd", { topic: "crowd" }));
    expect(reply.status).toBe(201);
    const copies = await untilAllHave(others, caster, reply.body.id, 60_000);
    expect(copies.size).toBe(120);
    for (const mine of copies.values()) expect(mine).toHaveLength(1);
  }, 120_000);
});

describe("a broadcast's receipts (SPEC §11.1)", () => {
  type Counts = { total: number; stored: number; delivered: number; acked: number; rejected: number };
  const counts = async (caster: TestAgent, id: string) => {
    const reply = await call<{ id: string; ts: string; broadcast: Counts }>("GET", `/messages/${id}/receipts`, { key: caster.apiKey });
    expect(reply.status).toBe(200);
    expect(Object.keys(reply.body).sort()).toEqual(["broadcast", "id", "ts"]);
    return reply.body.broadcast;
  };

  it("are counts, not a row per agent: stored once fanned out, then delivered and acked as this file's listeners read and ack", async () => {
    const caster = await register("caster");
    const others = await listeners(4);
    const reply = await send<SendResponse>(caster, broadcastBody("count me"));
    const id = reply.body.id;
    await untilAllHave(others, caster, id); // each listener has read it once (a page with from=)
    // Every agent of this relay but the sender got a copy (other files' agents too): the counts
    // add up, and cover at least this file's listeners.
    await vi.waitFor(async () => expect((await counts(caster, id)).delivered).toBeGreaterThanOrEqual(others.length), { timeout: 20_000, interval: 200 });
    const read = await counts(caster, id);
    expect(read.total).toBe(read.stored + read.rejected);
    expect(read.stored).toBeGreaterThanOrEqual(others.length);
    for (const agent of others) expect((await call("DELETE", `/messages/${id}`, { key: agent.apiKey })).status).toBe(204);
    await vi.waitFor(async () => expect((await counts(caster, id)).acked).toBeGreaterThanOrEqual(others.length), { timeout: 20_000, interval: 200 });
  });
});

describe("a broadcast and the contact policy (SPEC §12)", () => {
  it("skips an inbox that accepts contacts only (counted as rejected) and reaches the others", async () => {
    const caster = await register("caster");
    // The fan-out goes in name order: once the last listener has the copy, it has passed the first.
    const [closed, , last] = (await listeners(3)).sort((a, b) => (a.name.toLowerCase() < b.name.toLowerCase() ? -1 : 1));
    expect((await call("PATCH", `/agents/${closed!.name}`, { key: closed!.apiKey, json: { accept: "contacts", contacts: [] } })).status).toBe(200);
    const reply = await send<SendResponse>(caster, broadcastBody("to whoever accepts"));
    await untilAllHave([last!], caster, reply.body.id);
    expect(await from(closed!, caster)).toEqual([]);
    // The batch's receipt rows are written once all its inboxes answered.
    await vi.waitFor(
      async () => {
        const counts = await call<{ broadcast: { rejected: number; stored: number; total: number } }>("GET", `/messages/${reply.body.id}/receipts`, { key: caster.apiKey });
        expect(counts.body.broadcast.rejected).toBeGreaterThanOrEqual(1);
        expect(counts.body.broadcast.total).toBe(counts.body.broadcast.stored + counts.body.broadcast.rejected);
      },
      { timeout: 20_000, interval: 100 },
    );
  });
});
