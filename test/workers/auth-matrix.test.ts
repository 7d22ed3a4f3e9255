// Who may call what (SPEC §3, §4, §9): every route of the route table, called by every kind
// of caller. The routes come from the table that dispatches requests, so a new route is in
// this matrix the moment it exists; a route without a request fixture below fails the matrix.
//
// Expected outcomes follow from each endpoint's `access` and `ownRecord`:
// - public routes never answer 401 (or 403), whatever the Authorization header says;
// - any other route: no key, a malformed header or a key that was never issued -> 401;
// - an agent key on an admin route -> 401 (it is no credential there, as in the original);
// - the admin key on an agent's inbox route -> 403 (except GET /messages: the global feed);
// - an agent acting on another agent's record -> 403; the admin key may act on any record;
// - a message id that is not in the caller's inbox -> 404, whoever owns it.
// Every answer is also checked against what the route table declares for it (and so what
// /openapi.json says): a declared status, and a body of exactly the declared shape.

import { beforeAll, describe, expect, it } from "vitest";
import type { AgentPrivate, Envelope, Invite, MessagePage, Registration, SendResponse } from "../../protocol/envelope.js";
import type { ErrorBody } from "../../protocol/errors.js";
import { routes } from "../../worker/index.js";
import type { AnyEndpoint, Method } from "../../worker/router.js";
import { expectDeclaredAnswer } from "../support/declared-answers.js";
import { ADMIN_KEY, call, inbox, register, send, textMessage, uniqueName, type Reply, type TestAgent } from "../support/relay.js";

// ---- The scene each case runs in --------------------------------------------------------

/** `owner` has one message (from `sender`, under `topic`); `other` is an unrelated agent. */
interface Scene {
  owner: TestAgent;
  other: TestAgent;
  sender: TestAgent;
  messageId: string;
  topic: string;
}

let sender: TestAgent;
beforeAll(async () => {
  sender = await register("authsender");
});

async function newScene(): Promise<Scene> {
  const [owner, other] = await Promise.all([register("owner"), register("other")]);
  const topic = `auth.${uniqueName("t")}`;
  const sent = await send<SendResponse>(sender, textMessage(owner.name, "for the owner only", { topic }));
  if (sent.status !== 201) throw new Error(`setup send: ${sent.status} ${sent.text}`);
  return { owner, other, sender, messageId: sent.body.id, topic };
}

async function newInvite(): Promise<string> {
  const reply = await call<Invite>("POST", "/invites", { key: ADMIN_KEY, json: { label: "auth-matrix" } });
  if (reply.status !== 201) throw new Error(`setup invite: ${reply.status} ${reply.text}`);
  return reply.body.code;
}

/** A key of the right form (ct_ + 256 bits, base64url) that the relay never issued. */
function neverIssuedKey(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  return `ct_${btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "")}`;
}

/** A far-past date: DELETE /audit with it is a valid request that clears nothing other tests wrote. */
const LONG_AGO = "2000-01-01T00:00:00.000Z";

// ---- One valid request per endpoint, acting on the owner's record or inbox ---------------

interface Fixture {
  /** A request that an allowed caller makes successfully (valid path, query and body). */
  request(scene: Scene): Promise<{ path: string; json?: unknown }> | { path: string; json?: unknown };
  /** The status an allowed caller gets. */
  ok: number;
  /**
   * What `other`'s key gets on an agent or agent-or-admin route that is not about a record
   * (ownRecord routes are 403 for it by definition), and what it must not see.
   */
  asOther?: { status: number; check?(reply: Reply, scene: Scene): Promise<void> | void };
  /** A success leaves the scene unusable (owner, key or message gone), so it runs on a fresh one. */
  usesUpScene?: boolean;
}

const FIXTURES: Record<string, Fixture> = {
  "GET /health": { request: () => ({ path: "/health" }), ok: 200 },
  "GET /openapi.json": { request: () => ({ path: "/openapi.json" }), ok: 200 },
  "GET /dashboard": { request: () => ({ path: "/dashboard" }), ok: 308 },
  "GET /dashboard/*": { request: () => ({ path: "/dashboard/" }), ok: 200 },
  "POST /register": {
    request: async () => ({ path: "/register", json: { invite: await newInvite(), name: uniqueName("selfreg") } }),
    ok: 201,
  },

  "POST /agents": { request: () => ({ path: "/agents", json: { name: uniqueName("adminreg") } }), ok: 201 },
  "GET /agents": {
    request: () => ({ path: "/agents" }),
    ok: 200,
    asOther: { status: 200 },
  },
  "GET /agents/:name": {
    request: (s) => ({ path: `/agents/${s.owner.name}` }),
    ok: 200,
    asOther: {
      status: 200,
      check(reply, s) {
        // Another agent sees the public record only, never the owner's private settings.
        expect(reply.body).toMatchObject({ name: s.owner.name });
        expect(reply.body).not.toHaveProperty("webhookUrl");
        expect(reply.body).not.toHaveProperty("deleteOnDelivery");
      },
    },
  },
  "GET /agents/:name/keys": {
    request: (s) => ({ path: `/agents/${s.owner.name}/keys` }),
    ok: 200,
    // Key history is public: every agent checks a sender's key changes against it.
    asOther: { status: 200 },
  },
  "PATCH /agents/:name": { request: (s) => ({ path: `/agents/${s.owner.name}`, json: { capabilities: ["patched"] } }), ok: 200 },
  "DELETE /agents/:name": { request: (s) => ({ path: `/agents/${s.owner.name}` }), ok: 204, usesUpScene: true },
  "POST /agents/:name/rotate-key": { request: (s) => ({ path: `/agents/${s.owner.name}/rotate-key` }), ok: 200, usesUpScene: true },
  "POST /agents/:name/webhook/rotate-secret": { request: (s) => ({ path: `/agents/${s.owner.name}/webhook/rotate-secret` }), ok: 200 },
  "POST /agents/:name/webhook/test": {
    async request(s) {
      // A test event needs a webhook; nothing listens on port 9, so the attempt's outcome is a failure.
      const set = await call("PATCH", `/agents/${s.owner.name}`, { key: ADMIN_KEY, json: { webhookUrl: "http://127.0.0.1:9/hook" } });
      // 404: the scene's agent was deleted (the revocation tests), and the call must be refused anyway.
      if (set.status !== 200 && set.status !== 404) throw new Error(`setup webhook: ${set.status} ${set.text}`);
      return { path: `/agents/${s.owner.name}/webhook/test` };
    },
    ok: 200,
  },

  "POST /invites": { request: () => ({ path: "/invites", json: { label: "auth-matrix", maxUses: 1 } }), ok: 201 },
  "GET /invites": { request: () => ({ path: "/invites" }), ok: 200 },
  "DELETE /invites/:code": { request: async () => ({ path: `/invites/${await newInvite()}` }), ok: 204 },

  "POST /messages": {
    request: (s) => ({ path: "/messages", json: textMessage(s.sender.name, "hello back") }),
    ok: 201,
    // Any agent may send; the message is from the caller, whoever it is.
    asOther: { status: 201 },
  },
  "GET /messages": {
    request: () => ({ path: "/messages" }),
    ok: 200,
    asOther: {
      status: 200,
      check(reply, s) {
        // An agent's own inbox page (the admin's would be the global feed).
        const ids = (reply as Reply<MessagePage>).body.messages.map((m) => m.id);
        expect(ids).not.toContain(s.messageId);
      },
    },
  },
  "GET /messages/:id": {
    request: (s) => ({ path: `/messages/${s.messageId}` }),
    ok: 200,
    asOther: { status: 404 },
  },
  "DELETE /messages/:id": {
    request: (s) => ({ path: `/messages/${s.messageId}` }),
    ok: 204,
    usesUpScene: true,
    asOther: { status: 404 },
  },
  "GET /messages/:id/receipts": {
    async request(s) {
      // Receipts are the sender's: the owner sends a message of its own (the admin names it with from=).
      const sent = await send<SendResponse>(s.owner, textMessage(s.sender.name, "the owner's own message"));
      // Not 201: the scene's agent was revoked (the revocation tests), and the call must be refused anyway.
      const id = sent.status === 201 ? sent.body.id : s.messageId;
      return { path: `/messages/${id}/receipts?from=${s.owner.name}` };
    },
    ok: 200,
    // Another agent sent no message with that id: 404, as for any id not its own.
    asOther: { status: 404 },
  },
  "POST /messages/ack": {
    request: (s) => ({ path: "/messages/ack", json: { ids: [s.messageId] } }),
    ok: 200,
    usesUpScene: true,
    asOther: {
      status: 200,
      check(reply, s) {
        // The id is not in the other agent's inbox: nothing deleted, the id reported missing.
        expect(reply.body).toEqual({ deleted: [], missing: [s.messageId] });
      },
    },
  },
  "GET /channels": {
    request: () => ({ path: "/channels" }),
    ok: 200,
    asOther: {
      status: 200,
      check(reply, s) {
        expect(reply.body).not.toContain(s.topic);
      },
    },
  },

  "POST /audit": {
    request: (s) => ({ path: "/audit", json: auditEntry(s) }),
    ok: 201,
    // The entry is about a message to the owner: another agent may not log it as received.
    asOther: { status: 403 },
  },
  "GET /audit": { request: () => ({ path: "/audit?limit=1" }), ok: 200 },

  "GET /webhooks/deliveries": {
    request: () => ({ path: "/webhooks/deliveries" }),
    ok: 200,
    // Any agent reads its own delivery log.
    asOther: { status: 200 },
  },
  "DELETE /audit": { request: () => ({ path: `/audit?before=${LONG_AGO}` }), ok: 200 },
  "GET /admin/stats": { request: () => ({ path: "/admin/stats?minutes=5" }), ok: 200 },
  "GET /skill.md": { request: () => ({ path: "/skill.md" }), ok: 200 },
  "POST /mcp": {
    request: () => ({ path: "/mcp", json: { jsonrpc: "2.0", id: 1, method: "tools/list" } }),
    ok: 200,
    // Any agent may use the MCP tools, as itself.
    asOther: {
      status: 200,
      check(reply) {
        expect(reply.body).toMatchObject({ jsonrpc: "2.0", id: 1, result: { tools: expect.any(Array) } });
      },
    },
  },
};

/** An audit entry the owner may log: it received the scene's message. */
function auditEntry(s: Scene) {
  return {
    messageId: s.messageId,
    direction: "received",
    from: s.sender.name,
    to: s.owner.name,
    topic: s.topic,
    payload: "for the owner only",
    ts: new Date().toISOString(),
  };
}

/** Without a fixture, a route's path parameters are filled from the scene, so 401 cases still run. */
function fallbackRequest(path: string, s: Scene): { path: string; json?: unknown } {
  return {
    path: path
      .replace(":name", s.owner.name)
      .replace(":id", s.messageId)
      .replace(/:\w+/g, "x")
      .replace(/\/\*$/, ""),
  };
}

// ---- The callers --------------------------------------------------------------------------

type CallerKind = "anonymous" | "owner" | "other" | "admin";

interface CallerCase {
  label: string;
  kind: CallerKind;
  /** The Authorization header, or null for none. */
  authorization(s: Scene): string | null;
}

const CALLERS: CallerCase[] = [
  { label: "no Authorization header", kind: "anonymous", authorization: () => null },
  { label: 'the malformed header "Basic xyz"', kind: "anonymous", authorization: () => "Basic xyz" },
  { label: 'the malformed header "Bearer" with no key', kind: "anonymous", authorization: () => "Bearer" },
  { label: 'the malformed header "Bearer a b"', kind: "anonymous", authorization: () => "Bearer a b" },
  { label: "the admin key under another scheme (Token)", kind: "anonymous", authorization: () => `Token ${ADMIN_KEY}` },
  { label: "a well-formed ct_ key that was never issued", kind: "anonymous", authorization: () => `Bearer ${neverIssuedKey()}` },
  { label: "another agent's key", kind: "other", authorization: (s) => `Bearer ${s.other.apiKey}` },
  { label: "the admin key", kind: "admin", authorization: () => `Bearer ${ADMIN_KEY}` },
  { label: "the agent's own key", kind: "owner", authorization: (s) => `Bearer ${s.owner.apiKey}` },
];

/** The status SPEC §9 gives `caller` on `endpoint`. */
function expectedStatus(endpoint: AnyEndpoint, fixture: Fixture | undefined, caller: CallerKind): number | "success" {
  const ok = fixture?.ok ?? "success";
  if (endpoint.access === "public") return ok;
  if (caller === "anonymous") return 401;
  switch (endpoint.access) {
    case "admin":
      return caller === "admin" ? ok : 401;
    case "agent":
      if (caller === "admin") return 403;
      return caller === "owner" ? ok : (fixture?.asOther?.status ?? ok);
    case "agent-or-admin":
      if (caller === "owner" || caller === "admin") return ok;
      return endpoint.ownRecord ? 403 : (fixture?.asOther?.status ?? ok);
  }
}

const CODE_FOR: Record<number, string> = { 401: "UNAUTHORIZED", 403: "FORBIDDEN", 404: "NOT_FOUND" };

function outcome(expected: number | "success"): string {
  if (expected === "success") return "succeeds";
  return expected >= 400 ? `is refused with ${expected} ${CODE_FOR[expected]}` : `answers ${expected}`;
}

async function expectOwnerUntouched(s: Scene): Promise<void> {
  // A refused call changed nothing: the owner's key still works and its message is still there.
  const mine = await call<Envelope>("GET", `/messages/${s.messageId}`, { key: s.owner.apiKey });
  expect(mine.status).toBe(200);
  expect(mine.body.id).toBe(s.messageId);
}

// ---- The matrix -----------------------------------------------------------------------------

const ENDPOINTS = Object.entries(routes).flatMap(([path, endpoints]) =>
  (Object.entries(endpoints) as [Method, AnyEndpoint][]).map(([method, endpoint]) => ({ method, path, endpoint, route: `${method} ${path}` })),
);

/** Every method and path of SPEC §4's table, as the route table spells them. */
const SPEC_ROUTES = [
  "GET /health",
  "POST /agents",
  "GET /agents",
  "GET /agents/:name",
  "PATCH /agents/:name",
  "DELETE /agents/:name",
  "POST /agents/:name/webhook/rotate-secret",
  "POST /agents/:name/webhook/test",
  "POST /agents/:name/rotate-key",
  "POST /invites",
  "GET /invites",
  "DELETE /invites/:code",
  "POST /register",
  "POST /messages",
  "GET /messages",
  "GET /messages/:id",
  "DELETE /messages/:id",
  "POST /messages/ack",
  "GET /channels",
  "POST /audit",
  "GET /audit",
  "DELETE /audit",
  "GET /webhooks/deliveries",
  "POST /mcp",
  "GET /skill.md",
  "GET /openapi.json",
  "GET /dashboard/*",
];

describe("the route table", () => {
  // SPEC §4's route list: a route missing from the table would escape this matrix.
  for (const route of SPEC_ROUTES) {
    it(`serves ${route}, as SPEC §4 lists`, () => {
      expect(ENDPOINTS.map((e) => e.route)).toContain(route);
    });
  }

  for (const { route } of ENDPOINTS) {
    it(`${route} has a request fixture in this matrix`, () => {
      expect(FIXTURES, `add a fixture for ${route} to the auth matrix`).toHaveProperty([route]);
    });
  }
});

// Requests are what make this file slow (under vitest-pool-workers the per-request cost grows with
// the number of requests one file has made: cloudflare/workers-sdk#15446), so the refused calls of one endpoint share one scene: a refused call
// changes nothing, which the last test of each block checks. A success that uses the scene up
// (deleting the owner, its key or its message) gets a scene of its own.

for (const { method, path, endpoint, route } of ENDPOINTS) {
  describe(`${route} (${endpoint.access}${endpoint.ownRecord ? ", own record" : ""})`, () => {
    const fixture = FIXTURES[route];
    let shared: Scene;
    beforeAll(async () => {
      shared = await newScene();
    });

    for (const caller of CALLERS) {
      const expected = expectedStatus(endpoint, fixture, caller.kind);
      const succeeds = expected === "success" || expected < 400;
      const usesUp = succeeds && fixture?.usesUpScene === true && (caller.kind === "owner" || caller.kind === "admin");

      it(`${caller.label} ${outcome(expected)}`, async () => {
        const scene = usesUp ? await newScene() : shared;
        const request = fixture ? await fixture.request(scene) : fallbackRequest(path, scene);
        const authorization = caller.authorization(scene);
        const reply = await call(method, request.path, {
          json: request.json,
          headers: authorization === null ? {} : { Authorization: authorization },
        });
        expectDeclaredAnswer({ method, path, endpoint }, reply);

        if (expected === "success") {
          expect(reply.status, reply.text).toBeGreaterThanOrEqual(200);
          expect(reply.status, reply.text).toBeLessThan(300);
          return;
        }
        expect(reply.status, reply.text).toBe(expected);
        if (expected >= 400) {
          // `error` is a message, never empty.
          expect(reply.body).toEqual({ error: expect.stringMatching(/\S/), code: CODE_FOR[expected] });
        }
        if (caller.kind === "other" && fixture?.asOther?.check) await fixture.asOther.check(reply, scene);
      });
    }

    if (endpoint.access !== "public") {
      it("none of the refused calls changed the owner's key, record or inbox", async () => {
        await expectOwnerUntouched(shared);
      });
    }
  });
}

// ---- Inbox isolation ----------------------------------------------------------------------

describe("an agent's inbox is its own", () => {
  it("a message id from A's inbox is 404 for B on GET and DELETE, and stays in A's inbox", async () => {
    const s = await newScene();
    const read = await call("GET", `/messages/${s.messageId}`, { key: s.other.apiKey });
    expect(read.status).toBe(404);
    expect(read.body).toEqual({ error: expect.any(String), code: "NOT_FOUND" });
    expect(read.text).not.toContain("for the owner only");

    const removed = await call("DELETE", `/messages/${s.messageId}`, { key: s.other.apiKey });
    expect(removed.status).toBe(404);
    expect(removed.body).toEqual({ error: expect.any(String), code: "NOT_FOUND" });

    const mine = await call<Envelope>("GET", `/messages/${s.messageId}`, { key: s.owner.apiKey });
    expect(mine.status).toBe(200);
    expect(mine.body).toMatchObject({ id: s.messageId, payload: "for the owner only" });
  });

  it("a message id from A's inbox looks exactly like an id that does not exist, to B", async () => {
    const s = await newScene();
    const theirs = await call("GET", `/messages/${s.messageId}`, { key: s.other.apiKey });
    const nobodys = await call("GET", `/messages/${crypto.randomUUID()}`, { key: s.other.apiKey });
    expect(theirs.status).toBe(nobodys.status);
    expect(theirs.body).toEqual(nobodys.body);
  });

  it("B's GET /messages never shows A's messages, whatever the query", async () => {
    const s = await newScene();
    const own = await send<SendResponse>(s.sender, textMessage(s.other.name, "for B", { topic: s.topic }));
    expect(own.status).toBe(201);
    for (const query of ["", "sort=asc", `topic=${s.topic}`, `from=${s.sender.name}`, "limit=100", `after=${new Date(0).toISOString()}`]) {
      const page = await inbox<MessagePage>(s.other, query);
      expect(page.status).toBe(200);
      const ids = (page.body.messages as { id: string; to: unknown }[]).map((m) => m.id);
      expect(ids, `query "${query}"`).toContain(own.body.id);
      expect(ids, `query "${query}"`).not.toContain(s.messageId);
      expect(page.text).not.toContain("for the owner only");
    }
  });

  it("B's ack of A's message id deletes nothing from A's inbox", async () => {
    const s = await newScene();
    const ack = await call("POST", "/messages/ack", { key: s.other.apiKey, json: { ids: [s.messageId] } });
    expect(ack.status).toBe(200);
    expect(ack.body).toEqual({ deleted: [], missing: [s.messageId] });
    const page = await inbox<MessagePage>(s.owner);
    expect((page.body.messages as { id: string }[]).map((m) => m.id)).toContain(s.messageId);
  });

  it("B's channels do not list a topic only A received", async () => {
    const s = await newScene();
    const mine = await call("GET", "/channels", { key: s.owner.apiKey });
    expect(mine.body).toContain(s.topic);
    const theirs = await call("GET", "/channels", { key: s.other.apiKey });
    expect(theirs.status).toBe(200);
    expect(theirs.body).not.toContain(s.topic);
  });
});

describe("`me` names the caller", () => {
  it("GET /agents/me answers the calling agent's own record, not another's", async () => {
    const s = await newScene();
    const me = await call<AgentPrivate>("GET", "/agents/me", { key: s.other.apiKey });
    expect(me.status).toBe(200);
    expect(me.body.name).toBe(s.other.name);
    expect(me.body).toHaveProperty("webhookUrl");
  });

  it("an agent may rotate its own key through /agents/me/rotate-key", async () => {
    const s = await newScene();
    const rotated = await call<Registration>("POST", "/agents/me/rotate-key", { key: s.owner.apiKey });
    expect(rotated.status).toBe(200);
    expect(rotated.body.name).toBe(s.owner.name);
  });

  it("the admin key has no record of its own: /agents/me is 403 for it", async () => {
    for (const [method, path] of [["GET", "/agents/me"], ["POST", "/agents/me/rotate-key"], ["PATCH", "/agents/me"]] as const) {
      const reply = await call<ErrorBody>(method, path, { key: ADMIN_KEY, json: method === "PATCH" ? { capabilities: [] } : undefined });
      expect(reply.status, `${method} ${path}`).toBe(403);
      expect(reply.body.code).toBe("FORBIDDEN");
    }
  });

  it("an agent may not change its own owner (only the admin may)", async () => {
    const s = await newScene();
    const byAgent = await call<ErrorBody>("PATCH", `/agents/${s.owner.name}`, { key: s.owner.apiKey, json: { owner: "someone else" } });
    expect(byAgent.status).toBe(403);
    expect(byAgent.body.code).toBe("FORBIDDEN");
    const byAdmin = await call<AgentPrivate>("PATCH", `/agents/${s.owner.name}`, { key: ADMIN_KEY, json: { owner: "ops team" } });
    expect(byAdmin.status).toBe(200);
    expect(byAdmin.body.owner).toBe("ops team");
  });
});

// ---- Keys that stop working -----------------------------------------------------------------

const SECURED = ENDPOINTS.filter((e) => e.endpoint.access !== "public");

/** Calls `route` as its fixture describes it, with `key`. */
async function callRoute(endpoint: (typeof ENDPOINTS)[number], scene: Scene, key: string): Promise<Reply> {
  const fixture = FIXTURES[endpoint.route];
  const request = fixture ? await fixture.request(scene) : fallbackRequest(endpoint.path, scene);
  return call(endpoint.method, request.path, { key, json: request.json });
}

/** Uses a key on both kinds of hot path first, so any cache of it is warm when it is revoked. */
async function warm(key: string): Promise<void> {
  expect((await call("GET", "/agents/me", { key })).status).toBe(200);
  expect((await call("GET", "/messages", { key })).status).toBe(200);
}

function expectUnauthorized(reply: Reply, route: string): void {
  expect(reply.status, `${route}: ${reply.text}`).toBe(401);
  expect(reply.body).toEqual({ error: expect.any(String), code: "UNAUTHORIZED" });
}

/** A revocation, then the revoked key on every secured route (refused calls change nothing, so one scene serves all). */
interface Revocation {
  what: string;
  /** Revokes the owner's key; answers the owner's new key, if it has one. */
  revoke(s: Scene): Promise<string | null>;
  afterwards: { name: string; check(s: Scene, newKey: string | null): Promise<void> };
}

const newKeyWorks: Revocation["afterwards"] = {
  name: "the new key works at once and reaches the same record and inbox",
  async check(s, newKey) {
    const me = await call<AgentPrivate>("GET", "/agents/me", { key: newKey });
    expect(me.status).toBe(200);
    expect(me.body.name).toBe(s.owner.name);
    const mine = await call("GET", `/messages/${s.messageId}`, { key: newKey });
    expect(mine.status).toBe(200);
  },
};

const REVOCATIONS: Revocation[] = [
  {
    what: "after the agent rotates its own key",
    async revoke(s) {
      const rotated = await call<Registration>("POST", `/agents/${s.owner.name}/rotate-key`, { key: s.owner.apiKey });
      expect(rotated.status).toBe(200);
      expect(rotated.body.apiKey).toMatch(/^ct_[A-Za-z0-9_-]{43}$/);
      expect(rotated.body.apiKey).not.toBe(s.owner.apiKey);
      return rotated.body.apiKey;
    },
    afterwards: newKeyWorks,
  },
  {
    what: "after the admin rotates the agent's key",
    async revoke(s) {
      const rotated = await call<Registration>("POST", `/agents/${s.owner.name}/rotate-key`, { key: ADMIN_KEY });
      expect(rotated.status).toBe(200);
      return rotated.body.apiKey;
    },
    afterwards: newKeyWorks,
  },
  {
    what: "after the admin deletes the agent",
    async revoke(s) {
      const removed = await call("DELETE", `/agents/${s.owner.name}`, { key: ADMIN_KEY });
      expect(removed.status).toBe(204);
      return null;
    },
    afterwards: {
      name: "the agent is gone: its record is 404 and a send to it is refused",
      async check(s) {
        const record = await call("GET", `/agents/${s.owner.name}`, { key: ADMIN_KEY });
        expect(record.status).toBe(404);
        const sent = await send<ErrorBody>(s.sender, textMessage(s.owner.name));
        expect(sent.status).toBe(404);
        expect(sent.body.code).toBe("UNKNOWN_RECIPIENT");
      },
    },
  },
];

for (const { what, revoke, afterwards } of REVOCATIONS) {
  describe(`${what}, the old key is refused at once`, () => {
    // Refused calls change nothing, so one scene serves every route.
    let scene: Scene;
    let newKey: string | null;
    beforeAll(async () => {
      scene = await newScene();
      await warm(scene.owner.apiKey);
      newKey = await revoke(scene);
    });

    for (const endpoint of SECURED) {
      it(`401 on ${endpoint.route}`, async () => {
        expectUnauthorized(await callRoute(endpoint, scene, scene.owner.apiKey), endpoint.route);
      });
    }

    it(afterwards.name, () => afterwards.check(scene, newKey));
  });
}
