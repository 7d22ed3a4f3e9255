// The broadcasts an agent sent, in its own inbox's storage: each is fanned out by the alarm in
// bounded batches (a cursor over the Directory's names survives restarts), then kept until its
// TTL so a replay of the same id or Idempotency-Key is recognised.

import { migrate } from "./schema.js";

export interface BroadcastJob {
  id: string;
  idempotencyKey: string | null;
  bodyHash: string;
  ts: number;
  /** JSON of the InboxCopy every recipient's inbox gets. */
  copy: string;
  /** Name key of the last agent handled. */
  cursor: string;
  expiresAt: number;
}

const STEPS = [
  `CREATE TABLE IF NOT EXISTS fanouts (
     id TEXT PRIMARY KEY,
     idempotency_key TEXT UNIQUE,
     body_hash TEXT NOT NULL,
     ts INTEGER NOT NULL,
     delivery TEXT NOT NULL,
     cursor TEXT NOT NULL DEFAULT '',
     done INTEGER NOT NULL DEFAULT 0,
     expires_at INTEGER NOT NULL
   );
   CREATE INDEX IF NOT EXISTS fanouts_pending ON fanouts(done, ts);`,
];

type Row = Record<string, SqlStorageValue>;

export class BroadcastJobs {
  constructor(private readonly sql: SqlStorage) {
    migrate(sql, "broadcasts", STEPS);
  }

  add(job: BroadcastJob): void {
    this.sql.exec(
      "INSERT INTO fanouts (id, idempotency_key, body_hash, ts, delivery, expires_at) VALUES (?, ?, ?, ?, ?, ?)",
      job.id, job.idempotencyKey, job.bodyHash, job.ts, job.copy, job.expiresAt,
    );
  }

  /** A broadcast recorded earlier under this id or Idempotency-Key. */
  find(id: string, idempotencyKey: string | undefined): { id: string; ts: number; bodyHash: string } | null {
    const row = this.sql
      .exec<Row>("SELECT id, ts, body_hash FROM fanouts WHERE id = ? OR idempotency_key = ?", id, idempotencyKey ?? null)
      .toArray()[0];
    return row ? { id: row.id as string, ts: row.ts as number, bodyHash: row.body_hash as string } : null;
  }

  /** Whether the broadcast's fan-out has reached every agent. */
  isDone(id: string): boolean {
    return this.sql.exec<{ done: number }>("SELECT done FROM fanouts WHERE id = ?", id).toArray()[0]?.done === 1;
  }

  /** The oldest broadcast still fanning out. */
  next(): BroadcastJob | null {
    const row = this.sql.exec<Row>("SELECT * FROM fanouts WHERE done = 0 ORDER BY ts LIMIT 1").toArray()[0];
    if (!row) return null;
    return {
      id: row.id as string,
      idempotencyKey: (row.idempotency_key as string | null) ?? null,
      bodyHash: row.body_hash as string,
      ts: row.ts as number,
      copy: row.delivery as string,
      cursor: row.cursor as string,
      expiresAt: row.expires_at as number,
    };
  }

  advance(id: string, cursor: string, done: boolean): void {
    this.sql.exec("UPDATE fanouts SET cursor = ?, done = ? WHERE id = ?", cursor, done ? 1 : 0, id);
  }

  /** Forgets finished broadcasts whose TTL passed; answers the next such expiry. */
  /** Whether a broadcast is still being fanned out (read when the object opens). */
  hasPending(): boolean {
    return this.sql.exec("SELECT 1 FROM fanouts WHERE done = 0 LIMIT 1").toArray().length > 0;
  }

  /** When the first finished broadcast's TTL ends, or null. */
  nextExpiry(): number | null {
    return this.sql.exec<{ at: number | null }>("SELECT MIN(expires_at) AS at FROM fanouts WHERE done = 1").one().at;
  }

  purgeExpired(now: number): number | null {
    this.sql.exec("DELETE FROM fanouts WHERE done = 1 AND expires_at <= ?", now);
    return this.nextExpiry();
  }
}
