// Invite codes (SPEC §4: POST/GET/DELETE /invites, POST /register): the admin hands out codes,
// agents register themselves with one; `maxUses` and expiry hold, also under concurrent use.

import { describe, expect, it } from "vitest";
import type { AgentPrivate, Invite, MessagePage, Registration } from "../../protocol/envelope.js";
import { ADMIN_KEY, base64Bytes, call, inbox, register, send, textMessage, uniqueName, type Reply } from "../support/relay.js";

const API_KEY = /^ct_[A-Za-z0-9_-]{43}$/;
const WEBHOOK_SECRET = /^whsec_[A-Za-z0-9+/]+={0,2}$/;
const ISO_MS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

function expectError(reply: Reply, status: number, code: string): void {
  expect(reply.status, reply.text).toBe(status);
  // `error` is a message, never empty.
  expect(reply.body).toMatchObject({ code, error: expect.stringMatching(/\S/) });
}

async function createInvite(fields: Record<string, unknown> = {}): Promise<Invite> {
  const reply = await call<Invite>("POST", "/invites", { key: ADMIN_KEY, json: fields });
  expect(reply.status, reply.text).toBe(201);
  return reply.body;
}

/** POST /register; the body is a Registration when the status is 201, an error otherwise. */
function selfRegister(invite: string, name: string, fields: Record<string, unknown> = {}): Promise<Reply<Registration>> {
  return call<Registration>("POST", "/register", { json: { invite, name, ...fields } });
}

async function listInvites(): Promise<Invite[]> {
  const reply = await call<Invite[]>("GET", "/invites", { key: ADMIN_KEY });
  expect(reply.status).toBe(200);
  expect(Array.isArray(reply.body)).toBe(true);
  return reply.body;
}

async function inviteNamed(code: string): Promise<Invite | undefined> {
  return (await listInvites()).find((invite) => invite.code === code);
}

/** Whether an agent of this name exists (asked as the admin). */
async function exists(name: string): Promise<boolean> {
  const reply = await call("GET", `/agents/${name}`, { key: ADMIN_KEY });
  if (reply.status !== 200 && reply.status !== 404) throw new Error(`lookup ${name}: ${reply.status} ${reply.text}`);
  return reply.status === 200;
}

describe("managing invites (POST, GET, DELETE /invites)", () => {
  it("creates an invite with a code, its label, maxUses and expiry, and lists it", async () => {
    const label = uniqueName("label");
    const before = Date.now();
    const invite = await createInvite({ label, maxUses: 5, expiresInHours: 2 });
    expect(typeof invite.code).toBe("string");
    expect(invite.code.length).toBeGreaterThanOrEqual(16);
    expect(invite).toMatchObject({ label, maxUses: 5, uses: 0 });
    expect(invite.createdAt).toMatch(ISO_MS);
    expect(invite.expiresAt).toMatch(ISO_MS);
    const expiresIn = Date.parse(invite.expiresAt!) - before;
    expect(expiresIn).toBeGreaterThan(2 * 3600_000 - 60_000);
    expect(expiresIn).toBeLessThan(2 * 3600_000 + 60_000);
    expect(await inviteNamed(invite.code)).toEqual(invite);
  });

  it("makes a single-use invite without an expiry when no fields are given", async () => {
    // The spec names the fields but not their defaults; the relay uses maxUses 1, no expiry.
    const invite = await createInvite();
    expect(invite).toMatchObject({ label: null, maxUses: 1, uses: 0, expiresAt: null });
  });

  it("gives every invite a different code", async () => {
    const codes = await Promise.all([createInvite(), createInvite(), createInvite()]);
    expect(new Set(codes.map((invite) => invite.code)).size).toBe(3);
  });

  it("deletes an invite: 204, then it is gone and a second delete is 404", async () => {
    const invite = await createInvite({ label: "to-delete" });
    const deleted = await call("DELETE", `/invites/${invite.code}`, { key: ADMIN_KEY });
    expect(deleted.status, deleted.text).toBe(204);
    expect(deleted.text).toBe("");
    expect(await inviteNamed(invite.code)).toBeUndefined();
    expectError(await call("DELETE", `/invites/${invite.code}`, { key: ADMIN_KEY }), 404, "NOT_FOUND");
  });

  it("answers 404 for deleting a code that never existed", async () => {
    expectError(await call("DELETE", `/invites/inv_${uniqueName("nope")}`, { key: ADMIN_KEY }), 404, "NOT_FOUND");
  });

  it.each([
    ["maxUses 0", { maxUses: 0 }],
    ["maxUses not a whole number", { maxUses: 1.5 }],
    ["a negative expiry", { expiresInHours: -1 }],
    ["an expiry given as text", { expiresInHours: "soon" }],
    ["an unknown field", { uses: 3 }],
  ])("refuses %s with 400", async (_what, fields) => {
    expectError(await call("POST", "/invites", { key: ADMIN_KEY, json: fields }), 400, "BAD_REQUEST");
  });

  it("is for the admin only", async () => {
    const agent = await register("invitee");
    const invite = await createInvite();
    expectError(await call("POST", "/invites", { key: agent.apiKey, json: {} }), 401, "UNAUTHORIZED");
    expectError(await call("GET", "/invites", { key: agent.apiKey }), 401, "UNAUTHORIZED");
    expectError(await call("DELETE", `/invites/${invite.code}`, { key: agent.apiKey }), 401, "UNAUTHORIZED");
    expectError(await call("GET", "/invites"), 401, "UNAUTHORIZED");
    expect(await inviteNamed(invite.code)).toBeDefined();
  });
});

describe("self-registration (POST /register)", () => {
  it("registers with an invite and answers like POST /agents, with a key usable at once", async () => {
    const invite = await createInvite({ label: "welcome" });
    const name = uniqueName("Invited");
    const fields = { owner: "someone", publicKey: base64Bytes(32, 5), signingKey: base64Bytes(32, 6), capabilities: ["chat"] };
    const reply = await selfRegister(invite.code, name, fields);
    expect(reply.status, reply.text).toBe(201);
    expect(Object.keys(reply.body).sort()).toEqual(["apiKey", "name", "webhookSecret"]);
    expect(reply.body.name).toBe(name);
    expect(reply.body.apiKey).toMatch(API_KEY);
    expect(reply.body.webhookSecret).toMatch(WEBHOOK_SECRET);

    const me = await call("GET", "/agents/me", { key: reply.body.apiKey });
    expect(me.status).toBe(200);
    expect(me.body).toMatchObject({ name, ...fields });
    const peer = await register("peer");
    expect((await send(peer, textMessage(name, "hello invitee"))).status).toBe(201);
    const got = await inbox<MessagePage>({ name, apiKey: reply.body.apiKey, webhookSecret: reply.body.webhookSecret });
    expect(got.body.messages.map((m) => m.payload)).toEqual(["hello invitee"]);
    expect((await inviteNamed(invite.code))?.uses).toBe(1);
  });

  it("refuses a taken name with 409 and does not use up the invite", async () => {
    const invite = await createInvite({ maxUses: 2 });
    const taken = await register("taken");
    expectError(await selfRegister(invite.code, taken.name.toUpperCase()), 409, "CONFLICT");
    expect((await inviteNamed(invite.code))?.uses).toBe(0);
  });

  it("refuses an unknown invite with 403 FORBIDDEN and registers nothing", async () => {
    const name = uniqueName("nocode");
    expectError(await selfRegister(`inv_${uniqueName("bogus")}`, name), 403, "FORBIDDEN");
    expect(await exists(name)).toBe(false);
  });

  it("refuses a deleted invite with 403 FORBIDDEN and registers nothing", async () => {
    const invite = await createInvite({ maxUses: 10 });
    expect((await call("DELETE", `/invites/${invite.code}`, { key: ADMIN_KEY })).status).toBe(204);
    const name = uniqueName("revoked");
    expectError(await selfRegister(invite.code, name), 403, "FORBIDDEN");
    expect(await exists(name)).toBe(false);
  });

  it("refuses a used-up invite with 403 and registers nothing", async () => {
    const invite = await createInvite({ maxUses: 2 });
    for (let i = 0; i < 2; i++) expect((await selfRegister(invite.code, uniqueName("used"))).status).toBe(201);
    const name = uniqueName("late");
    expectError(await selfRegister(invite.code, name), 403, "FORBIDDEN");
    expect(await exists(name)).toBe(false);
    expect(await inviteNamed(invite.code)).toMatchObject({ maxUses: 2, uses: 2 });
  });

  it("refuses an expired invite with 403 and registers nothing", async () => {
    const invite = await createInvite({ maxUses: 10, expiresInHours: 0.0001 }); // 0.36 s
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const name = uniqueName("expired");
    expectError(await selfRegister(invite.code, name), 403, "FORBIDDEN");
    expect(await exists(name)).toBe(false);
    expect((await inviteNamed(invite.code))?.uses).toBe(0);
  });

  it("holds maxUses under concurrent registrations", async () => {
    const invite = await createInvite({ label: "race", maxUses: 3 });
    const names = Array.from({ length: 10 }, () => uniqueName("rush"));
    const replies = await Promise.all(names.map((name) => selfRegister(invite.code, name)));
    const won = replies.filter((reply) => reply.status === 201);
    expect(won).toHaveLength(3);
    for (const reply of replies.filter((r) => r.status !== 201)) expectError(reply, 403, "FORBIDDEN");
    expect(await inviteNamed(invite.code)).toMatchObject({ maxUses: 3, uses: 3 });
    // Exactly the three winners exist, each with a working key.
    const present = await Promise.all(names.map(exists));
    expect(present.filter(Boolean)).toHaveLength(3);
    for (const reply of won) expect((await call<AgentPrivate>("GET", "/agents/me", { key: reply.body.apiKey })).body.name).toBe(reply.body.name);
  });

  it.each([
    ["no invite", (name: string) => ({ name })],
    ["an invalid name", () => ({ invite: "inv_x", name: "no spaces allowed" })],
    ["an unknown field", (name: string) => ({ invite: "inv_x", name, admin: true })],
  ])("refuses a body with %s with 400", async (_what, body) => {
    const name = uniqueName("badreg");
    expectError(await call("POST", "/register", { json: body(name) }), 400, "BAD_REQUEST");
    expect(await exists(name)).toBe(false);
  });

  it("validates the body before spending a use of the invite", async () => {
    const invite = await createInvite({ maxUses: 1 });
    expectError(await selfRegister(invite.code, uniqueName("badkey"), { publicKey: base64Bytes(12) }), 400, "BAD_REQUEST");
    expect((await inviteNamed(invite.code))?.uses).toBe(0);
    expect((await selfRegister(invite.code, uniqueName("goodkey"))).status).toBe(201);
  });
});
