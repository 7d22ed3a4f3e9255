// Input that JSON.parse or Date.parse accepts but the relay must not (issue: hardening): numbers
// outside the doubles, a key twice in one object, calendar dates that do not exist, and display
// text that hides characters. Each is a 400 naming the field, and changes nothing.

import { beforeAll, describe, expect, it } from "vitest";
import type { ErrorBody } from "../../protocol/errors.js";
import { ADMIN_KEY, call, inbox, register, send, textMessage, uniqueName, type TestAgent } from "../support/relay.js";

let alice: TestAgent;
let bob: TestAgent;
let eve: TestAgent;

beforeAll(async () => {
  [alice, bob, eve] = await Promise.all([register("strict_a"), register("strict_b"), register("strict_e")]);
});

async function inboxSize(agent: TestAgent): Promise<number> {
  const page = await inbox(agent, "limit=100");
  return (page.body as { count: number }).count;
}

function rawSend(raw: string) {
  return call<ErrorBody>("POST", "/messages", { key: alice.apiKey, raw });
}

function expectBadRequest(reply: { status: number; body: ErrorBody | undefined }, field: string): void {
  expect(reply.status).toBe(400);
  expect(reply.body?.code).toBe("BAD_REQUEST");
  expect(reply.body?.error).toContain(field);
}

describe("numbers outside the doubles are a 400 naming the field", () => {
  it.each([
    ["1e309 in an object payload", (to: string) => `{"to":"${to}","type":"notification","encrypted":false,"payload":{"n":1e309}}`, "payload.n"],
    ["-1e309 inside an array", (to: string) => `{"to":"${to}","type":"notification","encrypted":false,"payload":{"list":[1,2,-1e309]}}`, "payload.list[2]"],
    ["1e400 as ttl", (to: string) => `{"to":"${to}","type":"notification","encrypted":false,"payload":"x","ttl":1e400}`, "ttl"],
  ])("a send with %s stores nothing", async (_label, body, field) => {
    expectBadRequest(await rawSend(body(bob.name)), field);
    expect(await inboxSize(bob)).toBe(0);
  });

  it("1e308, the largest order of magnitude a double holds, is accepted and kept", async () => {
    const reply = await rawSend(`{"to":"${bob.name}","type":"notification","encrypted":false,"payload":{"n":1e308},"id":"${uniqueName("big")}"}`);
    expect(reply.status).toBe(201);
    const page = await inbox(bob, "limit=1");
    const stored = (page.body as { messages: { payload: { n: number } }[] }).messages[0]!;
    expect(stored.payload.n).toBe(1e308);
    await call("POST", "/messages/ack", { key: bob.apiKey, json: { ids: [(reply.body as unknown as { id: string }).id] } });
  });

  it.each([
    ["1e309", "payload"],
    ['{"x":-1e309}', "payload.x"],
  ])("POST /audit with payload %s is a 400 naming %s", async (payload, field) => {
    const raw = `{"messageId":"m1","direction":"sent","from":"${alice.name}","to":"${bob.name}","payload":${payload},"ts":"${new Date().toISOString()}"}`;
    expectBadRequest(await call<ErrorBody>("POST", "/audit", { key: alice.apiKey, raw }), field);
  });
});

describe("a key twice in one object is a 400: a signed message must not mean two things", () => {
  it('{"to": bob, …, "to": eve} reaches neither bob nor eve', async () => {
    const reply = await rawSend(`{"to":"${bob.name}","type":"notification","encrypted":false,"payload":"hi","to":"${eve.name}"}`);
    expectBadRequest(reply, '"to"');
    expect([await inboxSize(bob), await inboxSize(eve)]).toEqual([0, 0]);
  });

  it("a duplicate spelled with an escape (t\\u006f) is the same key", async () => {
    expectBadRequest(await rawSend(`{"to":"${bob.name}","type":"notification","encrypted":false,"payload":"hi","t\\u006f":"${eve.name}"}`), '"to"');
    expect([await inboxSize(bob), await inboxSize(eve)]).toEqual([0, 0]);
  });

  it("a duplicate inside the payload names the payload's path", async () => {
    expectBadRequest(await rawSend(`{"to":"${bob.name}","type":"notification","encrypted":false,"payload":{"a":{"k":1,"k":2}}}`), "payload.a");
    expect(await inboxSize(bob)).toBe(0);
  });

  it("the same key in two sibling objects is fine", async () => {
    const reply = await rawSend(`{"to":"${bob.name}","type":"notification","encrypted":false,"payload":{"a":{"k":1},"b":{"k":2}}}`);
    expect(reply.status).toBe(201);
    await call("POST", "/messages/ack", { key: bob.apiKey, json: { ids: [(reply.body as unknown as { id: string }).id] } });
  });

  it("a duplicate key in a registration registers nothing", async () => {
    const name = uniqueName("dup");
    const reply = await call<ErrorBody>("POST", "/agents", { key: ADMIN_KEY, raw: `{"name":"${name}","owner":"a","owner":"b"}` });
    expectBadRequest(reply, '"owner"');
    expect((await call("GET", `/agents/${name}`, { key: ADMIN_KEY })).status).toBe(404);
  });
});

describe("timestamps must exist on the calendar", () => {
  it.each(["2026-02-31T00:00:00Z", "2026-13-01T00:00:00Z", "2026-04-31T12:00:00.000Z", "2026-01-01T24:00:00Z", "2026-01-01T12:60:00Z", "2026-01-01T12:00:61Z", "2026-01-01T12:00:00+25:00"])(
    "after=%s is a 400",
    async (value) => {
      expectBadRequest(await call<ErrorBody>("GET", `/messages?after=${encodeURIComponent(value)}`, { key: bob.apiKey }), "after");
    },
  );

  it("a leap day in a leap year is accepted; in another year it is a 400", async () => {
    expect((await call("GET", "/messages?after=2028-02-29T00:00:00Z", { key: bob.apiKey })).status).toBe(200);
    expectBadRequest(await call<ErrorBody>("GET", "/messages?before=2027-02-29T00:00:00Z", { key: bob.apiKey }), "before");
  });

  it("a send whose sentAt does not exist stores nothing", async () => {
    expectBadRequest(await send(alice, textMessage(bob.name, "x", { sentAt: "2026-02-30T10:00:00.000Z" })), "sentAt");
    expect(await inboxSize(bob)).toBe(0);
  });
});

describe("display text may not hide characters (bidi overrides, zero-width, controls)", () => {
  const hidden = [
    ["a right-to-left override and a zero-width space", "alice (admin)\u202e\u200b"],
    ["a zero-width joiner", "ad\u200dmin"],
    ["a left-to-right isolate", "x\u2066y"],
    ["a byte-order mark", "\ufeffowner"],
    ["a line separator", "line\u2028break"],
    ["a bell", "ring\u0007"],
  ];

  it.each(hidden)("an owner with %s is refused at self-registration, and nobody is registered", async (_label, owner) => {
    const invite = await call<{ code: string }>("POST", "/invites", { key: ADMIN_KEY, json: { label: "strict" } });
    const name = uniqueName("hid");
    expectBadRequest(await call<ErrorBody>("POST", "/register", { json: { invite: invite.body.code, name, owner } }), "owner");
    expect((await call("GET", `/agents/${name}`, { key: ADMIN_KEY })).status).toBe(404);
    // The invite was not used up by the refused registration.
    const ok = await call("POST", "/register", { json: { invite: invite.body.code, name } });
    expect(ok.status).toBe(201);
  });

  it("capabilities, invite labels and correlation ids refuse them too", async () => {
    expectBadRequest(await call<ErrorBody>("POST", "/agents", { key: ADMIN_KEY, json: { name: uniqueName("hid"), capabilities: ["ok", "sum\u200bmarize"] } }), "capabilities.1");
    expectBadRequest(await call<ErrorBody>("PATCH", `/agents/${alice.name}`, { key: alice.apiKey, json: { capabilities: ["\u202eevil"] } }), "capabilities.0");
    expectBadRequest(await call<ErrorBody>("POST", "/invites", { key: ADMIN_KEY, json: { label: "team\u202e" } }), "label");
    expectBadRequest(await send(alice, textMessage(bob.name, "x", { correlationId: "c\u200b1" })), "correlationId");
    expect(await inboxSize(bob)).toBe(0);
    const record = await call<{ capabilities: string[] }>("GET", `/agents/${alice.name}`, { key: ADMIN_KEY });
    expect(record.body.capabilities).toEqual([]);
  });

  it("visible non-ASCII text (accents, CJK, emoji) is accepted and kept as sent", async () => {
    const owner = "Zoë 山田 🚀";
    const agent = await register("vis", { owner });
    const record = await call<{ owner: string }>("GET", `/agents/${agent.name}`, { key: ADMIN_KEY });
    expect(record.body.owner).toBe(owner);
  });
});
