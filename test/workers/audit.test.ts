// The audit log (SPEC §13, §10): agents log what they sent and received, with the payload as
// posted; the admin reads `{entries, cursor, hasMore}`, filters, pages by cursor and clears.
// Storage is this file's own; tests run one after another, and each uses its own topic or agents
// (the original's flow empties the whole log).

import { env } from "cloudflare:workers";
import { runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { AuditEntry, AuditPage } from "../../protocol/envelope.js";
import { auditQuerySql, type AuditQuery } from "../../durable-objects/audit.js";
import { ADMIN_KEY, call, register, send, textMessage, uniqueName, type Reply, type TestAgent } from "../support/relay.js";

const ISO_MS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

type ErrorReply = { error: string; code: string };

function expectError(reply: Reply<unknown>, status: number, code: string, field?: string): void {
  expect(reply.status, reply.text).toBe(status);
  const body = reply.body as ErrorReply;
  expect(body.code).toBe(code);
  expect(body.error.length).toBeGreaterThan(0);
  if (field !== undefined) expect(body.error).toMatch(new RegExp(`^${field}\\b`));
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
  return { messageId: crypto.randomUUID(), direction: "sent", from, to, payload: "hello", ts: new Date().toISOString(), ...fields };
}

function postAudit(agent: TestAgent, body: unknown): Promise<Reply<unknown>> {
  return call<unknown>("POST", "/audit", { key: agent.apiKey, json: body });
}

async function logged(agent: TestAgent, body: unknown): Promise<AuditEntry> {
  const reply = await call<AuditEntry>("POST", "/audit", { key: agent.apiKey, json: body });
  expect(reply.status, reply.text).toBe(201);
  return reply.body;
}

async function readAudit(query: string): Promise<AuditPage> {
  const reply = await call<AuditPage>("GET", `/audit?${query}`, { key: ADMIN_KEY });
  expect(reply.status, reply.text).toBe(200);
  expect(Object.keys(reply.body)).toEqual(["entries", "cursor", "hasMore"]);
  return reply.body;
}

const ids = (page: AuditPage) => page.entries.map((e) => e.messageId);

describe("the original ClawTalk's audit flow, end to end (SPEC §10)", () => {
  it("both sides log the message in plaintext; the admin reads, filters, is the only reader, and clears the log", async () => {
    const alice = await register("alice");
    const bob = await register("bob");
    const topic = uniqueTopic("greeting");
    const plaintext = { text: "Hello Bob, this is a secret message!", code: 42 };
    const sent = await send(alice, textMessage(bob.name, plaintext, { type: "request", topic }));
    expect(sent.status, sent.text).toBe(201);
    const sentId = (sent.body as { id: string; ts: string }).id;
    const inbox = await call<{ messages: { id: string; from: string; to: string; ts: string; payload: unknown }[] }>("GET", `/messages?topic=${topic}`, { key: bob.apiKey });
    const received = inbox.body.messages.find((m) => m.id === sentId)!;
    expect(received.payload).toEqual(plaintext);

    await logged(alice, { messageId: sentId, direction: "sent", from: alice.name, to: bob.name, topic, payload: plaintext, ts: (sent.body as { ts: string }).ts });
    await logged(bob, { messageId: sentId, direction: "received", from: received.from, to: received.to, topic, payload: received.payload, ts: received.ts });

    const all = await readAudit("");
    const sentEntry = all.entries.find((e) => e.messageId === sentId && e.direction === "sent");
    const receivedEntry = all.entries.find((e) => e.messageId === sentId && e.direction === "received");
    expect(sentEntry).toMatchObject({ loggedBy: alice.name, from: alice.name, to: bob.name, topic, sealed: false });
    expect(receivedEntry).toMatchObject({ loggedBy: bob.name, from: alice.name, to: bob.name, topic, sealed: false });
    expect((sentEntry!.payload as { text: string }).text).toBe(plaintext.text);
    expect((receivedEntry!.payload as { text: string }).text).toBe(plaintext.text);

    // Other traffic in the log, so that the filters have something to leave out.
    await logged(bob, entry(bob.name, alice.name, { topic: uniqueTopic("other") }));
    const fromAlice = await readAudit(`from=${encodeURIComponent(alice.name)}`);
    expect(fromAlice.entries.length).toBeGreaterThan(0);
    expect(fromAlice.entries.every((e) => e.from === alice.name)).toBe(true);
    expect(ids(fromAlice)).toEqual([sentId, sentId]);
    const byTopic = await readAudit(`topic=${topic}`);
    expect(byTopic.entries).toHaveLength(2);
    expect(byTopic.entries.every((e) => e.topic === topic)).toBe(true);

    expectError(await call<unknown>("GET", "/audit", { key: alice.apiKey }), 401, "UNAUTHORIZED");

    const future = new Date(Date.now() + 86_400_000).toISOString();
    const cleared = await call<{ deleted: number }>("DELETE", `/audit?before=${encodeURIComponent(future)}`, { key: ADMIN_KEY });
    expect(cleared.status, cleared.text).toBe(200);
    expect(cleared.body.deleted).toBeGreaterThanOrEqual(3);
    expect(await readAudit("")).toEqual({ entries: [], cursor: null, hasMore: false });
  });
});

describe("logging an entry (POST /audit)", () => {
  it("answers 201 with the entry as kept: the payload as posted, its SHA-256, sealed: false, loggedBy and loggedAt", async () => {
    const alice = await register("Alice");
    const bob = await register("bob");
    const topic = uniqueTopic("sent");
    const body = entry(alice.name, bob.name, { topic, correlationId: "corr-1", payload: "the quarterly numbers" });
    const before = Date.now();
    const stored = await logged(alice, body);
    expect(stored).toEqual({
      messageId: body.messageId,
      direction: "sent",
      from: alice.name,
      to: bob.name,
      topic,
      correlationId: "corr-1",
      payload: "the quarterly numbers",
      payloadSha256: await sha256Hex("the quarterly numbers"),
      sealed: false,
      ts: body.ts,
      loggedBy: alice.name,
      loggedAt: expect.stringMatching(ISO_MS),
    });
    expect(Date.parse(stored.loggedAt)).toBeGreaterThanOrEqual(before - 1000);
    expect(Date.parse(stored.loggedAt)).toBeLessThanOrEqual(Date.now() + 1000);
    expect((await readAudit(`topic=${topic}`)).entries).toEqual([stored]);
  });

  it("keeps any JSON payload as posted (object, array, number, null, unicode) and hashes it as RFC 8785 canonical JSON", async () => {
    const alice = await register("alice");
    const topic = uniqueTopic("payloads");
    const payloads = [{ text: "hi", b: 1500, a: { d: [1, "x", null], c: true } }, ["a", 1], 42, null, "grüße, 世界 🌍"];
    for (const payload of payloads) await logged(alice, entry(alice.name, "bob", { topic, payload }));
    const read = (await readAudit(`topic=${topic}`)).entries.reverse();
    expect(read.map((e) => e.payload)).toEqual(payloads);
    expect(read[0]!.payloadSha256).toBe(await sha256Hex('{"a":{"c":true,"d":[1,"x",null]},"b":1500,"text":"hi"}'));
    expect(read[4]!.payloadSha256).toBe(await sha256Hex("grüße, 世界 🌍"));
  });

  it("logs a received message for a recipient among `to`, names compared case-insensitively, loggedBy in the registered spelling", async () => {
    const alice = await register("CaseAlice");
    const bob = await register("CaseBob");
    const carol = await register("carol");
    const multi = await logged(carol, entry(alice.name, [bob.name, carol.name.toUpperCase()], { direction: "received" }));
    expect(multi).toMatchObject({ direction: "received", to: [bob.name, carol.name.toUpperCase()], loggedBy: carol.name });
    expect((await logged(alice, entry(alice.name.toLowerCase(), bob.name))).loggedBy).toBe(alice.name);
  });

  it("accepts a received broadcast from any agent (every agent is among `broadcast`)", async () => {
    const alice = await register("alice");
    const bob = await register("bob");
    expect(await logged(bob, entry(alice.name, "broadcast", { direction: "received" }))).toMatchObject({ to: "broadcast", loggedBy: bob.name });
  });

  it("refuses with 403 a sent entry whose `from` is not the caller, and a received entry that does not name the caller", async () => {
    const alice = await register("alice");
    const bob = await register("bob");
    const mallory = await register("mallory");
    const topic = uniqueTopic("forged");
    expectError(await postAudit(mallory, entry(alice.name, bob.name, { topic })), 403, "FORBIDDEN");
    expectError(await postAudit(mallory, entry(alice.name, [bob.name], { topic, direction: "received" })), 403, "FORBIDDEN");
    expectError(await postAudit(bob, entry(alice.name, bob.name, { topic, direction: "sent" })), 403, "FORBIDDEN");
    expectError(await postAudit(alice, entry(alice.name, bob.name, { topic, direction: "received" })), 403, "FORBIDDEN");
    expect((await readAudit(`topic=${topic}`)).entries).toEqual([]);
  });

  it("is for agents: the admin key is refused with 403, no key with 401", async () => {
    const alice = await register("alice");
    expectError(await call<unknown>("POST", "/audit", { key: ADMIN_KEY, json: entry(alice.name, "bob") }), 403, "FORBIDDEN");
    expectError(await call<unknown>("POST", "/audit", { json: entry(alice.name, "bob") }), 401, "UNAUTHORIZED");
  });

  it.each([
    ["an unknown direction", { direction: "forwarded" }, "direction"],
    ["no payload", { payload: undefined }, "payload"],
    ["no messageId", { messageId: undefined }, "messageId"],
    ["a timestamp that is not ISO-8601", { ts: "yesterday" }, "ts"],
    ["an invalid topic", { topic: "has spaces" }, "topic"],
    ["`sealed` that is not a boolean", { sealed: "yes" }, "sealed"],
    ["an unknown field", { extra: 1 }, "Unknown field"],
  ])("refuses %s with 400 naming the field", async (_what, fields, field) => {
    const alice = await register("alice");
    expectError(await postAudit(alice, entry(alice.name, "someone", fields)), 400, "BAD_REQUEST", field);
  });

  const longName = "n".repeat(33);
  it.each([
    ["a string that is not a name", "not a name"],
    ["an empty string", ""],
    ["a reserved word", "admin"],
    ["`me`", "me"],
    ["a name of 33 characters", longName],
    ["a number", 7],
    ["an object", { name: "bob" }],
    ["an empty array", []],
    ["an array holding a non-name", ["bob", "<b>x</b>"]],
    ["an array holding a number", ["bob", 1]],
    ["an array holding broadcast", ["bob", "broadcast"]],
    ["an array with a name twice (any case)", ["bob", "BOB"]],
    ["101 names", Array.from({ length: 101 }, (_, i) => `agent_${i}`)],
  ])("refuses `to` as %s with 400 naming `to`, storing nothing", async (_what, to) => {
    const alice = await register("alice");
    const topic = uniqueTopic("to");
    expectError(await postAudit(alice, entry(alice.name, to, { topic })), 400, "BAD_REQUEST", "to");
    expect((await readAudit(`topic=${topic}`)).entries).toEqual([]);
  });

  it("accepts `to` as 100 distinct names", async () => {
    const alice = await register("alice");
    const to = Array.from({ length: 100 }, (_, i) => `agent_${i}`);
    expect((await logged(alice, entry(alice.name, to))).to).toEqual(to);
  });

  it("refuses a body over 64 KiB with 413", async () => {
    const alice = await register("alice");
    expectError(await postAudit(alice, entry(alice.name, "someone", { payload: "x".repeat(64 * 1024) })), 413, "PAYLOAD_TOO_LARGE");
  });
});

describe("reading the log (GET /audit)", () => {
  it("answers newest first, with cursor = the oldest loggedAt of the page and hasMore", async () => {
    const alice = await register("alice");
    const topic = uniqueTopic("order");
    const posted: AuditEntry[] = [];
    for (let i = 0; i < 4; i++) posted.push(await logged(alice, entry(alice.name, "bob", { topic })));
    const page = await readAudit(`topic=${topic}&limit=3`);
    expect(ids(page)).toEqual(posted.slice(1).reverse().map((e) => e.messageId));
    expect(page.cursor).toBe(posted[1]!.loggedAt);
    expect(page.hasMore).toBe(true);
    const last = await readAudit(`topic=${topic}&limit=3&before=${page.cursor}`);
    expect(last).toEqual({ entries: [posted[0]], cursor: posted[0]!.loggedAt, hasMore: false });
  });

  it("gives each agent's entries posted at once unique loggedAt, and paging by cursor walks the log exactly once", async () => {
    const agents = await Promise.all(Array.from({ length: 4 }, () => register("burst")));
    const topic = uniqueTopic("burst");
    const replies = await Promise.all(
      Array.from({ length: 60 }, (_, i) => call<AuditEntry>("POST", "/audit", { key: agents[i % 4]!.apiKey, json: entry(agents[i % 4]!.name, "bob", { topic }) })),
    );
    for (const reply of replies) expect(reply.status, reply.text).toBe(201);
    // An agent's entries are in its one audit shard, whose loggedAt is unique; agents of different
    // shards may share a millisecond, and the walk below still meets every entry once.
    for (const agent of agents) {
      const times = replies.filter((r) => r.body.from === agent.name).map((r) => Date.parse(r.body.loggedAt));
      expect(new Set(times).size).toBe(15);
    }

    for (const filter of [`topic=${topic}`, `from=${agents[2]!.name}`]) {
      const expected = replies.map((r) => r.body).filter((e) => (filter.startsWith("topic") ? true : e.from === agents[2]!.name));
      const walked: AuditEntry[] = [];
      let before: string | null = null;
      for (let pages = 0; pages < 100; pages++) {
        const page = await readAudit(`${filter}&limit=7${before ? `&before=${before}` : ""}`);
        walked.push(...page.entries);
        if (!page.hasMore) break;
        before = page.cursor;
      }
      expect(walked.map((e) => e.loggedAt)).toEqual([...expected].sort((a, b) => Date.parse(b.loggedAt) - Date.parse(a.loggedAt)).map((e) => e.loggedAt));
      expect(walked.map((e) => e.messageId).sort()).toEqual(expected.map((e) => e.messageId).sort());
    }
  });

  it("filters by sender and by recipient, case-insensitively, also together", async () => {
    const alice = await register("alice");
    const bob = await register("bob");
    const carol = await register("carol");
    const topic = uniqueTopic("who");
    const aliceToBob = await logged(alice, entry(alice.name, bob.name, { topic }));
    const aliceToCarol = await logged(alice, entry(alice.name, [carol.name], { topic }));
    const bobToBoth = await logged(bob, entry(bob.name, [alice.name, carol.name], { topic }));
    expect(ids(await readAudit(`from=${alice.name.toUpperCase()}`))).toEqual([aliceToCarol.messageId, aliceToBob.messageId]);
    expect(ids(await readAudit(`from=${bob.name}`))).toEqual([bobToBoth.messageId]);
    expect(ids(await readAudit(`to=${carol.name.toUpperCase()}`))).toEqual([bobToBoth.messageId, aliceToCarol.messageId]);
    expect(ids(await readAudit(`to=${bob.name}`))).toEqual([aliceToBob.messageId]);
    expect(ids(await readAudit(`from=${alice.name}&to=${carol.name}`))).toEqual([aliceToCarol.messageId]);
    expect(ids(await readAudit(`from=${carol.name}`))).toEqual([]);
  });

  it("filters by topic, and by since and before on the relay's loggedAt", async () => {
    const alice = await register("alice");
    const [red, blue] = [uniqueTopic("red"), uniqueTopic("blue")];
    const first = await logged(alice, entry(alice.name, "bob", { topic: red, ts: "2020-01-01T00:00:00.000Z" }));
    const second = await logged(alice, entry(alice.name, "bob", { topic: red, ts: "2020-01-01T00:00:00.000Z" }));
    const third = await logged(alice, entry(alice.name, "bob", { topic: red }));
    await logged(alice, entry(alice.name, "bob", { topic: blue }));
    expect(ids(await readAudit(`topic=${red}`))).toEqual([third, second, first].map((e) => e.messageId));
    expect(ids(await readAudit(`topic=${red}&since=${first.loggedAt}`))).toEqual([third, second].map((e) => e.messageId));
    expect(ids(await readAudit(`topic=${red}&before=${third.loggedAt}`))).toEqual([second, first].map((e) => e.messageId));
    expect(ids(await readAudit(`topic=${red}&since=${first.loggedAt}&before=${third.loggedAt}`))).toEqual([second.messageId]);
    expect((await readAudit(`topic=${red}&since=${new Date(Date.now() + 60_000).toISOString()}`)).entries).toEqual([]);
  });

  it("pages with limit: default 50, at most 200 (larger is clamped)", async () => {
    const agents = await Promise.all(Array.from({ length: 5 }, () => register("bulk")));
    const topic = uniqueTopic("bulk");
    for (let batch = 0; batch < 41; batch++) {
      const replies = await Promise.all(agents.map((agent) => postAudit(agent, entry(agent.name, "bob", { topic }))));
      for (const reply of replies) expect(reply.status).toBe(201);
    }
    expect((await readAudit(`topic=${topic}`)).entries).toHaveLength(50);
    expect((await readAudit(`topic=${topic}&limit=7`)).entries).toHaveLength(7);
    const clamped = await readAudit(`topic=${topic}&limit=100000`);
    expect(clamped.entries).toHaveLength(200);
    expect(clamped.hasMore).toBe(true);
    expect(clamped.entries.slice(0, 3)).toEqual((await readAudit(`topic=${topic}&limit=3`)).entries);
  });

  it.each(["limit=0", "limit=abc", "limit=-5", "since=yesterday", "before=soon", "from=not%20a%20name", "to=x", "topic=has%20space"])(
    "refuses %s with 400",
    async (query) => {
      expectError(await call<unknown>("GET", `/audit?${query}`, { key: ADMIN_KEY }), 400, "BAD_REQUEST");
    },
  );

  it("is for the admin only: an agent key is 401, as in the original, and so is no key", async () => {
    const alice = await register("alice");
    expectError(await call<unknown>("GET", "/audit", { key: alice.apiKey }), 401, "UNAUTHORIZED");
    expectError(await call<unknown>("GET", "/audit"), 401, "UNAUTHORIZED");
  });

  it("walks an index for every filter: no query sorts or scans the log beyond its page", async () => {
    const queries: AuditQuery[] = [
      { limit: 50 },
      { limit: 50, before: 1, since: 0 },
      { limit: 50, from: "a" },
      { limit: 50, from: "a", before: 1 },
      { limit: 50, topic: "t" },
      { limit: 50, topic: "t", since: 0 },
      { limit: 50, to: "b" },
      { limit: 50, to: "b", before: 1, from: "a" },
    ];
    const plans = await runInDurableObject(env.AUDIT.getByName("audit"), (_instance, state) =>
      queries.map((q) => {
        const { sql, args } = auditQuerySql(q);
        return state.storage.sql.exec<{ detail: string }>(`EXPLAIN QUERY PLAN ${sql}`, ...args).toArray().map((row) => row.detail).join(" | ");
      }),
    );
    for (const [i, plan] of plans.entries()) {
      expect(plan, JSON.stringify(queries[i])).not.toMatch(/TEMP B-TREE/);
      if (queries[i]!.from ?? queries[i]!.topic ?? queries[i]!.to) expect(plan, JSON.stringify(queries[i])).toMatch(/USING (COVERING )?INDEX|USING PRIMARY KEY/);
    }
  });
});

describe("clearing the log (DELETE /audit)", () => {
  it("deletes the entries logged before `before` and answers how many", async () => {
    const alice = await register("alice");
    const topic = uniqueTopic("clear");
    const old = await logged(alice, entry(alice.name, "bob", { topic }));
    const fresh = await logged(alice, entry(alice.name, "bob", { topic }));
    const cleared = await call<{ deleted: number }>("DELETE", `/audit?before=${fresh.loggedAt}`, { key: ADMIN_KEY });
    expect(cleared.status, cleared.text).toBe(200);
    expect(Object.keys(cleared.body)).toEqual(["deleted"]);
    expect(cleared.body.deleted).toBeGreaterThanOrEqual(1);
    expect(ids(await readAudit(`topic=${topic}`))).toEqual([fresh.messageId]);
    expect(ids(await readAudit(`topic=${topic}&before=${fresh.loggedAt}`))).not.toContain(old.messageId);
  });

  it("answers {deleted: 0} when nothing is that old", async () => {
    const cleared = await call<{ deleted: number }>("DELETE", "/audit?before=2000-01-01T00:00:00.000Z", { key: ADMIN_KEY });
    expect(cleared.status).toBe(200);
    expect(cleared.body).toEqual({ deleted: 0 });
  });

  it("needs `before`: missing or not ISO-8601 is 400, and nothing is deleted", async () => {
    const alice = await register("alice");
    const topic = uniqueTopic("keep");
    await logged(alice, entry(alice.name, "bob", { topic }));
    expectError(await call<unknown>("DELETE", "/audit", { key: ADMIN_KEY }), 400, "BAD_REQUEST");
    expectError(await call<unknown>("DELETE", "/audit?before=soon", { key: ADMIN_KEY }), 400, "BAD_REQUEST");
    expect((await readAudit(`topic=${topic}`)).entries).toHaveLength(1);
  });

  it("is for the admin only: an agent key is 401 and deletes nothing", async () => {
    const alice = await register("alice");
    const topic = uniqueTopic("guard");
    await logged(alice, entry(alice.name, "bob", { topic }));
    const future = new Date(Date.now() + 3600_000).toISOString();
    expectError(await call<unknown>("DELETE", `/audit?before=${future}`, { key: alice.apiKey }), 401, "UNAUTHORIZED");
    expect((await readAudit(`topic=${topic}`)).entries).toHaveLength(1);
  });
});
