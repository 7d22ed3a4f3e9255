// The audit log over its shards (durable-objects/audit.ts): an entry goes to the shard of the
// agent that posts it; GET /audit asks every shard for a page and merges them newest first.
//
// Order and cursor. Within a shard `loggedAt` is unique; across shards two entries can share a
// millisecond. The merged order is (loggedAt, shard), newest first, and `cursor` names the page's
// last entry: its `loggedAt` alone when no entry of that millisecond is left beyond the page (so
// almost always the plain timestamp, as before), else `<loggedAt>~<shard>`, which asks shards
// below that one for that millisecond too. Either way `before=<cursor>` continues exactly after
// the page: the log is walked once, with no entry skipped or repeated, however many share a ms.
//
// Quota. AUDIT_MAX_ENTRIES is split evenly over the shards (the first `max % shards` hold one
// more), so the whole log never holds more than the maximum and no post waits on a global
// counter. A shard that holds its share refuses with 507 while others may still have room;
// with names spread evenly over the shards they fill at about the same pace.

import { failures, RelayError } from "../../protocol/errors.js";
import type { Limits } from "../../protocol/limits.js";
import { isoTime, parseIsoTime } from "../../protocol/time.js";
import type { AuditQuery, AuditRow, AuditShardPage } from "../../durable-objects/audit.js";
import { auditStub, shardIndexes, shardOf } from "../../durable-objects/stubs.js";

/** The audit shard of an agent (name key) and its share of AUDIT_MAX_ENTRIES. */
export function auditShardOf(agent: string, limits: Limits): { shard: number; quota: number } {
  const shards = limits.auditShards;
  const shard = shardOf(agent, shards);
  const quota = Math.floor(limits.auditMaxEntries / shards) + (shard < limits.auditMaxEntries % shards ? 1 : 0);
  return { shard, quota };
}

/** A position in the merged order: entries strictly older than (at, shard). */
export interface AuditPosition {
  at: number;
  shard: number;
}

/** `before` as a timestamp or a cursor, or a 400. A plain timestamp is (at, shard 0). */
export function parseAuditBefore(raw: string): AuditPosition {
  const [time, shard, extra] = raw.split("~");
  const at = parseIsoTime(time!);
  const valid = at !== null && extra === undefined && (shard === undefined || /^\d{1,3}$/.test(shard));
  if (!valid) throw new RelayError(failures.badRequest("before: expected an ISO-8601 timestamp such as 2026-01-31T12:00:00.000Z, or the cursor of a page."));
  return { at, shard: shard === undefined ? 0 : Number(shard) };
}

export interface MergedAuditPage {
  entries: string[];
  cursor: string | null;
  hasMore: boolean;
}

/** One page of the whole log, newest first. */
export async function readAudit(env: Env, limits: Limits, query: Omit<AuditQuery, "before">, before?: AuditPosition): Promise<MergedAuditPage> {
  const pages = await Promise.all(
    shardIndexes(limits.auditShards).map((i) => {
      // Below the cursor's shard, that millisecond itself is still to come.
      const bound = before === undefined ? undefined : i < before.shard ? before.at + 1 : before.at;
      return auditStub(env, i).query(bound === undefined ? query : { ...query, before: bound });
    }),
  );
  return mergeAuditPages(pages, query.limit, limits.auditPageBytes);
}

/** Merges shard pages (each newest first, at most `limit` entries and `pageBytes`) into one page. */
export function mergeAuditPages(pages: AuditShardPage[], limit: number, pageBytes: number): MergedAuditPage {
  const next = pages.map(() => 0);
  const taken: { row: AuditRow; shard: number }[] = [];
  let used = 0;
  for (;;) {
    // A shard that has more than it sent: its next entry is unknown, so the page ends here.
    if (pages.some((page, i) => page.hasMore && next[i] === page.rows.length)) break;
    let best = -1;
    for (let i = 0; i < pages.length; i++) {
      const row = pages[i]!.rows[next[i]!];
      if (row === undefined) continue;
      const bestRow = best < 0 ? undefined : pages[best]!.rows[next[best]!]!;
      if (bestRow === undefined || row.at > bestRow.at || (row.at === bestRow.at && i > best)) best = i;
    }
    if (best < 0) break;
    const row = pages[best]!.rows[next[best]!]!;
    if (taken.length === limit || (taken.length > 0 && used + row.bytes > pageBytes)) break;
    used += row.bytes;
    next[best]!++;
    taken.push({ row, shard: best });
  }
  const known = pages.reduce((n, page) => n + page.rows.length, 0);
  const hasMore = taken.length < known || pages.some((page) => page.hasMore);
  const last = taken.at(-1);
  let cursor: string | null = null;
  if (last !== undefined) {
    // Entries of the same millisecond left in lower shards: the cursor must say where in it the page ended.
    const tied = pages.some((page, i) => i < last.shard && page.rows[next[i]!]?.at === last.row.at);
    cursor = tied ? `${isoTime(last.row.at)}~${last.shard}` : isoTime(last.row.at);
  }
  return { entries: taken.map((t) => t.row.entry), cursor, hasMore };
}

/** DELETE /audit: every shard clears; answers how many entries went. */
export async function clearAudit(env: Env, limits: Limits, before: number): Promise<number> {
  const counts = await Promise.all(shardIndexes(limits.auditShards).map((i) => auditStub(env, i).clear(before)));
  return counts.reduce((a, b) => a + b, 0);
}
