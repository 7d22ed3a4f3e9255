// The audit log (SPEC §4.5): agents log entries about messages they sent or received; the relay
// keeps the metadata and the payload's SHA-256, never the payload; the admin reads and clears.
// Entries of other tests share the log, so every test uses its own topic or agent names.

import { env } from "cloudflare:workers";
import { runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { AuditEntry } from "../../protocol/envelope.js";
import { ADMIN_KEY, call, register, uniqueName, type Reply, type TestAgent } from "../support/relay.js";

const ISO_MS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const SHA256_HEX = /^[0-9a-f]{64}$/;

function expectError(reply: Reply, status: number, code: string): void {
  expect(reply.status, reply.text).toBe(status);
  // `error` is a message, never empty.
  expect(reply.body).toMatchObject({ code, error: expect.stringMatching(/\S/) });
}

async function sha256Hex(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return [...new Uint8Array(digest)].map((byte) => byte.toString(16).padStart(2, "0")).join("");
}

/** A topic no other test uses. */
function uniqueTopic(prefix: string): string {
  return `audit.${uniqueName(prefix)}`;
}

function entry(from: string, to: unknown, fields: Record<string, unknown> = {}) {
  return {
    messageId: crypto.randomUUID(),
    direction: "sent",
    from,
    to,
    payload: "hello",
    ts: new Date().toISOString(),
    ...fields,
  };
}

function postAudit<T = unknown>(agent: TestAgent, body: unknown): Promise<Reply<T>> {
  return call<T>("POST", "/audit", { key: agent.apiKey, json: body });
}

async function logged(agent: TestAgent, body: unknown): Promise<AuditEntry> {
  const reply = await postAudit<AuditEntry>(agent, body);
  expect(reply.status, reply.text).toBe(201);
  return reply.body;
}

async function readAudit(query: string): Promise<AuditEntry[]> {
  const reply = await call<AuditEntry[]>("GET", `/audit?${query}`, { key: ADMIN_KEY });
  expect(reply.status, reply.text).toBe(200);
  expect(Array.isArray(reply.body)).toBe(true);
  return reply.body;
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("logging an entry (POST /audit)", () => {
  it("logs a sent message for its sender: 201 with loggedBy, loggedAt and the payload's SHA-256", async () => {
    const alice = await register("Alice");
    const bob = await register("bob");
    const topic = uniqueTopic("sent");
    const body = entry(alice.name, bob.name, { topic, correlationId: "corr-1", payload: "the quarterly numbers" });
    const before = Date.now();
    const stored = await logged(alice, body);
    expect(stored).toMatchObject({
      messageId: body.messageId,
      direction: "sent",
      from: alice.name,
      to: bob.name,
      topic,
      correlationId: "corr-1",
      ts: body.ts,
      loggedBy: alice.name,
      payloadSha256: await sha256Hex("the quarterly numbers"),
    });
    expect(stored.loggedAt).toMatch(ISO_MS);
    expect(Date.parse(stored.loggedAt)).toBeGreaterThanOrEqual(before - 1000);
    expect(Date.parse(stored.loggedAt)).toBeLessThanOrEqual(Date.now() + 1000);
    expect(stored).not.toHaveProperty("payload");
    expect(await readAudit(`topic=${topic}`)).toEqual([stored]);
  });

  it("logs a received message for a recipient among `to`", async () => {
    const alice = await register("alice");
    const bob = await register("bob");
    const carol = await register("carol");
    const stored = await logged(carol, entry(alice.name, [bob.name, carol.name], { direction: "received" }));
    expect(stored).toMatchObject({ direction: "received", from: alice.name, to: [bob.name, carol.name], loggedBy: carol.name });
  });

  it("compares names case-insensitively and reports the caller's registered spelling as loggedBy", async () => {
    const alice = await register("CaseAlice");
    const bob = await register("CaseBob");
    const sent = await logged(alice, entry(alice.name.toLowerCase(), bob.name));
    expect(sent.loggedBy).toBe(alice.name);
    const received = await logged(bob, entry(alice.name, [bob.name.toUpperCase()], { direction: "received" }));
    expect(received.loggedBy).toBe(bob.name);
  });

  it("accepts a received broadcast from any agent (every agent is among `broadcast`)", async () => {
    const alice = await register("alice");
    const bob = await register("bob");
    const stored = await logged(bob, entry(alice.name, "broadcast", { direction: "received" }));
    expect(stored).toMatchObject({ to: "broadcast", loggedBy: bob.name });
  });

  it("refuses with 403 a sent entry whose `from` is not the caller, and a received entry that does not name the caller", async () => {
    const alice = await register("alice");
    const bob = await register("bob");
    const mallory = await register("mallory");
    const topic = uniqueTopic("forged");
    expectError(await postAudit(mallory, entry(alice.name, bob.name, { topic })), 403, "FORBIDDEN");
    expectError(await postAudit(mallory, entry(alice.name, [bob.name], { topic, direction: "received" })), 403, "FORBIDDEN");
    // A sent entry by a recipient, or a received one by the sender, is forged too.
    expectError(await postAudit(bob, entry(alice.name, bob.name, { topic, direction: "sent" })), 403, "FORBIDDEN");
    expectError(await postAudit(alice, entry(alice.name, bob.name, { topic, direction: "received" })), 403, "FORBIDDEN");
    expect(await readAudit(`topic=${topic}`)).toEqual([]);
  });

  it("is for agents: the admin key is refused with 403, no key with 401", async () => {
    const alice = await register("alice");
    expectError(await call("POST", "/audit", { key: ADMIN_KEY, json: entry(alice.name, "bob") }), 403, "FORBIDDEN");
    expectError(await call("POST", "/audit", { json: entry(alice.name, "bob") }), 401, "UNAUTHORIZED");
  });

  it.each([
    ["an unknown direction", { direction: "forwarded" }],
    ["no payload", { payload: undefined }],
    ["no messageId", { messageId: undefined }],
    ["a timestamp that is not ISO-8601", { ts: "yesterday" }],
    ["an invalid topic", { topic: "has spaces" }],
    ["an unknown field", { extra: 1 }],
  ])("refuses %s with 400", async (_what, fields) => {
    const alice = await register("alice");
    expectError(await postAudit(alice, entry(alice.name, "someone", fields)), 400, "BAD_REQUEST");
  });

  it("refuses a body over 64 KiB with 413", async () => {
    const alice = await register("alice");
    const reply = await postAudit(alice, entry(alice.name, "someone", { payload: "x".repeat(64 * 1024) }));
    expectError(reply, 413, "PAYLOAD_TOO_LARGE");
  });
});

describe("the payload is never kept", () => {
  it("hashes a string payload as its UTF-8 bytes", async () => {
    const alice = await register("alice");
    const text = "grüße, 世界 🌍";
    const stored = await logged(alice, entry(alice.name, "bob", { payload: text }));
    expect(stored.payloadSha256).toMatch(SHA256_HEX);
    expect(stored.payloadSha256).toBe(await sha256Hex(text));
  });

  it("hashes an object payload as its RFC 8785 canonical JSON, whatever the key order", async () => {
    const alice = await register("alice");
    const canonical = '{"a":{"c":true,"d":[1,"x",null]},"b":1500,"text":"hi"}';
    const first = await logged(alice, entry(alice.name, "bob", { payload: { text: "hi", b: 1.5e3, a: { d: [1, "x", null], c: true } } }));
    // Sent as raw text: whitespace, another key order and another spelling of 1500.
    const raw = JSON.stringify(entry(alice.name, "bob", { payload: "PLACEHOLDER" })).replace(
      '"PLACEHOLDER"',
      '{ "text" : "hi",\n  "b": 1.5e3, "a": {"d": [1.0, "x", null], "c": true} }',
    );
    const second = await call<AuditEntry>("POST", "/audit", { key: alice.apiKey, raw });
    expect(second.status, second.text).toBe(201);
    expect(first.payloadSha256).toBe(await sha256Hex(canonical));
    expect(second.body.payloadSha256).toBe(first.payloadSha256);
  });

  it("keeps no trace of the payload in the answer, the log or the audit object's storage", async () => {
    const alice = await register("alice");
    const topic = uniqueTopic("secret");
    const secret = `TOP-SECRET-${crypto.randomUUID()}`;
    const objectSecret = `NESTED-SECRET-${crypto.randomUUID()}`;
    const posts = [
      await postAudit(alice, entry(alice.name, "bob", { topic, payload: secret })),
      await postAudit(alice, entry(alice.name, "bob", { topic, payload: { text: objectSecret } })),
    ];
    for (const post of posts) {
      expect(post.status).toBe(201);
      expect(post.text).not.toContain("SECRET-");
    }
    const read = await call<AuditEntry[]>("GET", `/audit?topic=${topic}`, { key: ADMIN_KEY });
    expect(read.body).toHaveLength(2);
    expect(read.text).not.toContain(secret);
    expect(read.text).not.toContain(objectSecret);
    for (const stored of read.body) expect(stored).not.toHaveProperty("payload");

    const dump = await runInDurableObject(env.AUDIT.getByName("audit"), async (_instance, state) => {
      const tables = state.storage.sql
        .exec<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_cf_%'")
        .toArray()
        .map((row) => row.name);
      const rows = tables.flatMap((table) => state.storage.sql.exec(`SELECT * FROM "${table}"`).toArray());
      const kv = [...(await state.storage.list()).entries()];
      return JSON.stringify({ rows, kv });
    });
    expect(dump).toContain(topic); // the scan did see our entries
    expect(dump).not.toContain(secret);
    expect(dump).not.toContain(objectSecret);
  });
});

describe("reading the log (GET /audit)", () => {
  it("answers newest first", async () => {
    const alice = await register("alice");
    const topic = uniqueTopic("order");
    const ids: string[] = [];
    for (let i = 0; i < 4; i++) ids.push((await logged(alice, entry(alice.name, "bob", { topic }))).messageId);
    const read = await readAudit(`topic=${topic}`);
    expect(read.map((e) => e.messageId)).toEqual([...ids].reverse());
    const times = read.map((e) => Date.parse(e.loggedAt));
    expect([...times].sort((a, b) => b - a)).toEqual(times);
  });

  it("filters by sender and by recipient, case-insensitively", async () => {
    const alice = await register("alice");
    const bob = await register("bob");
    const carol = await register("carol");
    const topic = uniqueTopic("who");
    const aliceToBob = await logged(alice, entry(alice.name, bob.name, { topic }));
    const aliceToCarol = await logged(alice, entry(alice.name, [carol.name], { topic }));
    const bobToBoth = await logged(bob, entry(bob.name, [alice.name, carol.name], { topic }));
    const ids = (entries: AuditEntry[]) => entries.map((e) => e.messageId);

    expect(ids(await readAudit(`from=${alice.name.toUpperCase()}`))).toEqual([aliceToCarol.messageId, aliceToBob.messageId]);
    expect(ids(await readAudit(`from=${bob.name}`))).toEqual([bobToBoth.messageId]);
    expect(ids(await readAudit(`to=${carol.name.toUpperCase()}`))).toEqual([bobToBoth.messageId, aliceToCarol.messageId]);
    expect(ids(await readAudit(`to=${bob.name}`))).toEqual([aliceToBob.messageId]);
    expect(ids(await readAudit(`from=${alice.name}&to=${carol.name}`))).toEqual([aliceToCarol.messageId]);
    expect(ids(await readAudit(`from=${carol.name}`))).toEqual([]);
  });

  it("filters by topic", async () => {
    const alice = await register("alice");
    const [red, blue] = [uniqueTopic("red"), uniqueTopic("blue")];
    const onRed = await logged(alice, entry(alice.name, "bob", { topic: red }));
    await logged(alice, entry(alice.name, "bob", { topic: blue }));
    await logged(alice, entry(alice.name, "bob"));
    expect((await readAudit(`topic=${red}`)).map((e) => e.messageId)).toEqual([onRed.messageId]);
    expect(await readAudit(`topic=${red}&from=${alice.name}`)).toHaveLength(1);
    expect(await readAudit(`from=${alice.name}`)).toHaveLength(3);
  });

  it("filters by since, on the relay's loggedAt", async () => {
    const alice = await register("alice");
    const topic = uniqueTopic("since");
    const early = await logged(alice, entry(alice.name, "bob", { topic, ts: "2020-01-01T00:00:00.000Z" }));
    await pause(20);
    const late = await logged(alice, entry(alice.name, "bob", { topic, ts: "2020-01-01T00:00:00.000Z" }));
    const between = new Date(Date.parse(early.loggedAt) + 1).toISOString();
    expect((await readAudit(`topic=${topic}&since=${between}`)).map((e) => e.messageId)).toEqual([late.messageId]);
    expect(await readAudit(`topic=${topic}&since=2000-01-01T00:00:00.000Z`)).toHaveLength(2);
    expect(await readAudit(`topic=${topic}&since=${new Date(Date.now() + 60_000).toISOString()}`)).toEqual([]);
  });

  it("pages with limit: default 50, at most 200 (larger is clamped)", async () => {
    const agents = await Promise.all(Array.from({ length: 5 }, () => register("bulk")));
    const topic = uniqueTopic("bulk");
    // 205 entries, posted by five agents in parallel batches.
    for (let batch = 0; batch < 41; batch++) {
      const replies = await Promise.all(agents.map((agent) => postAudit(agent, entry(agent.name, "bob", { topic }))));
      for (const reply of replies) expect(reply.status).toBe(201);
    }
    expect(await readAudit(`topic=${topic}`)).toHaveLength(50);
    expect(await readAudit(`topic=${topic}&limit=7`)).toHaveLength(7);
    expect(await readAudit(`topic=${topic}&limit=200`)).toHaveLength(200);
    const clamped = await readAudit(`topic=${topic}&limit=100000`);
    expect(clamped).toHaveLength(200);
    const newest = await readAudit(`topic=${topic}&limit=3`);
    expect(clamped.slice(0, 3)).toEqual(newest);
  });

  it.each(["limit=0", "limit=abc", "limit=-5", "since=yesterday", "from=not%20a%20name", "topic=has%20space"])(
    "refuses %s with 400",
    async (query) => {
      expectError(await call("GET", `/audit?${query}`, { key: ADMIN_KEY }), 400, "BAD_REQUEST");
    },
  );

  it("is for the admin only", async () => {
    const alice = await register("alice");
    expectError(await call("GET", "/audit", { key: alice.apiKey }), 403, "FORBIDDEN");
    expectError(await call("GET", "/audit"), 401, "UNAUTHORIZED");
  });
});

describe("clearing the log (DELETE /audit)", () => {
  it("deletes the entries logged before `before` and answers how many", async () => {
    const alice = await register("alice");
    const topic = uniqueTopic("clear");
    const old = await logged(alice, entry(alice.name, "bob", { topic }));
    await pause(20);
    const fresh = await logged(alice, entry(alice.name, "bob", { topic }));
    // Strictly between the two loggedAt times: only `old` (and older entries of other tests) go.
    const before = new Date(Date.parse(old.loggedAt) + 1).toISOString();
    expect(Date.parse(fresh.loggedAt)).toBeGreaterThan(Date.parse(before));

    const cleared = await call<{ deleted: number }>("DELETE", `/audit?before=${before}`, { key: ADMIN_KEY });
    expect(cleared.status, cleared.text).toBe(200);
    expect(Object.keys(cleared.body)).toEqual(["deleted"]);
    expect(Number.isInteger(cleared.body.deleted)).toBe(true);
    expect(cleared.body.deleted).toBeGreaterThanOrEqual(1);
    expect((await readAudit(`topic=${topic}`)).map((e) => e.messageId)).toEqual([fresh.messageId]);
  });

  it("answers {deleted: 0} when nothing is that old", async () => {
    const cleared = await call("DELETE", "/audit?before=2000-01-01T00:00:00.000Z", { key: ADMIN_KEY });
    expect(cleared.status).toBe(200);
    expect(cleared.body).toEqual({ deleted: 0 });
  });

  it("needs `before`: missing or not ISO-8601 is 400, and nothing is deleted", async () => {
    const alice = await register("alice");
    const topic = uniqueTopic("keep");
    await logged(alice, entry(alice.name, "bob", { topic }));
    expectError(await call("DELETE", "/audit", { key: ADMIN_KEY }), 400, "BAD_REQUEST");
    expectError(await call("DELETE", "/audit?before=soon", { key: ADMIN_KEY }), 400, "BAD_REQUEST");
    expect(await readAudit(`topic=${topic}`)).toHaveLength(1);
  });

  it("is for the admin only", async () => {
    const alice = await register("alice");
    const topic = uniqueTopic("guard");
    await logged(alice, entry(alice.name, "bob", { topic }));
    const future = new Date(Date.now() + 3600_000).toISOString();
    expectError(await call("DELETE", `/audit?before=${future}`, { key: alice.apiKey }), 403, "FORBIDDEN");
    expect(await readAudit(`topic=${topic}`)).toHaveLength(1);
  });
});
