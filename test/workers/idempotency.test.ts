// Idempotent sends (SPEC §4.1): a client-chosen `id`, or an `Idempotency-Key` header for
// relay-generated ids, makes a send idempotent per recipient inbox. Same content: 200 with the
// original answer and nothing new stored. Different content: 409. Remembered after an ack too.

import { describe, expect, it } from "vitest";
import type { Envelope, MessagePage, SendResponse } from "../../protocol/envelope.js";
import type { ErrorBody } from "../../protocol/errors.js";
import { call, inbox, register, send, textMessage, type TestAgent } from "../support/relay.js";

async function messages(agent: TestAgent): Promise<Envelope[]> {
  const reply = await inbox<MessagePage<Envelope>>(agent, "sort=asc");
  expect(reply.status).toBe(200);
  return reply.body.messages;
}

async function ack(agent: TestAgent, id: string): Promise<void> {
  const reply = await call("POST", "/messages/ack", { key: agent.apiKey, json: { ids: [id] } });
  expect(reply.body).toEqual({ deleted: [id], missing: [] });
}

describe("a client-chosen id", () => {
  it("same id and same content answers 200 with the original response and stores nothing new", async () => {
    const [alice, bob] = await Promise.all([register("alice"), register("bob")]);
    const id = crypto.randomUUID();
    const body = textMessage(bob.name, "once", { id, topic: "idem" });
    const first = await send<SendResponse>(alice, body);
    expect(first.status).toBe(201);
    const replay = await send(alice, body);
    expect(replay.status).toBe(200);
    expect(replay.body).toEqual(first.body);
    expect((replay.body as SendResponse).ts).toBe((first.body as SendResponse).ts);
    const stored = await messages(bob);
    expect(stored).toHaveLength(1);
    expect(stored[0]).toMatchObject({ id, ts: first.body.ts, payload: "once" });
  });

  it("recognises the same content written with other key order, whitespace and nulls", async () => {
    const [alice, bob] = await Promise.all([register("alice"), register("bob")]);
    const id = crypto.randomUUID();
    const first = await send(alice, { to: bob.name, type: "request", encrypted: false, payload: { b: 1, a: [1, 2] }, id });
    expect(first.status).toBe(201);
    const raw = `{ "id": "${id}",  "payload": {"a":[1, 2], "b":1},\n "encrypted": false, "type": "request", "topic": null, "to": "${bob.name}" }`;
    const replay = await call("POST", "/messages", { key: alice.apiKey, raw });
    expect(replay.status).toBe(200);
    expect(replay.body).toEqual(first.body);
    expect(await messages(bob)).toHaveLength(1);
  });

  it("same id with different content answers 409 CONFLICT and keeps the original", async () => {
    const [alice, bob] = await Promise.all([register("alice"), register("bob")]);
    const id = crypto.randomUUID();
    expect((await send(alice, textMessage(bob.name, "original", { id }))).status).toBe(201);
    for (const changed of [
      textMessage(bob.name, "changed", { id }),
      textMessage(bob.name, "original", { id, topic: "new-topic" }),
      textMessage(bob.name, "original", { id, ttl: 3600 }),
      { ...textMessage(bob.name, "original", { id }), type: "request" },
    ]) {
      const reply = await send<ErrorBody>(alice, changed);
      expect(reply.status).toBe(409);
      expect(reply.body.code).toBe("CONFLICT");
    }
    const stored = await messages(bob);
    expect(stored).toHaveLength(1);
    expect(stored[0]).toMatchObject({ id, payload: "original" });
    expect("topic" in stored[0]!).toBe(false);
  });

  it("is still recognised after the message was acked: the replay answers 200 and is not stored again", async () => {
    const [alice, bob] = await Promise.all([register("alice"), register("bob")]);
    const id = crypto.randomUUID();
    const body = textMessage(bob.name, "ack me", { id });
    const first = await send(alice, body);
    expect(first.status).toBe(201);
    await ack(bob, id);
    const replay = await send(alice, body);
    expect(replay.status).toBe(200);
    expect(replay.body).toEqual(first.body);
    expect(await messages(bob)).toEqual([]);
    expect((await call("GET", `/messages/${id}`, { key: bob.apiKey })).status).toBe(404);
  });

  it("is still recognised after DELETE: different content answers 409", async () => {
    const [alice, bob] = await Promise.all([register("alice"), register("bob")]);
    const id = crypto.randomUUID();
    expect((await send(alice, textMessage(bob.name, "first", { id }))).status).toBe(201);
    expect((await call("DELETE", `/messages/${id}`, { key: bob.apiKey })).status).toBe(204);
    const reply = await send<ErrorBody>(alice, textMessage(bob.name, "second", { id }));
    expect(reply.status).toBe(409);
    expect(reply.body.code).toBe("CONFLICT");
    expect(await messages(bob)).toEqual([]);
  });

  it("the same body from another sender with the same id is another message: 409 in that inbox", async () => {
    const [alice, mallory, bob] = await Promise.all([register("alice"), register("mallory"), register("bob")]);
    const id = crypto.randomUUID();
    const body = textMessage(bob.name, "same words", { id });
    expect((await send(alice, body)).status).toBe(201);
    const other = await send<ErrorBody>(mallory, body);
    expect(other.status).toBe(409);
    expect(other.body.code).toBe("CONFLICT");
    const stored = await messages(bob);
    expect(stored).toHaveLength(1);
    expect(stored[0]!.from).toBe(alice.name);
  });

  it("identical sends racing with one id store one message: one 201, the others 200 with the same answer", async () => {
    const [alice, bob] = await Promise.all([register("alice"), register("bob")]);
    const id = crypto.randomUUID();
    const body = textMessage(bob.name, "race", { id });
    const replies = await Promise.all(Array.from({ length: 6 }, () => send(alice, body)));
    expect(replies.map((r) => r.status).sort()).toEqual([200, 200, 200, 200, 200, 201]);
    for (const reply of replies) expect(reply.body).toEqual(replies[0]!.body);
    expect((await messages(bob)).map((m) => m.id)).toEqual([id]);
  });

  it("is per recipient inbox: the same id may be used towards another agent", async () => {
    const [alice, bob, carol] = await Promise.all([register("alice"), register("bob"), register("carol")]);
    const id = crypto.randomUUID();
    expect((await send(alice, textMessage(bob.name, "to bob", { id }))).status).toBe(201);
    const toCarol = await send<SendResponse>(alice, textMessage(carol.name, "to carol", { id }));
    expect(toCarol.status).toBe(201);
    expect(toCarol.body.id).toBe(id);
    expect((await messages(carol))[0]).toMatchObject({ id, payload: "to carol" });
  });

  it("a multicast replay answers 200 with every recipient's original ts and stores nothing new", async () => {
    const [alice, bob, carol, dave] = await Promise.all([register("alice"), register("bob"), register("carol"), register("dave")]);
    const id = crypto.randomUUID();
    const body = textMessage([bob.name, carol.name, dave.name], "group", { id });
    const first = await send(alice, body);
    expect(first.status).toBe(201);
    // Something else arrives in between, so a re-store would get a new ts.
    await send(alice, textMessage(bob.name, "in between"));
    const replay = await send(alice, body);
    expect(replay.status).toBe(200);
    expect(replay.body).toEqual(first.body);
    expect((replay.body as SendResponse).recipients).toHaveLength(3);
    for (const agent of [bob, carol, dave]) {
      const copies = (await messages(agent)).filter((m) => m.id === id);
      expect(copies).toHaveLength(1);
      expect(copies[0]!.ts).toBe((first.body as SendResponse).recipients.find((r) => r.name === agent.name)!.ts);
    }
  });

  it("a multicast that is new for some recipients stores it only there and answers 201", async () => {
    const [alice, bob, carol] = await Promise.all([register("alice"), register("bob"), register("carol")]);
    const id = crypto.randomUUID();
    const direct = await send(alice, textMessage(bob.name, "shared", { id }));
    expect(direct.status).toBe(201);
    // Different content (to differs), so Bob's inbox holds a different message under this id.
    const multi = await send(alice, textMessage([bob.name, carol.name], "shared", { id }));
    expect(multi.status).toBe(201);
    expect((multi.body as SendResponse).recipients.map((r) => r.name)).toEqual([carol.name]);
    expect((multi.body as SendResponse).rejected).toEqual([{ name: bob.name, code: "CONFLICT" }]);
    expect(await messages(bob)).toHaveLength(1);
    expect((await messages(carol)).map((m) => m.id)).toEqual([id]);
  });
});

describe("the Idempotency-Key header", () => {
  it("same key and same body answers 200 with the same relay-generated id and ts", async () => {
    const [alice, bob] = await Promise.all([register("alice"), register("bob")]);
    const headers = { "Idempotency-Key": `key-${crypto.randomUUID()}` };
    const body = textMessage(bob.name, "keyed");
    const first = await send<SendResponse>(alice, body, headers);
    expect(first.status).toBe(201);
    const replay = await send(alice, body, headers);
    expect(replay.status).toBe(200);
    expect(replay.body).toEqual(first.body);
    expect((await messages(bob)).map((m) => m.id)).toEqual([first.body.id]);
  });

  it("same key with a different body answers 409 CONFLICT", async () => {
    const [alice, bob] = await Promise.all([register("alice"), register("bob")]);
    const headers = { "Idempotency-Key": `key-${crypto.randomUUID()}` };
    expect((await send(alice, textMessage(bob.name, "one"), headers)).status).toBe(201);
    const reply = await send<ErrorBody>(alice, textMessage(bob.name, "two"), headers);
    expect(reply.status).toBe(409);
    expect(reply.body.code).toBe("CONFLICT");
    expect((await messages(bob)).map((m) => m.payload)).toEqual(["one"]);
  });

  it("is remembered after the message was acked", async () => {
    const [alice, bob] = await Promise.all([register("alice"), register("bob")]);
    const headers = { "Idempotency-Key": `key-${crypto.randomUUID()}` };
    const body = textMessage(bob.name, "keyed ack");
    const first = await send<SendResponse>(alice, body, headers);
    await ack(bob, first.body.id);
    const replay = await send(alice, body, headers);
    expect(replay.status).toBe(200);
    expect(replay.body).toEqual(first.body);
    expect(await messages(bob)).toEqual([]);
  });

  it("identical sends racing with one key store one message", async () => {
    const [alice, bob] = await Promise.all([register("alice"), register("bob")]);
    const headers = { "Idempotency-Key": `race-${crypto.randomUUID()}` };
    const replies = await Promise.all(Array.from({ length: 6 }, () => send(alice, textMessage(bob.name, "keyed race"), headers)));
    expect(replies.map((r) => r.status).sort()).toEqual([200, 200, 200, 200, 200, 201]);
    for (const reply of replies) expect(reply.body).toEqual(replies[0]!.body);
    expect(await messages(bob)).toHaveLength(1);
  });

  it("different keys with the same body are two messages", async () => {
    const [alice, bob] = await Promise.all([register("alice"), register("bob")]);
    const body = textMessage(bob.name, "twice");
    const a = await send<SendResponse>(alice, body, { "Idempotency-Key": `a-${crypto.randomUUID()}` });
    const b = await send<SendResponse>(alice, body, { "Idempotency-Key": `b-${crypto.randomUUID()}` });
    expect([a.status, b.status]).toEqual([201, 201]);
    expect(a.body.id).not.toBe(b.body.id);
    expect(await messages(bob)).toHaveLength(2);
  });

  it("belongs to its sender: another agent using the same key sends a new message", async () => {
    const [alice, carol, bob] = await Promise.all([register("alice"), register("carol"), register("bob")]);
    const headers = { "Idempotency-Key": `shared-${crypto.randomUUID()}` };
    const body = textMessage(bob.name, "same");
    const a = await send<SendResponse>(alice, body, headers);
    const c = await send<SendResponse>(carol, body, headers);
    expect([a.status, c.status]).toEqual([201, 201]);
    expect(a.body.id).not.toBe(c.body.id);
    expect((await messages(bob)).map((m) => m.from)).toEqual([alice.name, carol.name]);
  });

  it("makes a multicast replay answer 200 with all recipients' original ts", async () => {
    const [alice, bob, carol] = await Promise.all([register("alice"), register("bob"), register("carol")]);
    const headers = { "Idempotency-Key": `multi-${crypto.randomUUID()}` };
    const body = textMessage([bob.name, carol.name], "keyed group");
    const first = await send(alice, body, headers);
    expect(first.status).toBe(201);
    const replay = await send(alice, body, headers);
    expect(replay.status).toBe(200);
    expect(replay.body).toEqual(first.body);
    for (const agent of [bob, carol]) expect(await messages(agent)).toHaveLength(1);
  });

  it.each([
    ["longer than 128 characters", "k".repeat(129)],
    ["with a space", "two words"],
  ])("refuses a key %s with 400", async (_what, key) => {
    const [alice, bob] = await Promise.all([register("alice"), register("bob")]);
    const reply = await send<ErrorBody>(alice, textMessage(bob.name, "x"), { "Idempotency-Key": key });
    expect(reply.status).toBe(400);
    expect(reply.body.code).toBe("BAD_REQUEST");
    expect(await messages(bob)).toEqual([]);
  });
});
