// A feed shard's storage: the tables, writing one inbox batch into them, and reading the counts
// back in a form that adds up across shards (per-minute counts and latency histograms as bucket
// counts, not quantiles, so the Worker merges shards exactly: worker/shards/feed-stats.ts).

import type { WebhookAttempt } from "../protocol/envelope.js";
import { nameKey } from "../protocol/names.js";
import { isoTime } from "../protocol/time.js";
import { minuteOf, type EarlierFeedBatch } from "./feed-batch.js";

/** Feed items and webhook attempts kept per shard; older ones are dropped first. */
export const ITEMS_KEPT = 10_000;
/** Per-minute counters kept (a day). */
const MINUTES_KEPT = 1440;
/** Upper bounds (ms) of the delivery latency histogram's buckets. */
export const LATENCY_BUCKETS = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10_000, 30_000, 60_000, Number.POSITIVE_INFINITY];

export const FEED_SCHEMA = `
CREATE TABLE IF NOT EXISTS items (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  ts INTEGER NOT NULL,
  sender TEXT NOT NULL,
  topic TEXT,
  item TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS items_by_ts ON items(ts, seq);
CREATE INDEX IF NOT EXISTS items_by_topic ON items(topic, ts);
CREATE INDEX IF NOT EXISTS items_by_sender ON items(sender, ts);
CREATE TABLE IF NOT EXISTS channels (
  topic TEXT PRIMARY KEY,
  count INTEGER NOT NULL,
  last_ts INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS channels_by_recency ON channels(last_ts);
CREATE TABLE IF NOT EXISTS attempts (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  at INTEGER NOT NULL,
  agent TEXT NOT NULL,
  attempt TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS attempts_by_time ON attempts(at);
CREATE TABLE IF NOT EXISTS webhook_health (
  agent TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  last_at INTEGER NOT NULL,
  last_outcome TEXT NOT NULL,
  last_status INTEGER,
  failures_in_row INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS minutes (
  minute INTEGER PRIMARY KEY,
  stored INTEGER NOT NULL DEFAULT 0,
  sampled_out INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS latency (
  minute INTEGER NOT NULL,
  bucket INTEGER NOT NULL,
  count INTEGER NOT NULL,
  PRIMARY KEY (minute, bucket)
);
`;

export interface ChannelCount {
  topic: string;
  count: number;
  lastTs: string;
}

export interface WebhookHealth {
  agent: string;
  lastAt: string;
  lastOutcome: WebhookAttempt["outcome"];
  lastStatus: number | null;
  /** Attempts since the last delivery that did not deliver. */
  failuresInRow: number;
}

/** One minute of one shard: counts that add up across shards. */
export interface MinuteCounts {
  /** Epoch ms of the minute's start. */
  minute: number;
  stored: number;
  sampledOut: number;
  /** Deliveries per LATENCY_BUCKETS bucket. */
  latency: number[];
}

/** Writes one inbox's batch (inside the caller's transaction) and drops what is past keeping. */
export function recordBatch(sql: SqlStorage, batch: EarlierFeedBatch, now: number): void {
  for (const item of batch.items) {
    sql.exec("INSERT INTO items (ts, sender, topic, item) VALUES (?, ?, ?, ?)", Date.parse(item.ts), nameKey(item.from), item.topic, JSON.stringify(item));
  }
  for (const [topic, { count, lastTs }] of batch.topics) {
    sql.exec(
      `INSERT INTO channels (topic, count, last_ts) VALUES (?, ?, ?)
       ON CONFLICT(topic) DO UPDATE SET count = count + excluded.count, last_ts = MAX(last_ts, excluded.last_ts)`,
      topic, count, lastTs,
    );
  }
  for (const [minute, stored] of batch.perMinute) {
    sql.exec("INSERT INTO minutes (minute, stored) VALUES (?, ?) ON CONFLICT(minute) DO UPDATE SET stored = stored + excluded.stored", minute, stored);
  }
  if (batch.dropped > 0) {
    sql.exec(
      "INSERT INTO minutes (minute, sampled_out) VALUES (?, ?) ON CONFLICT(minute) DO UPDATE SET sampled_out = sampled_out + excluded.sampled_out",
      minuteOf(now), batch.dropped,
    );
  }
  for (const attempt of batch.attempts) recordAttempt(sql, attempt);
  for (const { at, ms } of batch.latencies) {
    sql.exec(
      "INSERT INTO latency (minute, bucket, count) VALUES (?, ?, 1) ON CONFLICT(minute, bucket) DO UPDATE SET count = count + 1",
      minuteOf(at), LATENCY_BUCKETS.findIndex((bound) => ms <= bound),
    );
  }
  sql.exec("DELETE FROM items WHERE seq <= (SELECT MAX(seq) FROM items) - ?", ITEMS_KEPT);
  sql.exec("DELETE FROM attempts WHERE seq <= (SELECT MAX(seq) FROM attempts) - ?", ITEMS_KEPT);
  const oldest = minuteOf(now) - MINUTES_KEPT * 60_000;
  sql.exec("DELETE FROM minutes WHERE minute < ?", oldest);
  sql.exec("DELETE FROM latency WHERE minute < ?", oldest);
}

function recordAttempt(sql: SqlStorage, attempt: WebhookAttempt): void {
  const at = Date.parse(attempt.at);
  const agent = nameKey(attempt.agent);
  sql.exec("INSERT INTO attempts (at, agent, attempt) VALUES (?, ?, ?)", at, agent, JSON.stringify(attempt));
  if (attempt.outcome === "test") return;
  const failed = attempt.outcome === "delivered" ? 0 : 1;
  sql.exec(
    `INSERT INTO webhook_health (agent, name, last_at, last_outcome, last_status, failures_in_row) VALUES (?, ?, ?, ?, ?, ?)
     ON CONFLICT(agent) DO UPDATE SET name = excluded.name, last_at = excluded.last_at, last_outcome = excluded.last_outcome,
       last_status = excluded.last_status,
       failures_in_row = CASE WHEN excluded.failures_in_row = 0 THEN 0 ELSE failures_in_row + 1 END
     WHERE excluded.last_at >= last_at`,
    agent, attempt.agent, at, attempt.outcome, attempt.status, failed,
  );
}

/** The minutes since `start` (epoch ms, a minute's start) that have any count, oldest first. */
export function minuteCounts(sql: SqlStorage, start: number): MinuteCounts[] {
  const minutes = new Map<number, MinuteCounts>();
  const at = (minute: number) => {
    let entry = minutes.get(minute);
    if (!entry) minutes.set(minute, (entry = { minute, stored: 0, sampledOut: 0, latency: Array<number>(LATENCY_BUCKETS.length).fill(0) }));
    return entry;
  };
  for (const row of sql.exec<{ minute: number; stored: number; sampled_out: number }>("SELECT minute, stored, sampled_out FROM minutes WHERE minute >= ?", start)) {
    Object.assign(at(row.minute), { stored: row.stored, sampledOut: row.sampled_out });
  }
  for (const row of sql.exec<{ minute: number; bucket: number; count: number }>("SELECT minute, bucket, count FROM latency WHERE minute >= ?", start)) {
    at(row.minute).latency[row.bucket] = row.count;
  }
  return [...minutes.values()].sort((a, b) => a.minute - b.minute);
}

export function webhookHealth(sql: SqlStorage): WebhookHealth[] {
  return sql
    .exec<{ name: string; last_at: number; last_outcome: string; last_status: number | null; failures_in_row: number }>(
      "SELECT name, last_at, last_outcome, last_status, failures_in_row FROM webhook_health ORDER BY agent",
    )
    .toArray()
    .map((row) => ({
      agent: row.name,
      lastAt: isoTime(row.last_at),
      lastOutcome: row.last_outcome as WebhookAttempt["outcome"],
      lastStatus: row.last_status,
      failuresInRow: row.failures_in_row,
    }));
}

export function channelCounts(sql: SqlStorage): ChannelCount[] {
  return sql
    .exec<{ topic: string; count: number; last_ts: number }>("SELECT topic, count, last_ts FROM channels ORDER BY last_ts DESC")
    .toArray()
    .map((row) => ({ topic: row.topic, count: row.count, lastTs: isoTime(row.last_ts) }));
}
