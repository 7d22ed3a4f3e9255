// The audit log: entries agents post about messages they sent or received, read by the admin.
// The relay keeps each entry's metadata and the SHA-256 of its payload, never the payload itself,
// so an audit trail can prove what was said without the relay holding it. Kept
// AUDIT_RETENTION_S (30 days), then removed by the alarm.

import { DurableObject } from "cloudflare:workers";
import type { AuditEntry, Recipients } from "../protocol/envelope.js";
import { readLimits, type Limits } from "../protocol/limits.js";
import { nameKey } from "../protocol/names.js";
import { isoTime } from "../protocol/time.js";

export interface NewAuditEntry {
  messageId: string;
  direction: "sent" | "received";
  from: string;
  to: Recipients;
  topic: string | null;
  correlationId: string | null;
  payloadSha256: string;
  ts: string;
  loggedBy: string;
}

export interface AuditQuery {
  since?: number;
  before?: number;
  from?: string; // name key
  to?: string; // name key
  topic?: string;
  limit: number;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS entries (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  logged_at INTEGER NOT NULL,
  sender TEXT NOT NULL,
  topic TEXT,
  entry TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS entries_by_time ON entries(logged_at);
CREATE INDEX IF NOT EXISTS entries_by_sender ON entries(sender, seq);
CREATE INDEX IF NOT EXISTS entries_by_topic ON entries(topic, seq);
CREATE TABLE IF NOT EXISTS recipients (
  name TEXT NOT NULL,
  seq INTEGER NOT NULL,
  PRIMARY KEY (name, seq)
);
`;

const PURGE_BATCH = 1000;

export class AuditObject extends DurableObject<Env> {
  private readonly limits: Limits;
  private readonly sql: SqlStorage;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.limits = readLimits(env);
    this.sql = ctx.storage.sql;
    this.sql.exec(SCHEMA);
  }

  async append(entry: NewAuditEntry): Promise<AuditEntry> {
    const loggedAt = Date.now();
    const recipients = Array.isArray(entry.to) ? entry.to : [entry.to];
    const seq = this.ctx.storage.transactionSync(() => {
      const { seq } = this.sql
        .exec<{ seq: number }>(
          "INSERT INTO entries (logged_at, sender, topic, entry) VALUES (?, ?, ?, '') RETURNING seq",
          loggedAt, nameKey(entry.from), entry.topic,
        )
        .one();
      const stored: AuditEntry = { seq, ...entry, loggedAt: isoTime(loggedAt) };
      this.sql.exec("UPDATE entries SET entry = ? WHERE seq = ?", JSON.stringify(stored), seq);
      for (const name of new Set(recipients.map(nameKey))) this.sql.exec("INSERT INTO recipients (name, seq) VALUES (?, ?)", name, seq);
      return seq;
    });
    if ((await this.ctx.storage.getAlarm()) === null) {
      await this.ctx.storage.setAlarm(loggedAt + this.limits.auditRetentionS * 1000);
    }
    return { seq, ...entry, loggedAt: isoTime(loggedAt) };
  }

  /** Newest first. */
  async query(q: AuditQuery): Promise<AuditEntry[]> {
    const conditions = ["1 = 1"];
    const args: SqlStorageValue[] = [];
    const add = (condition: string, value: SqlStorageValue | undefined) => {
      if (value === undefined) return;
      conditions.push(condition);
      args.push(value);
    };
    add("logged_at > ?", q.since);
    add("logged_at < ?", q.before);
    add("sender = ?", q.from);
    add("topic = ?", q.topic);
    add("seq IN (SELECT seq FROM recipients WHERE name = ?)", q.to);
    return this.sql
      .exec<{ entry: string }>(`SELECT entry FROM entries WHERE ${conditions.join(" AND ")} ORDER BY seq DESC LIMIT ?`, ...args, q.limit)
      .toArray()
      .map((row) => JSON.parse(row.entry) as AuditEntry);
  }

  /** Deletes entries logged before `before`; answers how many. */
  async clear(before: number): Promise<number> {
    return this.ctx.storage.transactionSync(() => {
      this.sql.exec("DELETE FROM recipients WHERE seq IN (SELECT seq FROM entries WHERE logged_at < ?)", before);
      return this.sql.exec("DELETE FROM entries WHERE logged_at < ? RETURNING seq", before).toArray().length;
    });
  }

  override async alarm(): Promise<void> {
    const cutoff = Date.now() - this.limits.auditRetentionS * 1000;
    this.ctx.storage.transactionSync(() => {
      const old = this.sql
        .exec<{ seq: number }>("SELECT seq FROM entries WHERE logged_at < ? ORDER BY logged_at LIMIT ?", cutoff, PURGE_BATCH)
        .toArray();
      for (const { seq } of old) {
        this.sql.exec("DELETE FROM recipients WHERE seq = ?", seq);
        this.sql.exec("DELETE FROM entries WHERE seq = ?", seq);
      }
    });
    const next = this.sql.exec<{ at: number | null }>("SELECT MIN(logged_at) AS at FROM entries").one().at;
    if (next !== null) await this.ctx.storage.setAlarm(Math.max(Date.now(), next + this.limits.auditRetentionS * 1000));
  }
}
