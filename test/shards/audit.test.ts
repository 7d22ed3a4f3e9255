// The audit log over three audit shards (this project's AUDIT_SHARDS): an entry goes to the shard
// of the agent that posts it, GET /audit merges the shards newest first, and `before=<cursor>`
// walks the whole log exactly once. (The quota split is in audit-quota.test.ts; a file's entries
// stay within each shard's share of this project's AUDIT_MAX_ENTRIES.)

import { describe, expect, it } from "vitest";
import type { AuditEntry, AuditPage } from "../../protocol/envelope.js";
import type { ErrorBody } from "../../protocol/errors.js";
import { ADMIN_KEY, call, type TestAgent } from "../support/relay.js";
import { limits, onePerShard } from "../support/shards.js";

function post(agent: TestAgent, topic: string) {
  const body = { messageId: crypto.randomUUID(), direction: "sent", from: agent.name, to: "bob", topic, payload: "p", ts: new Date().toISOString() };
  return call<AuditEntry>("POST", "/audit", { key: agent.apiKey, json: body });
}

const read = (query: string) => call<AuditPage>("GET", `/audit?${query}`, { key: ADMIN_KEY });

describe("the audit log over several shards", () => {
  it("pages newest first over every shard, and before=<cursor> walks each entry exactly once", async () => {
    expect(limits.auditShards).toBeGreaterThan(1);
    const agents = await onePerShard("walk", limits.auditShards);
    const topic = `walk.${crypto.randomUUID().slice(0, 8)}`;
    // At once, so entries of different shards share milliseconds.
    const replies = await Promise.all(agents.flatMap((agent) => [0, 1, 2].map(() => post(agent, topic))));
    for (const reply of replies) expect(reply.status, reply.text).toBe(201);
    const posted = replies.map((r) => r.body);

    for (const limit of [1, 2, 4]) {
      const walked: AuditEntry[] = [];
      let before: string | null = null;
      for (let pages = 0; pages < 50; pages++) {
        const page = await read(`topic=${topic}&limit=${limit}${before === null ? "" : `&before=${encodeURIComponent(before)}`}`);
        expect(page.status, page.text).toBe(200);
        expect(page.body.entries.length).toBeLessThanOrEqual(limit);
        walked.push(...page.body.entries);
        if (!page.body.hasMore) break;
        before = page.body.cursor;
      }
      expect(walked.map((e) => e.messageId).sort(), `limit ${limit}`).toEqual(posted.map((e) => e.messageId).sort());
      const times = walked.map((e) => Date.parse(e.loggedAt));
      expect(times, `newest first, limit ${limit}`).toEqual([...times].sort((a, b) => b - a));
    }
    // A whole page holds them all, and its cursor is the oldest loggedAt.
    const all = await read(`topic=${topic}&limit=200`);
    expect(all.body.entries).toHaveLength(posted.length);
    expect(all.body).toMatchObject({ hasMore: false, cursor: all.body.entries.at(-1)!.loggedAt });
  });

  it("refuses a before that is neither a timestamp nor a page's cursor", async () => {
    for (const bad of ["x", "2026-01-31T12:00:00.000Z~", "~1", "2026-01-31T12:00:00.000Z~1~2", "2026-01-31T12:00:00.000Z~abc", "2026-01-31T12:00:00.000Z~1234"]) {
      const reply = await call<ErrorBody>("GET", `/audit?before=${encodeURIComponent(bad)}`, { key: ADMIN_KEY });
      expect(reply.status, bad).toBe(400);
      expect(reply.body.code).toBe("BAD_REQUEST");
    }
    expect((await read(`before=${encodeURIComponent("2026-01-31T12:00:00.000Z~2")}`)).status).toBe(200);
  });

  it("clears every shard and answers how many entries went", async () => {
    const agents = await onePerShard("clear", limits.auditShards);
    const topic = `clear.${crypto.randomUUID().slice(0, 8)}`;
    for (const agent of agents) expect((await post(agent, topic)).status).toBe(201);
    const everything = (await read("limit=200")).body.entries.length;
    expect(everything).toBeGreaterThanOrEqual(agents.length);
    const future = new Date(Date.now() + 86_400_000).toISOString();
    expect((await call("DELETE", `/audit?before=${future}`, { key: ADMIN_KEY })).body).toEqual({ deleted: everything });
    expect((await read("limit=200")).body).toEqual({ entries: [], cursor: null, hasMore: false });
  });
});
