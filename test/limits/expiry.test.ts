// SPEC §4.1/§4.2 message TTL, under the limits project's MIN_TTL_S=1 and INBOX_MAX=5: a message
// is readable until its TTL passes and never after, its storage is reclaimed by the inbox's
// alarm, and expired messages stop counting against the quota.
//
// A message expires `ttl` seconds after its ts (the inbox's clock, which the test shares), so the
// tests wait for that moment, computed from the ts the send answered, never for a fixed time. What
// must happen *before* expiry gets a TTL of several seconds, far more than a few requests take on
// a loaded machine; the test checks that it really did happen in time.

import { env } from "cloudflare:workers";
import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { describe, expect, it, vi } from "vitest";
import { MessageStore } from "../../durable-objects/message-store.js";
import type { MessagePage, SendResponse } from "../../protocol/envelope.js";
import type { ErrorBody } from "../../protocol/errors.js";
import type { SeqItem } from "../../durable-objects/feed.js";
import type { AdminStats } from "../../protocol/wire-schemas.js";
import { ADMIN_KEY, call, inbox, register, send, textMessage, type TestAgent } from "../support/relay.js";

/** A TTL that outlasts the few requests a test makes right after a send, even on a slow machine. */
const READABLE_TTL_S = 3;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** When a stored message expires: `ttlS` after the ts its send answered. */
const expiryOf = (sent: SendResponse, ttlS: number): number => Date.parse(sent.ts) + ttlS * 1000;

/** Waits until the clock has passed `expiresAt` (epoch ms). */
async function until(expiresAt: number): Promise<void> {
  while (Date.now() <= expiresAt) await sleep(expiresAt - Date.now() + 1);
}

/** A send that must be stored. */
async function stored(from: TestAgent, to: TestAgent, payload: string, extra: Record<string, unknown> = {}): Promise<SendResponse> {
  const reply = await send<SendResponse>(from, textMessage(to.name, payload, extra));
  expect(reply.status, reply.text).toBe(201);
  return reply.body;
}

const ids = (page: MessagePage): string[] => page.messages.map((m) => m.id);

/** Rows in the `messages` table of an agent's Inbox object (addressed by its lowercased name). */
async function storedRows(agent: TestAgent): Promise<number> {
  const stub = env.INBOX.getByName(agent.name.toLowerCase());
  return runInDurableObject(stub, (_instance, state) => {
    const row = state.storage.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM messages").one();
    return row.n;
  });
}

/** Waits until the agent's Inbox object holds no message rows. */
async function untilNoRows(agent: TestAgent): Promise<void> {
  await vi.waitFor(async () => expect(await storedRows(agent), "rows left in the inbox").toBe(0), { timeout: 15_000, interval: 100 });
}

describe("a message with a TTL", () => {
  it("is returned before it expires and never after, by list and by id", async () => {
    const [alice, bob] = await Promise.all([register("exp_read"), register("exp_read")]);
    const sent = await stored(alice, bob, "short-lived", { ttl: READABLE_TTL_S });
    const expiresAt = expiryOf(sent, READABLE_TTL_S);

    const before = await inbox<MessagePage>(bob);
    expect(ids(before.body)).toEqual([sent.id]);
    expect((await call("GET", `/messages/${sent.id}`, { key: bob.apiKey })).status).toBe(200);
    expect(Date.now(), "the reads before expiry answered before it").toBeLessThan(expiresAt);

    await until(expiresAt);
    // Several reads after expiry, in every form: the message never comes back.
    for (let i = 0; i < 3; i++) {
      for (const query of ["", "sort=asc", "sort=desc&limit=10", `after=${new Date(expiresAt - 60_000).toISOString()}`]) {
        const after = await inbox<MessagePage>(bob, query);
        expect(after.status).toBe(200);
        expect(after.body.messages).toEqual([]);
        expect(after.body.count).toBe(0);
        expect(after.body.hasMore).toBe(false);
      }
      const byId = await call<ErrorBody>("GET", `/messages/${sent.id}`, { key: bob.apiKey });
      expect(byId.status).toBe(404);
      expect(byId.body.code).toBe("NOT_FOUND");
    }
  });

  it("expires on its own while newer, longer-lived messages stay", async () => {
    const [alice, bob] = await Promise.all([register("exp_mix"), register("exp_mix")]);
    const short = await stored(alice, bob, "short", { ttl: 1 });
    const long = await stored(alice, bob, "long", { ttl: 3600 });
    await until(expiryOf(short, 1));
    const got = await inbox<MessagePage>(bob);
    expect(ids(got.body)).toEqual([long.id]);
    // Deleting an expired message finds nothing.
    expect((await call("DELETE", `/messages/${short.id}`, { key: bob.apiKey })).status).toBe(404);
  });

  it("has its storage reclaimed by the inbox's alarm", async () => {
    const [alice, bob] = await Promise.all([register("exp_gc"), register("exp_gc")]);
    const sent: SendResponse[] = [];
    for (let i = 0; i < 3; i++) sent.push(await stored(alice, bob, `gc${i}`, { ttl: READABLE_TTL_S }));
    expect(await storedRows(bob)).toBe(3);
    expect(Date.now(), "the rows were counted before the first expired").toBeLessThan(expiryOf(sent[0]!, READABLE_TTL_S));

    // Nobody reads or writes bob's inbox any more: only the alarm can remove the rows.
    await until(expiryOf(sent[2]!, READABLE_TTL_S));
    await untilNoRows(bob);
  });

  it("is reclaimed when the alarm is run explicitly after the TTL", async () => {
    const [alice, bob] = await Promise.all([register("exp_alarm"), register("exp_alarm")]);
    const sent = await stored(alice, bob, "gone soon", { ttl: 1 });
    await until(expiryOf(sent, 1));
    const stub = env.INBOX.getByName(bob.name.toLowerCase());
    // The alarm may already have run on its own; running it again must leave nothing behind.
    await runDurableObjectAlarm(stub);
    await untilNoRows(bob);
  });

  it("leaves its ts as a floor, so ts keeps increasing after the inbox restarts empty", async () => {
    const [alice, bob] = await Promise.all([register("exp_floor"), register("exp_floor")]);
    const first = await stored(alice, bob, "soon gone", { ttl: 1 });
    const firstTs = Date.parse(first.ts);
    await until(expiryOf(first, 1));
    const stub = env.INBOX.getByName(bob.name.toLowerCase());
    await runDurableObjectAlarm(stub);
    await untilNoRows(bob);
    expect(await runInDurableObject(stub, (_instance, state) => new MessageStore(state.storage.sql).lastTs())).toBeGreaterThanOrEqual(firstTs);

    // Restart the object: abort() drops the instance, so the next call constructs a new one from storage alone.
    await runInDurableObject(stub, (instance) => {
      (instance as unknown as { restartWitness?: true }).restartWitness = true;
    });
    await expect(runInDurableObject(stub, (_instance, state) => state.abort("restart for the test"))).rejects.toThrow();
    // A stub that saw the abort stays broken; a new one reaches the new instance.
    const restarted = await runInDurableObject(env.INBOX.getByName(bob.name.toLowerCase()), (instance) => ({
      sameInstance: "restartWitness" in instance,
      lastTs: (instance as unknown as { log: { lastTs: number } }).log.lastTs,
    }));
    expect(restarted.sameInstance).toBe(false);
    expect(restarted.lastTs).toBeGreaterThanOrEqual(firstTs);
    const next = await stored(alice, bob, "after the restart");
    expect(Date.parse(next.ts)).toBeGreaterThan(firstTs);
  });

  it("shows as expired in the admin feed once the alarm removed it, and its agent leaves the backlog", async () => {
    const [alice, bob] = await Promise.all([register("exp_feed"), register("exp_feed")]);
    const sent = await stored(alice, bob, "never read", { ttl: 1 });
    const backlog = async () => (await call<AdminStats>("GET", "/admin/stats?minutes=1", { key: ADMIN_KEY })).body.backlog.find((b) => b.agent === bob.name);
    const feedItem = async () => (await call<{ messages: SeqItem[] }>("GET", `/messages?from=${alice.name}`, { key: ADMIN_KEY })).body.messages.find((m) => m.id === sent.id);
    // Nobody reads: the alarm expires the copy, and the inbox's next feed push says so.
    await until(expiryOf(sent, 1));
    await vi.waitFor(async () => expect((await feedItem())?.status).toBe("expired"), { timeout: 15_000, interval: 100 });
    const item = (await feedItem())!;
    expect(item.via).toBeUndefined();
    expect(Date.parse(item.statusAt!)).toBeGreaterThanOrEqual(expiryOf(sent, 1));
    await vi.waitFor(async () => expect(await backlog()).toBeUndefined(), { timeout: 15_000, interval: 100 });
  });

  it("is refused below MIN_TTL_S or when not a whole number of seconds", async () => {
    const [alice, bob] = await Promise.all([register("exp_bad"), register("exp_bad")]);
    for (const ttl of [0, -1, 1.5, "60"]) {
      const refused = await send<ErrorBody>(alice, textMessage(bob.name, "x", { ttl }));
      expect(refused.status, `ttl ${JSON.stringify(ttl)}`).toBe(400);
      expect(refused.body.code).toBe("BAD_REQUEST");
      expect(refused.body.error).toContain("ttl");
    }
    expect((await inbox<MessagePage>(bob)).body.messages).toEqual([]);
  });
});

describe("a full inbox whose messages expired", () => {
  it("accepts new sends again", async () => {
    const [alice, other, bob] = await Promise.all([register("exp_full"), register("exp_full"), register("exp_full")]);
    // INBOX_MAX=5: four messages that stay, then one that expires, so the inbox is full until it does.
    const kept: string[] = [];
    for (let i = 0; i < 4; i++) kept.push((await stored(alice, bob, `keep${i}`)).id);
    const last = await stored(alice, bob, "fill", { ttl: READABLE_TTL_S });
    const full = await send<ErrorBody>(other, textMessage(bob.name, "no room yet"));
    expect(full.status).toBe(507);
    expect(full.body.code).toBe("INBOX_FULL");
    expect(Date.now(), "the inbox was full before the last message expired").toBeLessThan(expiryOf(last, READABLE_TTL_S));

    await until(expiryOf(last, READABLE_TTL_S));
    const accepted = await stored(other, bob, "room now");
    const got = await inbox<MessagePage>(bob, "limit=10&sort=asc");
    expect(ids(got.body)).toEqual([...kept, accepted.id]);
  });

  it("has room for a full INBOX_MAX again", async () => {
    const [alice, other, third, bob] = await Promise.all(Array.from({ length: 4 }, () => register("exp_refill")));
    const old: SendResponse[] = [];
    for (let i = 0; i < 5; i++) old.push(await stored(alice!, bob!, `old${i}`, { ttl: 1 }));
    await until(expiryOf(old[4]!, 1));
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) statuses.push((await send(other!, textMessage(bob!.name, `new${i}`))).status);
    expect(statuses).toEqual([201, 201, 201, 201, 201]);
    expect((await send(third!, textMessage(bob!.name, "sixth"))).status).toBe(507);
  });
});
