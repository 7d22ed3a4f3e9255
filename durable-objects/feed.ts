// The Feed: the admin's view across inboxes (global message feed, channels with counts, webhook
// activity and health, messages and delivery latency per minute). Inboxes push batches from
// their alarms (durable-objects/feed-batch.ts), never one write per message, so this single
// object stays off the send path. It keeps metadata only: never an encrypted payload, at most a
// 200-character preview of a plaintext one.

import { DurableObject } from "cloudflare:workers";
import type { FeedItem, WebhookAttempt } from "../protocol/envelope.js";
import { nameKey } from "../protocol/names.js";
import { isoTime } from "../protocol/time.js";
import { minuteOf, type FeedBatch } from "./feed-batch.js";
import { messageFilter, type MessageQuery } from "./message-query.js";

/** Feed items and webhook attempts kept; older ones are dropped first. */
const ITEMS_KEPT = 10_000;
/** Per-minute counters kept (a day). */
const MINUTES_KEPT = 1440;
/** Upper bounds (ms) of the delivery latency histogram's buckets. */
const LATENCY_BUCKETS = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10_000, 30_000, 60_000, Number.POSITIVE_INFINITY];
/** Admin long-polls held at once. */
const MAX_WAITERS = 50;

const SCHEMA = `
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

export interface FeedPage {
  items: (FeedItem & { seq: number })[];
  hasMore: boolean;
  oldestTs: number | null;
  newestTs: number | null;
  /** The arrival sequence of the last item: the exact cursor for `afterSeq`. */
  lastSeq: number | null;
}

/**
 * A feed query. Items carry each inbox's own `ts` and arrive in batches, so one can reach the
 * feed after a newer one from another inbox: `after` (by ts) may skip it, `afterSeq` (by
 * arrival in the feed, oldest first) never does.
 */
export type FeedQuery = MessageQuery & { afterSeq?: number };

export interface ChannelCount {
  topic: string;
  count: number;
  lastTs: string;
}

export interface MinuteStats {
  minute: string;
  /** Messages stored in that minute (exact). */
  stored: number;
  /** Of those, left out of the feed by sampling. */
  sampledOut: number;
  /** Deliveries measured (webhook 2xx or long-poll wake) and their latency, as histogram bounds. */
  delivered: number;
  latencyP50Ms: number | null;
  latencyP95Ms: number | null;
}

export interface WebhookHealth {
  agent: string;
  lastAt: string;
  lastOutcome: WebhookAttempt["outcome"];
  lastStatus: number | null;
  /** Attempts since the last delivery that did not deliver. */
  failuresInRow: number;
}

export class FeedObject extends DurableObject<Env> {
  private readonly sql: SqlStorage;
  private readonly waiters = new Set<() => void>();

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    this.sql.exec(SCHEMA);
  }

  async record(batch: FeedBatch): Promise<void> {
    this.ctx.storage.transactionSync(() => {
      for (const item of batch.items) {
        this.sql.exec(
          "INSERT INTO items (ts, sender, topic, item) VALUES (?, ?, ?, ?)",
          Date.parse(item.ts), nameKey(item.from), item.topic, JSON.stringify(item),
        );
      }
      for (const [topic, { count, lastTs }] of batch.topics) {
        this.sql.exec(
          `INSERT INTO channels (topic, count, last_ts) VALUES (?, ?, ?)
           ON CONFLICT(topic) DO UPDATE SET count = count + excluded.count, last_ts = MAX(last_ts, excluded.last_ts)`,
          topic, count, lastTs,
        );
      }
      for (const [minute, stored] of batch.perMinute) {
        this.sql.exec(
          "INSERT INTO minutes (minute, stored) VALUES (?, ?) ON CONFLICT(minute) DO UPDATE SET stored = stored + excluded.stored",
          minute, stored,
        );
      }
      if (batch.dropped > 0) {
        this.sql.exec(
          "INSERT INTO minutes (minute, sampled_out) VALUES (?, ?) ON CONFLICT(minute) DO UPDATE SET sampled_out = sampled_out + excluded.sampled_out",
          minuteOf(Date.now()), batch.dropped,
        );
      }
      for (const attempt of batch.attempts) this.recordAttempt(attempt);
      for (const { at, ms } of batch.latencies) {
        this.sql.exec(
          `INSERT INTO latency (minute, bucket, count) VALUES (?, ?, 1)
           ON CONFLICT(minute, bucket) DO UPDATE SET count = count + 1`,
          minuteOf(at), LATENCY_BUCKETS.findIndex((bound) => ms <= bound),
        );
      }
      this.sql.exec("DELETE FROM items WHERE seq <= (SELECT MAX(seq) FROM items) - ?", ITEMS_KEPT);
      this.sql.exec("DELETE FROM attempts WHERE seq <= (SELECT MAX(seq) FROM attempts) - ?", ITEMS_KEPT);
      const oldest = minuteOf(Date.now()) - MINUTES_KEPT * 60_000;
      this.sql.exec("DELETE FROM minutes WHERE minute < ?", oldest);
      this.sql.exec("DELETE FROM latency WHERE minute < ?", oldest);
    });
    if (batch.items.length > 0) this.wakeAll();
  }

  private recordAttempt(attempt: WebhookAttempt): void {
    const at = Date.parse(attempt.at);
    const agent = nameKey(attempt.agent);
    this.sql.exec("INSERT INTO attempts (at, agent, attempt) VALUES (?, ?, ?)", at, agent, JSON.stringify(attempt));
    if (attempt.outcome === "test") return;
    const failed = attempt.outcome === "delivered" ? 0 : 1;
    this.sql.exec(
      `INSERT INTO webhook_health (agent, name, last_at, last_outcome, last_status, failures_in_row) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT(agent) DO UPDATE SET name = excluded.name, last_at = excluded.last_at, last_outcome = excluded.last_outcome,
         last_status = excluded.last_status,
         failures_in_row = CASE WHEN excluded.failures_in_row = 0 THEN 0 ELSE failures_in_row + 1 END
       WHERE excluded.last_at >= last_at`,
      agent, attempt.agent, at, attempt.outcome, attempt.status, failed,
    );
  }

  /** The global feed, with the same filters and paging as an inbox; `waitS` long-polls. */
  async query(q: FeedQuery, waitS = 0): Promise<FeedPage> {
    const page = this.page(q);
    if (page.items.length > 0 || waitS <= 0) return page;
    await this.waitForItems(waitS * 1000);
    return this.page(q);
  }

  private page(q: FeedQuery): FeedPage {
    const filter = messageFilter(q);
    const order = q.afterSeq === undefined ? `ts ${filter.order}, seq ${filter.order}` : "seq ASC";
    const rows = this.sql
      .exec<{ seq: number; ts: number; item: string }>(
        `SELECT seq, ts, item FROM items WHERE ${filter.sql} AND seq > ? ORDER BY ${order} LIMIT ?`,
        ...filter.args, q.afterSeq ?? 0, q.limit + 1,
      )
      .toArray();
    const page = rows.slice(0, q.limit);
    const times = page.map((row) => row.ts);
    return {
      items: page.map((row) => ({ ...(JSON.parse(row.item) as FeedItem), seq: row.seq })),
      hasMore: rows.length > q.limit,
      oldestTs: times.length ? Math.min(...times) : null,
      newestTs: times.length ? Math.max(...times) : null,
      lastSeq: page.length ? Math.max(...page.map((row) => row.seq)) : q.afterSeq ?? null,
    };
  }

  private waitForItems(ms: number): Promise<void> {
    if (this.waiters.size >= MAX_WAITERS) this.waiters.values().next().value!();
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        this.waiters.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      this.waiters.add(wake);
    });
  }

  private wakeAll(): void {
    for (const wake of [...this.waiters]) wake();
  }

  /** Webhook attempts of every agent, newest first. */
  async attempts(limit: number, before?: number): Promise<WebhookAttempt[]> {
    return this.sql
      .exec<{ attempt: string }>(
        "SELECT attempt FROM attempts WHERE at < ? ORDER BY at DESC, seq DESC LIMIT ?",
        before ?? Number.MAX_SAFE_INTEGER, limit,
      )
      .toArray()
      .map((row) => JSON.parse(row.attempt) as WebhookAttempt);
  }

  /** Every topic seen, most recent first, with message counts. */
  async channels(): Promise<ChannelCount[]> {
    return this.sql
      .exec<{ topic: string; count: number; last_ts: number }>("SELECT topic, count, last_ts FROM channels ORDER BY last_ts DESC")
      .toArray()
      .map((row) => ({ topic: row.topic, count: row.count, lastTs: isoTime(row.last_ts) }));
  }

  /** Per-minute throughput and delivery latency since `since` (epoch ms), oldest first, every minute present. */
  async perMinute(since: number): Promise<MinuteStats[]> {
    const start = minuteOf(since);
    const minutes = new Map<number, MinuteStats>();
    for (let minute = start; minute <= minuteOf(Date.now()); minute += 60_000) {
      minutes.set(minute, { minute: isoTime(minute), stored: 0, sampledOut: 0, delivered: 0, latencyP50Ms: null, latencyP95Ms: null });
    }
    for (const row of this.sql.exec<{ minute: number; stored: number; sampled_out: number }>(
      "SELECT minute, stored, sampled_out FROM minutes WHERE minute >= ?",
      start,
    )) {
      const entry = minutes.get(row.minute);
      if (entry) Object.assign(entry, { stored: row.stored, sampledOut: row.sampled_out });
    }
    const histograms = new Map<number, number[]>();
    for (const row of this.sql.exec<{ minute: number; bucket: number; count: number }>(
      "SELECT minute, bucket, count FROM latency WHERE minute >= ? ORDER BY minute, bucket",
      start,
    )) {
      const counts = histograms.get(row.minute) ?? Array<number>(LATENCY_BUCKETS.length).fill(0);
      counts[row.bucket] = row.count;
      histograms.set(row.minute, counts);
    }
    for (const [minute, counts] of histograms) {
      const entry = minutes.get(minute);
      if (!entry) continue;
      entry.delivered = counts.reduce((a, b) => a + b, 0);
      entry.latencyP50Ms = quantileBound(counts, 0.5);
      entry.latencyP95Ms = quantileBound(counts, 0.95);
    }
    return [...minutes.values()];
  }

  /** The latest webhook outcome of every agent that has had one. */
  async webhookHealth(): Promise<WebhookHealth[]> {
    return this.sql
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
}

/** The upper bound of the histogram bucket holding quantile q (the largest finite bound for the last bucket). */
function quantileBound(counts: number[], q: number): number | null {
  const total = counts.reduce((a, b) => a + b, 0);
  if (total === 0) return null;
  let seen = 0;
  for (let i = 0; i < counts.length; i++) {
    seen += counts[i]!;
    if (seen >= q * total) return Number.isFinite(LATENCY_BUCKETS[i]!) ? LATENCY_BUCKETS[i]! : LATENCY_BUCKETS[i - 1]!;
  }
  return null;
}
