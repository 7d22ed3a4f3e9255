// SPEC §4.1/§4.2 message TTL, under the limits project's MIN_TTL_S=1 and INBOX_MAX=5: a message
// is readable until its TTL passes and never after, its storage is reclaimed by the inbox's
// alarm, and expired messages stop counting against the quota.

import { env } from "cloudflare:workers";
import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { MessageStore } from "../../durable-objects/message-store.js";
import { call, eventually, inbox, register, send, textMessage, type TestAgent } from "../support/relay.js";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Waits until `ms` have passed since `start` (epoch ms). */
async function until(start: number, ms: number): Promise<void> {
  const left = start + ms - Date.now();
  if (left > 0) await sleep(left);
}

/** Rows in the `messages` table of an agent's Inbox object (addressed by its lowercased name). */
async function storedRows(agent: TestAgent): Promise<number> {
  const stub = env.INBOX.getByName(agent.name.toLowerCase());
  return runInDurableObject(stub, (_instance, state) => {
    const row = state.storage.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM messages").one();
    return row.n;
  });
}

describe("a message with a TTL", () => {
  it("is returned before it expires and never after, by list and by id", async () => {
    const [alice, bob] = await Promise.all([register("exp_read"), register("exp_read")]);
    const sentAt = Date.now();
    const sent = await send(alice, textMessage(bob.name, "short-lived", { ttl: 1 }));
    expect(sent.status).toBe(201);

    // Read at once: well inside the second.
    const before = await inbox(bob);
    expect(before.body.messages.map((m: { id: string }) => m.id)).toEqual([sent.body.id]);
    expect((await call("GET", `/messages/${sent.body.id}`, { key: bob.apiKey })).status).toBe(200);

    await until(sentAt, 1500);
    // Several reads after expiry, in every form: the message never comes back.
    for (let i = 0; i < 3; i++) {
      for (const query of ["", "sort=asc", "sort=desc&limit=10", `after=${new Date(sentAt - 60_000).toISOString()}`]) {
        const after = await inbox(bob, query);
        expect(after.status).toBe(200);
        expect(after.body.messages).toEqual([]);
        expect(after.body.count).toBe(0);
        expect(after.body.hasMore).toBe(false);
      }
      const byId = await call("GET", `/messages/${sent.body.id}`, { key: bob.apiKey });
      expect(byId.status).toBe(404);
      expect(byId.body.code).toBe("NOT_FOUND");
      await sleep(100);
    }
  });

  it("expires on its own while newer, longer-lived messages stay", async () => {
    const [alice, bob] = await Promise.all([register("exp_mix"), register("exp_mix")]);
    const sentAt = Date.now();
    const short = await send(alice, textMessage(bob.name, "short", { ttl: 1 }));
    const long = await send(alice, textMessage(bob.name, "long", { ttl: 3600 }));
    expect([short.status, long.status]).toEqual([201, 201]);
    await until(sentAt, 1500);
    const got = await inbox(bob);
    expect(got.body.messages.map((m: { id: string }) => m.id)).toEqual([long.body.id]);
    // Deleting an expired message finds nothing.
    expect((await call("DELETE", `/messages/${short.body.id}`, { key: bob.apiKey })).status).toBe(404);
  });

  it("has its storage reclaimed by the inbox's alarm", async () => {
    const [alice, bob] = await Promise.all([register("exp_gc"), register("exp_gc")]);
    const sentAt = Date.now();
    for (let i = 0; i < 3; i++) expect((await send(alice, textMessage(bob.name, `gc${i}`, { ttl: 1 }))).status).toBe(201);
    expect(await storedRows(bob)).toBe(3);

    // Nobody reads or writes bob's inbox any more: only the alarm can remove the rows.
    await until(sentAt, 1200);
    await eventually(async () => (await storedRows(bob)) === 0, 15_000, "expired rows to be deleted by the alarm");
  });

  it("is reclaimed when the alarm is run explicitly after the TTL", async () => {
    const [alice, bob] = await Promise.all([register("exp_alarm"), register("exp_alarm")]);
    const sentAt = Date.now();
    expect((await send(alice, textMessage(bob.name, "gone soon", { ttl: 1 }))).status).toBe(201);
    await until(sentAt, 1200);
    const stub = env.INBOX.getByName(bob.name.toLowerCase());
    // The alarm may already have run on its own; running it again must leave nothing behind.
    await runDurableObjectAlarm(stub);
    await eventually(async () => (await storedRows(bob)) === 0, 15_000, "expired rows to be deleted");
  });

  it("leaves its ts as a floor, so ts keeps increasing after the inbox restarts empty", async () => {
    const [alice, bob] = await Promise.all([register("exp_floor"), register("exp_floor")]);
    const sentAt = Date.now();
    const first = await send(alice, textMessage(bob.name, "soon gone", { ttl: 1 }));
    const firstTs = Date.parse(first.body.ts);
    await until(sentAt, 1200);
    const stub = env.INBOX.getByName(bob.name.toLowerCase());
    await runDurableObjectAlarm(stub);
    await eventually(async () => (await storedRows(bob)) === 0, 15_000, "expired rows to be deleted");
    // What a restarted object reads back as its last ts (MessageStore.lastTs) with no rows left.
    const recovered = await runInDurableObject(stub, (_instance, state) =>
      new MessageStore(state.storage.sql).lastTs(),
    );
    expect(recovered).toBeGreaterThanOrEqual(firstTs);
  });

  it("is refused below MIN_TTL_S or when not a whole number of seconds", async () => {
    const [alice, bob] = await Promise.all([register("exp_bad"), register("exp_bad")]);
    for (const ttl of [0, -1, 1.5, "60"]) {
      const refused = await send(alice, textMessage(bob.name, "x", { ttl }));
      expect(refused.status, `ttl ${JSON.stringify(ttl)}`).toBe(400);
      expect(refused.body.code).toBe("BAD_REQUEST");
      expect(refused.body.error).toContain("ttl");
    }
    expect((await inbox(bob)).body.messages).toEqual([]);
  });
});

describe("a full inbox whose messages expired", () => {
  it("accepts new sends again", async () => {
    const [alice, other, bob] = await Promise.all([register("exp_full"), register("exp_full"), register("exp_full")]);
    // INBOX_MAX=5 messages that live 3 s: long enough to see the inbox full first.
    for (let i = 0; i < 5; i++) expect((await send(alice, textMessage(bob.name, `fill${i}`, { ttl: 3 }))).status).toBe(201);
    const filledAt = Date.now();
    const full = await send(other, textMessage(bob.name, "no room yet"));
    expect(full.status).toBe(507);
    expect(full.body.code).toBe("INBOX_FULL");

    await until(filledAt, 3500);
    const accepted = await send(other, textMessage(bob.name, "room now"));
    expect(accepted.status).toBe(201);
    const got = await inbox(bob, "limit=10");
    expect(got.body.messages.map((m: { id: string }) => m.id)).toEqual([accepted.body.id]);
  });

  it("has room for a full INBOX_MAX again", async () => {
    const [alice, other, third, bob] = await Promise.all(Array.from({ length: 4 }, () => register("exp_refill")));
    for (let i = 0; i < 5; i++) expect((await send(alice!, textMessage(bob!.name, `old${i}`, { ttl: 1 }))).status).toBe(201);
    const filledAt = Date.now();
    await until(filledAt, 1500);
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) statuses.push((await send(other!, textMessage(bob!.name, `new${i}`))).status);
    expect(statuses).toEqual([201, 201, 201, 201, 201]);
    expect((await send(third!, textMessage(bob!.name, "sixth"))).status).toBe(507);
  });
});
