// The merge of audit shard pages (worker/shards/audit.ts), against a model of the shards: logs
// full of entries that share milliseconds across shards, walked with every page size and page
// byte limit, must be met exactly once, in (loggedAt, shard) order, newest first.

import { describe, expect, it } from "vitest";
import type { AuditRow, AuditShardPage } from "../../durable-objects/audit.js";
import { mergeAuditPages, parseAuditBefore, type AuditPosition } from "../../worker/shards/audit.js";

/** A small deterministic generator (mulberry32), so a failure repeats. */
function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Shards whose loggedAt is unique within each, drawn from few milliseconds so ties are common. */
function shardLogs(shards: number, entries: number, next: () => number): AuditRow[][] {
  const logs: AuditRow[][] = Array.from({ length: shards }, () => []);
  for (let i = 0; i < entries; i++) {
    const log = logs[Math.floor(next() * shards)]!;
    const at = (log.at(-1)?.at ?? 1000) + 1 + Math.floor(next() * 2);
    log.push({ at, bytes: 1 + Math.floor(next() * 40), entry: `e${i}` });
  }
  return logs.map((log) => log.reverse()); // newest first, as a shard answers
}

/** What a shard answers for a page (durable-objects/audit.ts), given the bound the reader sends it. */
function shardPage(log: AuditRow[], before: number | undefined, limit: number, pageBytes: number): AuditShardPage {
  const rows: AuditRow[] = [];
  let used = 0;
  for (const row of log.filter((r) => before === undefined || r.at < before)) {
    if (rows.length === limit || (rows.length > 0 && used + row.bytes > pageBytes)) return { rows, hasMore: true };
    used += row.bytes;
    rows.push(row);
  }
  return { rows, hasMore: false };
}

function walk(logs: AuditRow[][], limit: number, pageBytes: number): string[] {
  const seen: string[] = [];
  let before: AuditPosition | undefined;
  for (let pages = 0; pages < 10_000; pages++) {
    const pagesOfShards = logs.map((log, i) => shardPage(log, before === undefined ? undefined : i < before.shard ? before.at + 1 : before.at, limit, pageBytes));
    const page = mergeAuditPages(pagesOfShards, limit, pageBytes);
    expect(page.entries.length).toBeGreaterThan(0);
    expect(page.entries.length).toBeLessThanOrEqual(limit);
    seen.push(...page.entries);
    if (!page.hasMore) return seen;
    before = parseAuditBefore(page.cursor!);
  }
  throw new Error("the walk did not end");
}

describe("merging audit shard pages", () => {
  it.each([1, 2, 3, 7, 50])("walks logs with many shared milliseconds exactly once, in order, %i entries a page", (limit) => {
    const next = random(limit);
    for (const [shards, pageBytes] of [[2, 1000], [3, 60], [5, 1000], [8, 25]] as const) {
      const logs = shardLogs(shards, 300, next);
      const expected = logs
        .flatMap((log, shard) => log.map((row) => ({ ...row, shard })))
        .sort((a, b) => b.at - a.at || b.shard - a.shard)
        .map((row) => row.entry);
      expect(walk(logs, limit, pageBytes), `${shards} shards, ${pageBytes} bytes`).toEqual(expected);
    }
  });

  it("names the shard in the cursor only when entries of the page's last millisecond are left in lower shards", () => {
    const row = (at: number, entry: string): AuditRow => ({ at, bytes: 1, entry });
    const tie = mergeAuditPages([{ rows: [row(5, "a0")], hasMore: false }, { rows: [row(5, "a1"), row(4, "b1")], hasMore: false }], 1, 100);
    expect(tie).toEqual({ entries: ["a1"], cursor: `${new Date(5).toISOString()}~1`, hasMore: true });
    const plain = mergeAuditPages([{ rows: [row(4, "b0")], hasMore: false }, { rows: [row(5, "a1")], hasMore: false }], 1, 100);
    expect(plain).toEqual({ entries: ["a1"], cursor: new Date(5).toISOString(), hasMore: true });
  });
});
