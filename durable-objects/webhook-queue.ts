// An inbox's webhook state in its SQLite storage: the queue of messages still to deliver (in
// inbox order) and the log of every attempt. A queue row is written in the same transaction as
// its message, so a stored message's delivery cannot be lost, whatever crashes when.

import type { WebhookAttempt } from "../protocol/envelope.js";
import { migrate } from "./schema.js";

export interface QueuedDelivery {
  seq: number;
  messageTs: number;
  attempts: number;
  nextAt: number;
  /** Time of the first attempt. */
  firstAt: number | null;
}

const STEPS = [
  `CREATE TABLE IF NOT EXISTS webhook_queue (
     seq INTEGER PRIMARY KEY AUTOINCREMENT,
     message_ts INTEGER NOT NULL,
     message_id TEXT NOT NULL,
     attempts INTEGER NOT NULL DEFAULT 0,
     next_at INTEGER NOT NULL,
     first_at INTEGER
   );
   CREATE TABLE IF NOT EXISTS webhook_attempts (
     seq INTEGER PRIMARY KEY AUTOINCREMENT,
     at INTEGER NOT NULL,
     record TEXT NOT NULL
   );
   CREATE INDEX IF NOT EXISTS webhook_attempts_by_time ON webhook_attempts(at);`,
  // The message id was written and never read: the message is found by its ts.
  "ALTER TABLE webhook_queue DROP COLUMN message_id",
];

/** Attempts kept per inbox; older ones are removed first. */
const ATTEMPTS_KEPT = 1000;

type Row = Record<string, SqlStorageValue>;

export class WebhookQueue {
  constructor(private readonly sql: SqlStorage) {
    migrate(sql, "webhooks", STEPS);
  }

  enqueue(messageTs: number, now: number): void {
    this.sql.exec("INSERT INTO webhook_queue (message_ts, next_at) VALUES (?, ?)", messageTs, now);
  }

  /** The oldest undelivered message: deliveries go out strictly in inbox order. */
  head(): QueuedDelivery | null {
    const row = this.sql.exec<Row>("SELECT * FROM webhook_queue ORDER BY seq LIMIT 1").toArray()[0];
    if (!row) return null;
    return {
      seq: row.seq as number,
      messageTs: row.message_ts as number,
      attempts: row.attempts as number,
      nextAt: row.next_at as number,
      firstAt: (row.first_at as number | null) ?? null,
    };
  }

  remove(seq: number): void {
    this.sql.exec("DELETE FROM webhook_queue WHERE seq = ?", seq);
  }

  postpone(seq: number, attempts: number, nextAt: number, firstAt: number): void {
    this.sql.exec("UPDATE webhook_queue SET attempts = ?, next_at = ?, first_at = ? WHERE seq = ?", attempts, nextAt, firstAt, seq);
  }

  clear(): void {
    this.sql.exec("DELETE FROM webhook_queue");
  }

  log(record: WebhookAttempt): void {
    this.sql.exec("INSERT INTO webhook_attempts (at, record) VALUES (?, ?)", Date.parse(record.at), JSON.stringify(record));
    this.sql.exec("DELETE FROM webhook_attempts WHERE seq <= (SELECT MAX(seq) FROM webhook_attempts) - ?", ATTEMPTS_KEPT);
  }

  /** Newest first, optionally only attempts before `before` (ms). */
  attempts(limit: number, before?: number): WebhookAttempt[] {
    return this.sql
      .exec<{ record: string }>(
        "SELECT record FROM webhook_attempts WHERE at < ? ORDER BY at DESC, seq DESC LIMIT ?",
        before ?? Number.MAX_SAFE_INTEGER, limit,
      )
      .toArray()
      .map((row) => JSON.parse(row.record) as WebhookAttempt);
  }
}
