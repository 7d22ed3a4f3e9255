// An audit shard (SPEC §13): the entries posted by the agents whose names fall in it, about
// messages they sent or received, each with its payload as posted (plaintext, or sealed to the
// operator's key so the relay cannot read it), kept AUDIT_RETENTION_S (30 days) and read and
// cleared by the admin. The log is AUDIT_SHARDS of these; the Worker merges them
// (worker/shards/audit.ts).
//
// Each shard is the single writer of everything that must be exact:
// - `loggedAt` is unique and strictly increasing within the shard: max(now, last + 1 ms), `last`
//   kept in storage (on Workers the clock does not advance within a request, and many posts can
//   land in one millisecond). It is each entry's key. Across shards two entries can share a
//   millisecond; the merged page never ends between such entries, so `before=<cursor>` still
//   pages the whole log exactly once.
// - An agent's rate (AUDIT_PER_MIN per AUDIT_WINDOW_S, a token bucket) lives in the agent's one
//   shard, so it is exact. The log's size (AUDIT_MAX_ENTRIES) is split: each shard holds at most
//   its share (`quota`, from the Worker), so the whole log never exceeds the maximum without a
//   global counter on every post. Both are checked and written together with the entry: nothing
//   awaits between the checks and the write, and an object runs one request at a time up to its
//   first await, so concurrent posts can overshoot neither, and a refused post counts nothing.
// Every query walks an index in `loggedAt` order (by time, sender, topic or recipient), and a page
// stops at AUDIT_PAGE_BYTES, so even `limit=200` of 64 KiB entries answers a bounded page.

import { DurableObject } from "cloudflare:workers";
import type { AuditEntry } from "../protocol/envelope.js";
import { failures, type Failure } from "../protocol/errors.js";
import { readLimits, type Limits } from "../protocol/limits.js";
import { nameKey } from "../protocol/names.js";
import { isoTime } from "../protocol/time.js";
import { fullBucket, take, type Bucket } from "./rate-limit.js";
import { RequestMeter, type MeterReading } from "./request-meter.js";

/** An entry before the log gives it its `loggedAt`. */
export type NewAuditEntry = Omit<AuditEntry, "loggedAt">;

/**
 * One entry of a shard's page: its `loggedAt` (epoch ms), its size, and the JSON text it is stored
 * as (an entry's payload is any JSON, too deep a type for RPC, and the text is answered as is).
 */
export type AuditRow = {
  at: number;
  bytes: number;
  entry: string;
};

/** A shard's page, newest first. */
export interface AuditShardPage {
  rows: AuditRow[];
  hasMore: boolean;
}

export interface AuditQuery {
  /** Epoch ms: only entries logged strictly after. */
  since?: number;
  /** Epoch ms: only entries logged strictly before (the previous page's cursor). */
  before?: number;
  /** Name keys. */
  from?: string;
  to?: string;
  topic?: string;
  limit: number;
}

// `entry` (the JSON answered) is the last column, so scans that read only the columns before it
// never touch its overflow pages.
const SCHEMA = `
CREATE TABLE IF NOT EXISTS audit_entries (
  logged_at INTEGER PRIMARY KEY,
  sender TEXT NOT NULL,
  topic TEXT,
  bytes INTEGER NOT NULL,
  entry TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS audit_entries_by_sender ON audit_entries(sender, logged_at);
CREATE INDEX IF NOT EXISTS audit_entries_by_topic ON audit_entries(topic, logged_at);
CREATE TABLE IF NOT EXISTS audit_recipients (
  name TEXT NOT NULL,
  logged_at INTEGER NOT NULL,
  PRIMARY KEY (name, logged_at)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS audit_recipients_by_time ON audit_recipients(logged_at);
CREATE TABLE IF NOT EXISTS audit_rates (agent TEXT PRIMARY KEY, tokens REAL NOT NULL, at INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS audit_state (key TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;
`;

const PURGE_BATCH = 1000;
const encoder = new TextEncoder();

export class AuditObject extends DurableObject<Env> {
  private readonly limits: Limits;
  private readonly sql: SqlStorage;
  /** Entries in the log, kept beside them in audit_state so the quota check reads no rows. */
  private count: number;
  /** The last `loggedAt` given (epoch ms), also after its entry was deleted. */
  private lastLoggedAt: number;
  private readonly meter = new RequestMeter();

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.limits = readLimits(env);
    this.sql = ctx.storage.sql;
    this.sql.exec(SCHEMA);
    const state = new Map(this.sql.exec<{ key: string; value: number }>("SELECT key, value FROM audit_state").toArray().map((r) => [r.key, r.value]));
    this.count = state.get("count") ?? 0;
    this.lastLoggedAt = state.get("last_logged_at") ?? 0;
  }

  /**
   * Logs an entry posted by `agent` (a name key): the stored entry's JSON, or a 429 / 507 failure.
   * `quota` is this shard's share of AUDIT_MAX_ENTRIES.
   */
  async append(entry: NewAuditEntry, agent: string, quota: number): Promise<string | Failure> {
    this.meter.count();
    const now = Date.now();
    const windowMs = this.limits.auditWindowS * 1000;
    const rate = take(this.bucket(agent, now), this.limits.auditPerMin, windowMs, now);
    if (!rate.ok) {
      return failures.auditRateLimited(this.limits.auditPerMin, this.limits.auditWindowS, rate.retryAfterS);
    }
    if (this.count >= quota) return failures.auditFull(this.limits.auditMaxEntries);
    const loggedAt = Math.max(now, this.lastLoggedAt + 1);
    const stored: AuditEntry = { ...entry, loggedAt: isoTime(loggedAt) };
    const text = JSON.stringify(stored);
    const recipients = new Set((Array.isArray(entry.to) ? entry.to : [entry.to]).map(nameKey));
    this.ctx.storage.transactionSync(() => {
      this.sql.exec(
        "INSERT INTO audit_entries (logged_at, sender, topic, bytes, entry) VALUES (?, ?, ?, ?, ?)",
        loggedAt, nameKey(entry.from), entry.topic, encoder.encode(text).byteLength, text,
      );
      for (const name of recipients) this.sql.exec("INSERT INTO audit_recipients (name, logged_at) VALUES (?, ?)", name, loggedAt);
      this.sql.exec("INSERT OR REPLACE INTO audit_rates (agent, tokens, at) VALUES (?, ?, ?)", agent, rate.bucket.tokens, rate.bucket.at);
      this.saveState(this.count + 1, loggedAt);
    });
    this.count += 1;
    this.lastLoggedAt = loggedAt;
    if ((await this.ctx.storage.getAlarm()) === null) await this.ctx.storage.setAlarm(loggedAt + this.limits.auditRetentionS * 1000);
    return text;
  }

  /** One page, newest first: at most `limit` entries and AUDIT_PAGE_BYTES of them (but never none while any match). */
  async query(q: AuditQuery): Promise<AuditShardPage> {
    this.meter.count();
    const { sql, args } = auditQuerySql(q);
    // The cursor steps through rows as they are read, so stopping early reads no further entries.
    const found = this.sql.exec<AuditRow>(sql, ...args);
    const rows: AuditRow[] = [];
    let used = 0;
    let hasMore = false;
    for (const row of found) {
      if (rows.length === q.limit || (rows.length > 0 && used + row.bytes > this.limits.auditPageBytes)) {
        hasMore = true;
        break;
      }
      used += row.bytes;
      rows.push({ at: row.at, bytes: row.bytes, entry: row.entry });
    }
    return { rows, hasMore };
  }

  /** Deletes the entries logged before `before`; answers how many. */
  async clear(before: number): Promise<number> {
    this.meter.count();
    const deleted = this.ctx.storage.transactionSync(() => this.deleteUpTo(before - 1));
    this.count -= deleted;
    return deleted;
  }

  async meterReading(): Promise<MeterReading> {
    return this.meter.reading();
  }

  /** Removes entries past their retention (in batches) and rate buckets that have refilled. */
  override async alarm(): Promise<void> {
    const now = Date.now();
    const cutoff = now - this.limits.auditRetentionS * 1000;
    const batch = this.sql
      .exec<{ at: number }>("SELECT logged_at AS at FROM audit_entries WHERE logged_at < ? ORDER BY logged_at LIMIT ?", cutoff, PURGE_BATCH)
      .toArray();
    const purged = this.ctx.storage.transactionSync(() => {
      // A bucket untouched for a whole window is full again: the same as no row.
      this.sql.exec("DELETE FROM audit_rates WHERE at < ?", now - this.limits.auditWindowS * 1000);
      return batch.length === 0 ? 0 : this.deleteUpTo(batch.at(-1)!.at);
    });
    this.count -= purged;
    if (batch.length === PURGE_BATCH) {
      await this.ctx.storage.setAlarm(Date.now());
      return;
    }
    const oldest = this.sql.exec<{ at: number | null }>("SELECT MIN(logged_at) AS at FROM audit_entries").one().at;
    if (oldest !== null) await this.ctx.storage.setAlarm(Math.max(Date.now(), oldest + this.limits.auditRetentionS * 1000));
  }

  /** Deletes entries logged at or before `last` (epoch ms), inside the caller's transaction. */
  private deleteUpTo(last: number): number {
    const { n } = this.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM audit_entries WHERE logged_at <= ?", last).one();
    if (n === 0) return 0;
    this.sql.exec("DELETE FROM audit_recipients WHERE logged_at <= ?", last);
    this.sql.exec("DELETE FROM audit_entries WHERE logged_at <= ?", last);
    this.saveState(this.count - n, this.lastLoggedAt);
    return n;
  }

  private bucket(agent: string, now: number): Bucket {
    const row = this.sql.exec<{ tokens: number; at: number }>("SELECT tokens, at FROM audit_rates WHERE agent = ?", agent).toArray()[0];
    return row ?? fullBucket(this.limits.auditPerMin, now);
  }

  private saveState(count: number, lastLoggedAt: number): void {
    this.sql.exec("INSERT OR REPLACE INTO audit_state (key, value) VALUES ('count', ?), ('last_logged_at', ?)", count, lastLoggedAt);
  }
}

/**
 * The statement of one page: `limit + 1` rows (the extra one says whether more remain), newest
 * first. With `to`, the recipient index drives the walk; otherwise the entries' own indexes do.
 */
export function auditQuerySql(q: AuditQuery): { sql: string; args: SqlStorageValue[] } {
  const byRecipient = q.to !== undefined;
  const time = byRecipient ? "r.logged_at" : "e.logged_at";
  const conditions: string[] = [];
  const args: SqlStorageValue[] = [];
  const add = (condition: string, value: SqlStorageValue | undefined) => {
    if (value === undefined) return;
    conditions.push(condition);
    args.push(value);
  };
  add("r.name = ?", q.to);
  add(`${time} > ?`, q.since);
  add(`${time} < ?`, q.before);
  add("e.sender = ?", q.from);
  add("e.topic = ?", q.topic);
  const source = byRecipient ? "audit_recipients r JOIN audit_entries e ON e.logged_at = r.logged_at" : "audit_entries e";
  const where = conditions.length > 0 ? `WHERE ${conditions.join(" AND ")}` : "";
  return {
    sql: `SELECT e.logged_at AS at, e.bytes AS bytes, e.entry AS entry FROM ${source} ${where} ORDER BY ${time} DESC LIMIT ?`,
    args: [...args, q.limit + 1],
  };
}
