// Agent records (SPEC §3 identities and keys, §4 the /agents rows of the API table): registration,
// the directory's public view, an agent's private settings, PATCH, key and secret rotation, removal.

import { describe, expect, it } from "vitest";
import type { AgentPrivate, AgentPublic, MessagePage, Registration } from "../../protocol/envelope.js";
import type { ErrorBody } from "../../protocol/errors.js";
import {
  ADMIN_KEY,
  base64Bytes,
  call,
  inbox,
  register,
  send,
  textMessage,
  uniqueName,
  type Reply,
  type TestAgent,
} from "../support/relay.js";

const API_KEY = /^ct_[A-Za-z0-9_-]{43}$/;
const WEBHOOK_SECRET = /^whsec_[A-Za-z0-9+/]+={0,2}$/;
const ISO_MS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

const PUBLIC_FIELDS = ["capabilities", "lastSeen", "name", "online", "owner", "publicKey", "signingKey", "webhook"];
const SECRET_FIELDS = ["apiKey", "keyHash", "key_hash", "webhookSecret", "webhookSecrets", "previousSecret", "webhookUrl"];

const HOOK_URL = "http://127.0.0.1:9/clawtalk-hook";

/** What PATCH /agents/:name answers: the private record, with the new secret when the URL changed. */
type PatchedRecord = AgentPrivate & { webhookSecret?: string };
/** What POST /agents/:name/webhook/rotate-secret answers. */
interface RotatedSecret {
  webhookSecret: string;
  previousSecretValidUntil: string;
}

function expectError(reply: Reply, status: number, code: string): void {
  expect(reply.status, reply.text).toBe(status);
  // `error` is a message, never empty.
  expect(reply.body).toMatchObject({ code, error: expect.stringMatching(/\S/) });
}

function registerNamed(name: string, fields: Record<string, unknown> = {}): Promise<Reply<Registration>> {
  return call<Registration>("POST", "/agents", { key: ADMIN_KEY, json: { name, ...fields } });
}

async function listAgents(key: string): Promise<AgentPublic[]> {
  const reply = await call<AgentPublic[]>("GET", "/agents", { key });
  expect(reply.status).toBe(200);
  expect(Array.isArray(reply.body)).toBe(true);
  return reply.body;
}

function findIn(records: AgentPublic[], name: string): AgentPublic | undefined {
  return records.find((record) => record.name.toLowerCase() === name.toLowerCase());
}

describe("registration (POST /agents)", () => {
  it("answers 201 with the name, a ct_ API key of 256 bits base64url and a whsec_ webhook secret", async () => {
    const name = uniqueName("reg");
    const reply = await registerNamed(name);
    expect(reply.status, reply.text).toBe(201);
    expect(Object.keys(reply.body).sort()).toEqual(["apiKey", "name", "webhookSecret"]);
    expect(reply.body.name).toBe(name);
    expect(reply.body.apiKey).toMatch(API_KEY);
    expect(reply.body.webhookSecret).toMatch(WEBHOOK_SECRET);
  });

  it("gives every agent a different key and secret", async () => {
    const a = await register("distinct");
    const b = await register("distinct");
    expect(a.apiKey).not.toBe(b.apiKey);
    expect(a.webhookSecret).not.toBe(b.webhookSecret);
  });

  it("keeps and returns the registered spelling", async () => {
    const name = `MiXeD-${uniqueName("Case")}`.slice(0, 32);
    const reply = await registerNamed(name);
    expect(reply.status, reply.text).toBe(201);
    expect(reply.body.name).toBe(name);
    const lookup = await call<AgentPublic>("GET", `/agents/${name.toLowerCase()}`, { key: ADMIN_KEY });
    expect(lookup.status).toBe(200);
    expect(lookup.body.name).toBe(name);
    expect(findIn(await listAgents(ADMIN_KEY), name)?.name).toBe(name);
  });

  it("refuses a name that is taken, compared case-insensitively, with 409 CONFLICT", async () => {
    const name = uniqueName("taken");
    expect((await registerNamed(name)).status).toBe(201);
    expectError(await registerNamed(name), 409, "CONFLICT");
    expectError(await registerNamed(name.toUpperCase()), 409, "CONFLICT");
    const holders = (await listAgents(ADMIN_KEY)).filter((record) => record.name.toLowerCase() === name.toLowerCase());
    expect(holders).toHaveLength(1);
    expect(holders[0]!.name).toBe(name);
  });

  it("lets exactly one of two concurrent registrations of one name win, whatever their case", async () => {
    for (let round = 0; round < 6; round++) {
      const name = uniqueName("race");
      const rival = round % 2 === 0 ? name : name.toUpperCase();
      const replies = await Promise.all([registerNamed(name, { owner: "first" }), registerNamed(rival, { owner: "second" })]);
      expect(replies.map((r) => r.status).sort()).toEqual([201, 409]);
      const winner = replies.find((r) => r.status === 201)!;
      expectError(replies.find((r) => r.status === 409)!, 409, "CONFLICT");
      // The winner's key is the one that works, and the record is the winner's.
      const me = await call<AgentPrivate>("GET", "/agents/me", { key: winner.body.apiKey });
      expect(me.status).toBe(200);
      expect(me.body.name).toBe(winner.body.name);
      expect(me.body.owner).toBe(winner === replies[0] ? "first" : "second");
    }
  });

  it("makes the key usable at once (read-your-writes) for reads, sends and polls", async () => {
    const alice = await register("ryw");
    const me = await call<AgentPrivate>("GET", "/agents/me", { key: alice.apiKey });
    expect(me.status, me.text).toBe(200);
    expect(me.body.name).toBe(alice.name);
    const bob = await register("ryw");
    const sent = await send(bob, textMessage(alice.name, "first contact"));
    expect(sent.status, sent.text).toBe(201);
    const got = await inbox<MessagePage>(alice);
    expect(got.status).toBe(200);
    expect(got.body.messages.map((m) => m.payload)).toEqual(["first contact"]);
  });

  it("stores the optional fields given at registration", async () => {
    const name = uniqueName("fields");
    const fields = {
      owner: "ops-team",
      publicKey: base64Bytes(32, 1),
      signingKey: base64Bytes(32, 2),
      capabilities: ["search", "summarize"],
      webhookUrl: HOOK_URL,
    };
    expect((await registerNamed(name, fields)).status).toBe(201);
    const record = await call("GET", `/agents/${name}`, { key: ADMIN_KEY });
    expect(record.body).toMatchObject({ ...fields, name, webhook: true });
  });

  it.each([
    ["a name too short", { name: "x" }],
    ["a name with a space", { name: "two words" }],
    ["a reserved name", { name: "Broadcast" }],
    ["a public key of the wrong length", { publicKey: base64Bytes(31) }],
    ["a signing key that is not base64", { signingKey: "not base64 at all!!" }],
    ["an unknown field", { nmae: "typo" }],
  ])("refuses %s with 400 and registers nothing", async (_what, fields) => {
    const name = uniqueName("bad");
    const reply = await call("POST", "/agents", { key: ADMIN_KEY, json: { name, ...fields } });
    expectError(reply, 400, "BAD_REQUEST");
    const names = (await listAgents(ADMIN_KEY)).map((record) => record.name);
    expect(names).not.toContain(name);
    expect(names).not.toContain((fields as { name?: string }).name);
  });

  it("is for the admin only", async () => {
    const agent = await register("notadmin");
    expectError(await call("POST", "/agents", { key: agent.apiKey, json: { name: uniqueName("x") } }), 401, "UNAUTHORIZED");
    expectError(await call("POST", "/agents", { json: { name: uniqueName("x") } }), 401, "UNAUTHORIZED");
  });
});

describe("the directory (GET /agents, GET /agents/:name)", () => {
  it("lists public records only, never keys, hashes, secrets or webhook URLs", async () => {
    const agent = await register("dir", { webhookUrl: HOOK_URL, owner: "me-owner" });
    for (const key of [agent.apiKey, ADMIN_KEY]) {
      const reply = await call<AgentPublic[]>("GET", "/agents", { key });
      expect(reply.status).toBe(200);
      const record = findIn(reply.body, agent.name);
      expect(record).toBeDefined();
      expect(Object.keys(record!).sort()).toEqual(PUBLIC_FIELDS);
      expect(record).toMatchObject({ name: agent.name, owner: "me-owner", capabilities: [], publicKey: null, signingKey: null, webhook: true });
      for (const each of reply.body) for (const field of SECRET_FIELDS) expect(each).not.toHaveProperty(field);
      expect(reply.text).not.toContain(agent.apiKey);
      expect(reply.text).not.toContain(agent.webhookSecret.slice("whsec_".length));
      expect(reply.text).not.toContain(HOOK_URL);
    }
  });

  it("finds an agent by name case-insensitively", async () => {
    const agent = await register("LookUp");
    for (const spelling of [agent.name, agent.name.toLowerCase(), agent.name.toUpperCase()]) {
      const reply = await call<AgentPublic>("GET", `/agents/${spelling}`, { key: agent.apiKey });
      expect(reply.status, spelling).toBe(200);
      expect(reply.body.name).toBe(agent.name);
    }
  });

  it("shows another agent's record to an agent as public fields only", async () => {
    const viewer = await register("viewer");
    const other = await register("viewed", { webhookUrl: HOOK_URL, capabilities: ["x"] });
    const reply = await call<AgentPublic>("GET", `/agents/${other.name}`, { key: viewer.apiKey });
    expect(reply.status).toBe(200);
    expect(Object.keys(reply.body).sort()).toEqual(PUBLIC_FIELDS);
    expect(reply.body).toMatchObject({ name: other.name, capabilities: ["x"], webhook: true });
    expect(reply.text).not.toContain(HOOK_URL);
    expect(reply.text).not.toContain(other.apiKey);
  });

  it("shows an agent its own private settings at /agents/me, but never its key or secret", async () => {
    const agent = await register("self", { webhookUrl: HOOK_URL });
    const reply = await call<AgentPrivate>("GET", "/agents/me", { key: agent.apiKey });
    expect(reply.status).toBe(200);
    expect(reply.body).toMatchObject({ name: agent.name, webhookUrl: HOOK_URL, deleteOnDelivery: false, webhook: true });
    expect(reply.body.createdAt).toMatch(ISO_MS);
    expect(Date.now() - Date.parse(reply.body.createdAt)).toBeLessThan(60_000);
    for (const field of PUBLIC_FIELDS) expect(reply.body).toHaveProperty(field);
    expect(reply.text).not.toContain(agent.apiKey);
    expect(reply.text).not.toContain(agent.webhookSecret.slice("whsec_".length));
  });

  it("answers 404 NOT_FOUND for an unknown agent", async () => {
    const agent = await register("asker");
    expectError(await call("GET", `/agents/${uniqueName("ghost")}`, { key: agent.apiKey }), 404, "NOT_FOUND");
    expectError(await call("GET", `/agents/${uniqueName("ghost")}`, { key: ADMIN_KEY }), 404, "NOT_FOUND");
  });

  it("needs a key", async () => {
    expectError(await call("GET", "/agents"), 401, "UNAUTHORIZED");
    expectError(await call("GET", "/agents", { key: `ct_${"A".repeat(43)}` }), 401, "UNAUTHORIZED");
  });
});

describe("settings (PATCH /agents/:name)", () => {
  it("lets an agent update its capabilities, keys and deleteOnDelivery, and answers the updated record", async () => {
    const agent = await register("patch");
    const patch = { capabilities: ["translate", "code"], publicKey: base64Bytes(32, 3), signingKey: base64Bytes(32, 4), deleteOnDelivery: true };
    const reply = await call("PATCH", `/agents/${agent.name}`, { key: agent.apiKey, json: patch });
    expect(reply.status, reply.text).toBe(200);
    expect(reply.body).toMatchObject({ name: agent.name, ...patch });
    const me = await call("GET", "/agents/me", { key: agent.apiKey });
    expect(me.body).toMatchObject(patch);
    const seen = await call("GET", `/agents/${agent.name}`, { key: ADMIN_KEY });
    expect(seen.body).toMatchObject({ capabilities: patch.capabilities, publicKey: patch.publicKey, signingKey: patch.signingKey });
  });

  it("accepts /agents/me and a differently cased own name", async () => {
    const agent = await register("PatchMe");
    const viaMe = await call<PatchedRecord>("PATCH", "/agents/me", { key: agent.apiKey, json: { capabilities: ["a"] } });
    expect(viaMe.status, viaMe.text).toBe(200);
    expect(viaMe.body.capabilities).toEqual(["a"]);
    const viaCase = await call("PATCH", `/agents/${agent.name.toUpperCase()}`, { key: agent.apiKey, json: { capabilities: ["b"] } });
    expect(viaCase.status, viaCase.text).toBe(200);
    expect(viaCase.body).toMatchObject({ name: agent.name, capabilities: ["b"] });
  });

  it("gives a new webhook URL a new secret, returned once, and null clears the webhook", async () => {
    const agent = await register("hook");
    const set = await call<PatchedRecord>("PATCH", "/agents/me", { key: agent.apiKey, json: { webhookUrl: HOOK_URL } });
    expect(set.status, set.text).toBe(200);
    expect(set.body).toMatchObject({ webhookUrl: HOOK_URL, webhook: true });
    expect(set.body.webhookSecret).toMatch(WEBHOOK_SECRET);
    expect(set.body.webhookSecret).not.toBe(agent.webhookSecret);

    const other = await call<PatchedRecord>("PATCH", "/agents/me", { key: agent.apiKey, json: { webhookUrl: `${HOOK_URL}/v2` } });
    expect(other.body.webhookSecret).toMatch(WEBHOOK_SECRET);
    expect(other.body.webhookSecret).not.toBe(set.body.webhookSecret);

    const cleared = await call("PATCH", "/agents/me", { key: agent.apiKey, json: { webhookUrl: null } });
    expect(cleared.status, cleared.text).toBe(200);
    expect(cleared.body).toMatchObject({ webhookUrl: null, webhook: false });
    expect(cleared.body).not.toHaveProperty("webhookSecret");
    expect(findIn(await listAgents(ADMIN_KEY), agent.name)?.webhook).toBe(false);
  });

  it("does not return a secret when nothing about the webhook changes", async () => {
    const agent = await register("nohook");
    const reply = await call("PATCH", "/agents/me", { key: agent.apiKey, json: { capabilities: ["z"] } });
    expect(reply.status).toBe(200);
    expect(reply.body).not.toHaveProperty("webhookSecret");
  });

  it("lets the admin update any agent, including its owner", async () => {
    const agent = await register("owned");
    const reply = await call("PATCH", `/agents/${agent.name}`, { key: ADMIN_KEY, json: { owner: "new-owner", capabilities: ["c"] } });
    expect(reply.status, reply.text).toBe(200);
    expect(reply.body).toMatchObject({ name: agent.name, owner: "new-owner", capabilities: ["c"] });
    expect(findIn(await listAgents(agent.apiKey), agent.name)?.owner).toBe("new-owner");
  });

  it("refuses an agent setting its owner with 403 and changes nothing", async () => {
    const agent = await register("selfown", { owner: "original" });
    const reply = await call("PATCH", "/agents/me", { key: agent.apiKey, json: { owner: "hijack", capabilities: ["x"] } });
    expectError(reply, 403, "FORBIDDEN");
    const me = await call("GET", "/agents/me", { key: agent.apiKey });
    expect(me.body).toMatchObject({ owner: "original", capabilities: [] });
  });

  it("refuses an agent changing another agent's record with 403", async () => {
    const alice = await register("alice");
    const bob = await register("bob");
    expectError(await call("PATCH", `/agents/${bob.name}`, { key: alice.apiKey, json: { capabilities: ["evil"] } }), 403, "FORBIDDEN");
    const record = await call<AgentPrivate>("GET", `/agents/${bob.name}`, { key: ADMIN_KEY });
    expect(record.body.capabilities).toEqual([]);
  });

  it.each([
    ["a public key of 16 bytes", { publicKey: base64Bytes(16) }],
    ["a signing key of 33 bytes", { signingKey: base64Bytes(33) }],
    ["deleteOnDelivery as a string", { deleteOnDelivery: "yes" }],
    ["capabilities as a string", { capabilities: "all" }],
    ["an unknown field", { nickname: "x" }],
    ["a webhook URL that is not a URL", { webhookUrl: "not a url" }],
  ])("refuses %s with 400", async (_what, patch) => {
    const agent = await register("badpatch");
    expectError(await call("PATCH", "/agents/me", { key: agent.apiKey, json: patch }), 400, "BAD_REQUEST");
  });

  it("answers 404 when the admin patches an unknown agent", async () => {
    expectError(await call("PATCH", `/agents/${uniqueName("ghost")}`, { key: ADMIN_KEY, json: { capabilities: [] } }), 404, "NOT_FOUND");
  });
});

/** One request of each kind an agent makes, for checking that a key is refused everywhere. */
const AGENT_ROUTES: [string, (key: string, peer: string) => Promise<Reply>][] = [
  ["GET /agents", (key) => call("GET", "/agents", { key })],
  ["GET /agents/me", (key) => call("GET", "/agents/me", { key })],
  ["GET /agents/:name", (key, peer) => call("GET", `/agents/${peer}`, { key })],
  ["PATCH /agents/me", (key) => call("PATCH", "/agents/me", { key, json: { capabilities: ["stale"] } })],
  ["POST /agents/me/rotate-key", (key) => call("POST", "/agents/me/rotate-key", { key })],
  ["POST /agents/me/webhook/rotate-secret", (key) => call("POST", "/agents/me/webhook/rotate-secret", { key })],
  ["POST /messages", (key, peer) => call("POST", "/messages", { key, json: textMessage(peer, "from a stale key") })],
  ["POST /messages (broadcast)", (key) => call("POST", "/messages", { key, json: textMessage("broadcast", "stale") })],
  ["GET /messages", (key) => call("GET", "/messages", { key })],
  ["GET /messages?wait", (key) => call("GET", "/messages?wait=1", { key })],
  ["GET /messages/:id", (key) => call("GET", `/messages/${crypto.randomUUID()}`, { key })],
  ["DELETE /messages/:id", (key) => call("DELETE", `/messages/${crypto.randomUUID()}`, { key })],
  ["POST /messages/ack", (key) => call("POST", "/messages/ack", { key, json: { ids: [crypto.randomUUID()] } })],
  ["GET /channels", (key) => call("GET", "/channels", { key })],
];

async function expectRefusedEverywhere(key: string, peer: string): Promise<void> {
  for (const [route, request] of AGENT_ROUTES) {
    const reply = await request(key, peer);
    expect(reply.status, `${route}: ${reply.text}`).toBe(401);
    expect(reply.body, route).toMatchObject({ code: "UNAUTHORIZED" });
  }
}

describe("key rotation (POST /agents/:name/rotate-key)", () => {
  it("issues a new key that works at once and refuses the old one at once on every route", async () => {
    const agent = await register("rotate");
    const peer = await register("peer");
    // Use the old key first, so every cache along the way knows it.
    expect((await call("GET", "/agents/me", { key: agent.apiKey })).status).toBe(200);
    expect((await send(agent, textMessage(peer.name, "before"))).status).toBe(201);

    const rotated = await call<Registration>("POST", `/agents/${agent.name}/rotate-key`, { key: agent.apiKey });
    expect(rotated.status, rotated.text).toBe(200);
    expect(rotated.body.name).toBe(agent.name);
    expect(rotated.body.apiKey).toMatch(API_KEY);
    expect(rotated.body.apiKey).not.toBe(agent.apiKey);

    await expectRefusedEverywhere(agent.apiKey, peer.name);

    const fresh: TestAgent = { ...agent, apiKey: rotated.body.apiKey };
    expect((await call<AgentPrivate>("GET", "/agents/me", { key: fresh.apiKey })).body.name).toBe(agent.name);
    expect((await send(fresh, textMessage(peer.name, "after"))).status).toBe(201);
    expect((await inbox(fresh)).status).toBe(200);
    // The stale key changed nothing while it was refused.
    expect((await call<AgentPrivate>("GET", "/agents/me", { key: fresh.apiKey })).body.capabilities).toEqual([]);
    const got = await inbox<MessagePage>(peer, "sort=asc");
    expect(got.body.messages.map((m) => m.payload)).toEqual(["before", "after"]);
  });

  it("can be done by the admin, and the agent's messages stay", async () => {
    const agent = await register("adminrot");
    const peer = await register("peer");
    expect((await send(peer, textMessage(agent.name, "kept"))).status).toBe(201);
    const rotated = await call<Registration>("POST", `/agents/${agent.name}/rotate-key`, { key: ADMIN_KEY });
    expect(rotated.status, rotated.text).toBe(200);
    expect(rotated.body.apiKey).toMatch(API_KEY);
    expectError(await call("GET", "/messages", { key: agent.apiKey }), 401, "UNAUTHORIZED");
    const got = await call<MessagePage>("GET", "/messages", { key: rotated.body.apiKey });
    expect(got.status).toBe(200);
    expect(got.body.messages.map((m) => m.payload)).toEqual(["kept"]);
  });

  it("is refused for another agent (403) and unknown agents (404)", async () => {
    const alice = await register("alice");
    const bob = await register("bob");
    expectError(await call("POST", `/agents/${bob.name}/rotate-key`, { key: alice.apiKey }), 403, "FORBIDDEN");
    expect((await call("GET", "/agents/me", { key: bob.apiKey })).status).toBe(200);
    expectError(await call("POST", `/agents/${uniqueName("ghost")}/rotate-key`, { key: ADMIN_KEY }), 404, "NOT_FOUND");
  });
});

describe("webhook secret rotation (POST /agents/:name/webhook/rotate-secret)", () => {
  it("returns a new whsec_ secret and keeps the old one valid for about 24 h", async () => {
    const agent = await register("secret", { webhookUrl: HOOK_URL });
    const before = Date.now();
    const reply = await call<RotatedSecret>("POST", `/agents/${agent.name}/webhook/rotate-secret`, { key: agent.apiKey });
    expect(reply.status, reply.text).toBe(200);
    expect(reply.body.webhookSecret).toMatch(WEBHOOK_SECRET);
    expect(reply.body.webhookSecret).not.toBe(agent.webhookSecret);
    expect(reply.body.previousSecretValidUntil).toMatch(ISO_MS);
    const until = Date.parse(reply.body.previousSecretValidUntil);
    const day = 24 * 3600_000;
    expect(until).toBeGreaterThanOrEqual(before + day - 60_000);
    expect(until).toBeLessThanOrEqual(Date.now() + day + 60_000);
  });

  it("can be done by the admin but not by another agent", async () => {
    const agent = await register("secret");
    const other = await register("other");
    const byAdmin = await call<RotatedSecret>("POST", `/agents/${agent.name}/webhook/rotate-secret`, { key: ADMIN_KEY });
    expect(byAdmin.status).toBe(200);
    expect(byAdmin.body.webhookSecret).toMatch(WEBHOOK_SECRET);
    expectError(await call("POST", `/agents/${agent.name}/webhook/rotate-secret`, { key: other.apiKey }), 403, "FORBIDDEN");
    expectError(await call("POST", `/agents/${uniqueName("ghost")}/webhook/rotate-secret`, { key: ADMIN_KEY }), 404, "NOT_FOUND");
  });
});

describe("removal (DELETE /agents/:name)", () => {
  it("removes the agent: 204, its key refused at once, gone from the directory, sends to it refused", async () => {
    const doomed = await register("doomed");
    const peer = await register("peer");
    // Warm every cache with the agent's key and name first.
    expect((await call("GET", "/agents/me", { key: doomed.apiKey })).status).toBe(200);
    expect((await send(peer, textMessage(doomed.name, "before removal"))).status).toBe(201);

    const removed = await call("DELETE", `/agents/${doomed.name.toUpperCase()}`, { key: ADMIN_KEY });
    expect(removed.status, removed.text).toBe(204);
    expect(removed.text).toBe("");

    await expectRefusedEverywhere(doomed.apiKey, peer.name);
    expect(findIn(await listAgents(peer.apiKey), doomed.name)).toBeUndefined();
    expectError(await call("GET", `/agents/${doomed.name}`, { key: peer.apiKey }), 404, "NOT_FOUND");

    const sent = await send<ErrorBody>(peer, textMessage(doomed.name, "after removal"));
    expectError(sent, 404, "UNKNOWN_RECIPIENT");
    expect(sent.body.names).toEqual([doomed.name]);
    const multicast = await send(peer, textMessage([doomed.name, peer.name], "multicast"));
    expectError(multicast, 404, "UNKNOWN_RECIPIENT");
    expect((await inbox<MessagePage>(peer)).body.messages).toEqual([]);
  });

  it("removes the inbox: the same name registered again starts empty and the old key does not work for it", async () => {
    const first = await register("reborn");
    const peer = await register("peer");
    for (const text of ["one", "two", "three"]) expect((await send(peer, textMessage(first.name, text))).status).toBe(201);
    expect((await inbox<MessagePage>(first)).body.messages).toHaveLength(3);

    expect((await call("DELETE", `/agents/${first.name}`, { key: ADMIN_KEY })).status).toBe(204);
    const again = await registerNamed(first.name);
    expect(again.status, again.text).toBe(201);
    const second: TestAgent = again.body;
    expect(second.apiKey).not.toBe(first.apiKey);

    const fresh = await inbox(second);
    expect(fresh.status).toBe(200);
    expect(fresh.body).toMatchObject({ messages: [], count: 0, hasMore: false });
    expectError(await inbox(first), 401, "UNAUTHORIZED");
    expectError(await call("GET", "/agents/me", { key: first.apiKey }), 401, "UNAUTHORIZED");
    expect((await call("GET", "/agents/me", { key: second.apiKey })).body).toMatchObject({ name: first.name, capabilities: [], owner: null });

    // The new agent receives normally.
    expect((await send(peer, textMessage(second.name, "welcome back"))).status).toBe(201);
    expect((await inbox<MessagePage>(second)).body.messages.map((m) => m.payload)).toEqual(["welcome back"]);
  });

  it("is for the admin only, and answers 404 for an unknown agent", async () => {
    const agent = await register("keep");
    expectError(await call("DELETE", `/agents/${agent.name}`, { key: agent.apiKey }), 401, "UNAUTHORIZED");
    expect((await call("GET", "/agents/me", { key: agent.apiKey })).status).toBe(200);
    expectError(await call("DELETE", `/agents/${uniqueName("ghost")}`, { key: ADMIN_KEY }), 404, "NOT_FOUND");
  });

  it("answers 404 when the same agent is removed twice", async () => {
    const agent = await register("twice");
    expect((await call("DELETE", `/agents/${agent.name}`, { key: ADMIN_KEY })).status).toBe(204);
    expectError(await call("DELETE", `/agents/${agent.name}`, { key: ADMIN_KEY }), 404, "NOT_FOUND");
  });
});
