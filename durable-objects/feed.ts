// The Feed: the admin's view across inboxes (global message feed, channels with counts,
// messages per minute). Inboxes push batches from their alarms (durable-objects/feed-batch.ts),
// never one write per message, so this single object stays off the send path. It keeps
// metadata only: never an encrypted payload, at most a 200-character preview of a plaintext one.

import { DurableObject } from "cloudflare:workers";
import type { FeedItem, WebhookAttempt } from "../protocol/envelope.js";
import { nameKey } from "../protocol/names.js";
import { isoTime } from "../protocol/time.js";
import type { FeedBatch } from "./feed-batch.js";
import { messageFilter, type MessageQuery } from "./inbox-store.js";

/** Feed items kept; older ones are dropped first. */
const ITEMS_KEPT = 10_000;
/** Per-minute counters kept (a day). */
const MINUTES_KEPT = 1440;

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
  attempt TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS attempts_by_time ON attempts(at);
CREATE TABLE IF NOT EXISTS minutes (
  minute INTEGER PRIMARY KEY,
  stored INTEGER NOT NULL,
  sampled_out INTEGER NOT NULL
);
`;

export interface FeedPage {
  items: FeedItem[];
  hasMore: boolean;
  oldestTs: number | null;
  newestTs: number | null;
}

export interface ChannelCount {
  topic: string;
  count: number;
  lastTs: string;
}

export class FeedObject extends DurableObject<Env> {
  private readonly sql: SqlStorage;

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
      for (const [topic, { count, lastTs }] of Object.entries(batch.topics)) {
        this.sql.exec(
          `INSERT INTO channels (topic, count, last_ts) VALUES (?, ?, ?)
           ON CONFLICT(topic) DO UPDATE SET count = count + excluded.count, last_ts = MAX(last_ts, excluded.last_ts)`,
          topic, count, lastTs,
        );
      }
      const minutes = Object.entries(batch.perMinute);
      for (const [minute, stored] of minutes) {
        this.sql.exec(
          `INSERT INTO minutes (minute, stored, sampled_out) VALUES (?, ?, 0)
           ON CONFLICT(minute) DO UPDATE SET stored = stored + excluded.stored`,
          Number(minute), stored,
        );
      }
      if (batch.dropped > 0 && minutes.length > 0) {
        this.sql.exec("UPDATE minutes SET sampled_out = sampled_out + ? WHERE minute = ?", batch.dropped, Number(minutes.at(-1)![0]));
      }
      for (const attempt of batch.attempts) {
        this.sql.exec("INSERT INTO attempts (at, attempt) VALUES (?, ?)", Date.parse(attempt.at), JSON.stringify(attempt));
      }
      this.sql.exec("DELETE FROM items WHERE seq <= (SELECT MAX(seq) FROM items) - ?", ITEMS_KEPT);
      this.sql.exec("DELETE FROM attempts WHERE seq <= (SELECT MAX(seq) FROM attempts) - ?", ITEMS_KEPT);
      this.sql.exec("DELETE FROM minutes WHERE minute < (SELECT MAX(minute) FROM minutes) - ?", MINUTES_KEPT * 60_000);
    });
  }

  /** The global feed, with the same filters and paging as an inbox. */
  async query(q: MessageQuery): Promise<FeedPage> {
    const filter = messageFilter(q);
    const rows = this.sql
      .exec<{ ts: number; item: string }>(
        `SELECT ts, item FROM items WHERE ${filter.sql} ORDER BY ts ${filter.order}, seq ${filter.order} LIMIT ?`,
        ...filter.args, q.limit + 1,
      )
      .toArray();
    const page = rows.slice(0, q.limit);
    const times = page.map((row) => row.ts);
    return {
      items: page.map((row) => JSON.parse(row.item) as FeedItem),
      hasMore: rows.length > q.limit,
      oldestTs: times.length ? Math.min(...times) : null,
      newestTs: times.length ? Math.max(...times) : null,
    };
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

  /** Messages stored per minute since `since` (epoch ms). */
  async perMinute(since: number): Promise<{ minute: string; stored: number; sampledOut: number }[]> {
    return this.sql
      .exec<{ minute: number; stored: number; sampled_out: number }>(
        "SELECT minute, stored, sampled_out FROM minutes WHERE minute >= ? ORDER BY minute",
        since,
      )
      .toArray()
      .map((row) => ({ minute: isoTime(row.minute), stored: row.stored, sampledOut: row.sampled_out }));
  }
}

export function feedStub(env: Env): DurableObjectStub<FeedObject> {
  return env.FEED.getByName("feed");
}
