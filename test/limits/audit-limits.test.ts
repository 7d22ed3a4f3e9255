// Audit limits (SPEC §8, §13), with this project's small values: AUDIT_PER_MIN=4 entries per
// agent, AUDIT_MAX_ENTRIES=10 in all, AUDIT_PAGE_BYTES=3000 per GET /audit page, MULTICAST_MAX=3
// names in `to`. Each test starts from an empty log (the quota is the whole log's) and uses agents
// of its own (rate buckets are per agent).

import { beforeEach, describe, expect, it } from "vitest";
import type { AuditEntry, AuditPage } from "../../protocol/envelope.js";
import { ADMIN_KEY, call, register, type Reply, type TestAgent } from "../support/relay.js";

const PER_MIN = 4;
const MAX_ENTRIES = 10;
const PAGE_BYTES = 3000;

type ErrorBody = { error: string; code: string; retryAfter?: number };

function entry(agent: TestAgent, fields: Record<string, unknown> = {}) {
  return { messageId: crypto.randomUUID(), direction: "sent", from: agent.name, to: "bob", payload: "hello", ts: new Date().toISOString(), ...fields };
}

function post(agent: TestAgent, body: unknown = entry(agent)): Promise<Reply<AuditEntry | ErrorBody>> {
  return call<AuditEntry | ErrorBody>("POST", "/audit", { key: agent.apiKey, json: body });
}

/** Every matching entry, newest first, page by page (a page holds at most AUDIT_PAGE_BYTES). */
async function readAll(query = ""): Promise<AuditEntry[]> {
  const entries: AuditEntry[] = [];
  let before = "";
  for (let pages = 0; pages < 20; pages++) {
    const reply = await call<AuditPage>("GET", `/audit?limit=200${query}${before}`, { key: ADMIN_KEY });
    expect(reply.status, reply.text).toBe(200);
    entries.push(...reply.body.entries);
    if (!reply.body.hasMore) return entries;
    before = `&before=${reply.body.cursor}`;
  }
  throw new Error("more than 20 pages");
}

function statuses(replies: Reply<unknown>[]): number[] {
  return replies.map((r) => r.status).sort();
}

beforeEach(async () => {
  const future = new Date(Date.now() + 86_400_000).toISOString();
  expect((await call<unknown>("DELETE", `/audit?before=${future}`, { key: ADMIN_KEY })).status).toBe(200);
});

describe("entries per agent (AUDIT_PER_MIN, counted in the Audit object)", () => {
  it("lets an agent log AUDIT_PER_MIN entries at once; the next is 429 with Retry-After and retryAfter, and stores nothing", async () => {
    const alice = await register("a_rate");
    for (let i = 0; i < PER_MIN; i++) expect((await post(alice)).status).toBe(201);
    const refused = await post(alice);
    expect(refused.status, refused.text).toBe(429);
    const body = refused.body as ErrorBody;
    expect(body.code).toBe("RATE_LIMITED");
    expect(Number.isInteger(body.retryAfter)).toBe(true);
    expect(body.retryAfter).toBeGreaterThanOrEqual(1);
    expect(refused.headers.get("Retry-After")).toBe(String(body.retryAfter));
    expect(await readAll(`&from=${alice.name}`)).toHaveLength(PER_MIN);
    // The limit is per agent: another agent is not held back.
    expect((await post(await register("a_rate_other"))).status).toBe(201);
  });

  it("is counted exactly under concurrency: of 2 × AUDIT_PER_MIN posts at once, exactly AUDIT_PER_MIN are stored", async () => {
    const bob = await register("a_burst");
    const replies = await Promise.all(Array.from({ length: 2 * PER_MIN }, () => post(bob)));
    expect(statuses(replies)).toEqual([...Array(PER_MIN).fill(201), ...Array(PER_MIN).fill(429)]);
    expect(await readAll(`&from=${bob.name}`)).toHaveLength(PER_MIN);
  });

  it("counts nothing for a refused post (400, 403)", async () => {
    const carol = await register("a_refused");
    const forged = await register("a_victim");
    for (let i = 0; i < PER_MIN; i++) {
      expect((await post(carol, entry(carol, { to: "not a name" }))).status).toBe(400);
      expect((await post(carol, entry(forged))).status).toBe(403);
    }
    for (let i = 0; i < PER_MIN; i++) expect((await post(carol)).status).toBe(201);
  });
});

describe("entries in all (AUDIT_MAX_ENTRIES)", () => {
  it("refuses the entry beyond AUDIT_MAX_ENTRIES with 507 AUDIT_FULL, drops nothing to make room, and counts nothing against the poster", async () => {
    const writers = await Promise.all([register("q_one"), register("q_two"), register("q_three")]);
    const kept: string[] = [];
    for (const [i, writer] of writers.entries()) {
      for (let n = 0; n < (i < 2 ? PER_MIN : MAX_ENTRIES - 2 * PER_MIN); n++) {
        const reply = await post(writer);
        expect(reply.status, reply.text).toBe(201);
        kept.push((reply.body as AuditEntry).messageId);
      }
    }
    const late = await register("q_late");
    for (let i = 0; i < PER_MIN; i++) {
      const full = await post(late);
      expect(full.status, full.text).toBe(507);
      expect((full.body as ErrorBody).code).toBe("AUDIT_FULL");
      expect((full.body as ErrorBody).error.length).toBeGreaterThan(0);
    }
    expect((await readAll()).map((e) => e.messageId).sort()).toEqual([...kept].sort());

    // The admin makes room; the refused posts used none of `late`'s allowance.
    const cleared = await call<{ deleted: number }>("DELETE", `/audit?before=${new Date(Date.now() + 60_000).toISOString()}`, { key: ADMIN_KEY });
    expect(cleared.body.deleted).toBe(MAX_ENTRIES);
    for (let i = 0; i < PER_MIN; i++) expect((await post(late)).status).toBe(201);
  });
});

describe("the size of a page (AUDIT_PAGE_BYTES)", () => {
  it("stops a page at AUDIT_PAGE_BYTES with hasMore, and paging by cursor still walks every entry exactly once", async () => {
    const writers = await Promise.all([register("p_one"), register("p_two")]);
    const posted: string[] = [];
    for (let i = 0; i < 6; i++) {
      const reply = await post(writers[i % 2]!, entry(writers[i % 2]!, { payload: `${i}`.repeat(1000) }));
      expect(reply.status, reply.text).toBe(201);
      posted.push((reply.body as AuditEntry).messageId);
    }
    const walked: string[] = [];
    let before = "";
    for (let pages = 0; pages < 10; pages++) {
      const reply = await call<AuditPage>("GET", `/audit?limit=200${before}`, { key: ADMIN_KEY });
      expect(new TextEncoder().encode(reply.text).byteLength).toBeLessThan(PAGE_BYTES + 200);
      expect(reply.body.entries.length).toBeGreaterThan(0);
      expect(reply.body.entries.length).toBeLessThan(6);
      walked.push(...reply.body.entries.map((e) => e.messageId));
      if (!reply.body.hasMore) break;
      before = `&before=${reply.body.cursor}`;
    }
    expect(walked).toEqual([...posted].reverse());
  });
});

describe("`to` (a name, up to MULTICAST_MAX names, or broadcast)", () => {
  it("accepts MULTICAST_MAX names and refuses one more with 400 naming `to`", async () => {
    const dave = await register("t_dave");
    expect((await post(dave, entry(dave, { to: ["a1", "a2", "a3"] }))).status).toBe(201);
    const refused = await post(dave, entry(dave, { to: ["a1", "a2", "a3", "a4"] }));
    expect(refused.status).toBe(400);
    expect((refused.body as ErrorBody).error).toMatch(/^to: /);
  });
});
