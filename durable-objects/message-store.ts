// An inbox's messages in its SQLite storage: each keyed by its unique `ts`, the ids of deleted
// ones (tombstones), Idempotency-Keys, topics, and a small key/value state table. Every query is
// served by an index, so reads and writes cost the same at 10 messages as at 100,000 (bench/).

import type { DeliveryVia } from "../protocol/envelope.js";
import type { MessageQuery } from "./message-query.js";
import { messageFilter } from "./message-query.js";
import { MESSAGE_STEPS } from "./message-schema.js";
import { migrate } from "./schema.js";

export interface StoredMessage {
  ts: number;
  id: string;
  /** Name key (lower case) of `from`, for ?from=. */
  sender: string;
  topic: string | null;
  /** SHA-256 over sender and canonical body, or "" when the send could not be repeated. */
  bodyHash: string;
  expiresAt: number;
  /** The envelope, serialized once. */
  json: string;
  /** When the copy was first handed to its recipient (SPEC §11.1), and how; null while unread. */
  deliveredAt: number | null;
  via: DeliveryVia | null;
  /** The state its sender has heard of: 0 nothing, 1 stored, 2 delivered. */
  reported: number;
  /** How many replies deep it is (SPEC §12). */
  depth: number;
}

/** A copy's state as its sender is told it (durable-objects/delivery-reports.ts). */
export interface StateRow {
  ts: number;
  id: string;
  sender: string;
  deliveredAt: number | null;
  via: DeliveryVia | null;
  reported: number;
  expiresAt: number;
}

/** An id this inbox has held (stored or deleted), and what it was sent with. */
export interface KnownId {
  id: string;
  ts: number;
  bodyHash: string;
}

/** Served by messages_undelivered (step 5). */
export const OLDEST_UNDELIVERED_QUERY = "SELECT MIN(ts) AS ts FROM messages WHERE delivered_at IS NULL";

/** Served by messages_unreported (step 6): read each time the object opens. */
export const UNREPORTED_QUERY = `SELECT ts, id, sender, delivered_at, via, reported, expires_at FROM messages
  WHERE reported < (CASE WHEN delivered_at IS NULL THEN 1 ELSE 2 END)`;

/** Channels kept per inbox; older topics are forgotten first. */
const CHANNELS_KEPT = 500;
/** Rows removed per expiry pass, so one alarm never holds the object for long. */
export const EXPIRY_BATCH = 500;

type Row = Record<string, SqlStorageValue>;

function toMessage(row: Row): StoredMessage {
  return {
    ts: row.ts as number,
    id: row.id as string,
    sender: row.sender as string,
    topic: (row.topic as string | null) ?? null,
    bodyHash: row.body_hash as string,
    expiresAt: row.expires_at as number,
    json: row.envelope as string,
    deliveredAt: (row.delivered_at as number | null) ?? null,
    via: (row.via as DeliveryVia | null) ?? null,
    reported: row.reported as number,
    depth: row.depth as number,
  };
}

const toKnown = (row: Row): KnownId => ({ id: row.id as string, ts: row.ts as number, bodyHash: row.body_hash as string });

export class MessageStore {
  constructor(private readonly sql: SqlStorage) {
    migrate(sql, "messages", MESSAGE_STEPS);
  }

  getState(key: string): string | null {
    const row = this.sql.exec<{ value: string }>("SELECT value FROM state WHERE key = ?", key).toArray()[0];
    return row?.value ?? null;
  }

  setState(key: string, value: string): void {
    this.sql.exec("INSERT INTO state (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value", key, value);
  }

  /** One statement (the channel's recency follows by trigger), so it is atomic on its own. */
  insert(message: StoredMessage): void {
    this.sql.exec(
      "INSERT INTO messages (ts, id, sender, topic, body_hash, expires_at, envelope, reported, depth) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
      message.ts, message.id, message.sender, message.topic, message.bodyHash, message.expiresAt, message.json, message.reported, message.depth,
    );
  }

  /** Marks copies delivered, those not delivered yet: one statement for a whole page. */
  markDelivered(ts: number[], at: number, via: DeliveryVia): void {
    this.sql.exec(
      "UPDATE messages SET delivered_at = ?, via = ? WHERE ts IN (SELECT value FROM json_each(?)) AND delivered_at IS NULL",
      at, via, JSON.stringify(ts),
    );
  }

  /**
   * The ts of the oldest copy not yet delivered, or null (messages_undelivered). Expired copies
   * count until the alarm purges them, which it does before the feed push that asks (alarm task order).
   */
  oldestUndelivered(): number | null {
    return this.sql.exec<{ ts: number | null }>(OLDEST_UNDELIVERED_QUERY).one().ts;
  }

  /** The copies whose state their sender has not heard of (read once, when the object starts). */
  unreported(): StateRow[] {
    return this.sql
      .exec<Row>(UNREPORTED_QUERY)
      .toArray()
      .map((row) => ({
        ts: row.ts as number,
        id: row.id as string,
        sender: row.sender as string,
        deliveredAt: (row.delivered_at as number | null) ?? null,
        via: (row.via as DeliveryVia | null) ?? null,
        reported: row.reported as number,
        expiresAt: row.expires_at as number,
      }));
  }

  /** Their senders heard of `state` (1 stored, 2 delivered) for these copies: one statement. */
  markReported(ts: number[], state: 1 | 2): void {
    this.sql.exec("UPDATE messages SET reported = MAX(reported, ?) WHERE ts IN (SELECT value FROM json_each(?))", state, JSON.stringify(ts));
  }

  addStateEvent(sender: string, event: string): void {
    this.sql.exec("INSERT INTO state_events (sender, event) VALUES (?, ?)", sender, event);
  }

  stateEvents(limit: number): { seq: number; sender: string; event: string }[] {
    return this.sql.exec<{ seq: number; sender: string; event: string }>("SELECT seq, sender, event FROM state_events ORDER BY seq LIMIT ?", limit).toArray();
  }

  deleteStateEvents(seqs: number[]): void {
    this.sql.exec("DELETE FROM state_events WHERE seq IN (SELECT value FROM json_each(?))", JSON.stringify(seqs));
  }

  hasStateEvents(): boolean {
    return this.sql.exec("SELECT 1 FROM state_events LIMIT 1").toArray().length > 0;
  }

  rememberIdempotencyKey(key: string, known: KnownId, expiresAt: number): void {
    this.sql.exec(
      "INSERT OR REPLACE INTO idempotency_keys (key, id, ts, body_hash, expires_at) VALUES (?, ?, ?, ?, ?)",
      key, known.id, known.ts, known.bodyHash, expiresAt,
    );
  }

  byIdempotencyKey(key: string, now: number): KnownId | null {
    const row = this.sql.exec<Row>("SELECT id, ts, body_hash FROM idempotency_keys WHERE key = ? AND expires_at > ?", key, now).toArray()[0];
    return row ? toKnown(row) : null;
  }

  /**
   * A stored or deleted message with this id, in one query over both tables; `expiredTs` is the ts
   * of a stored row whose TTL passed but which the alarm has not purged yet (it holds the id).
   */
  findId(id: string, now: number): { known: KnownId | null; expiredTs: number | null } {
    const rows = this.sql
      .exec<Row>(
        `SELECT id, ts, body_hash, expires_at, 1 AS live FROM messages WHERE id = ?
         UNION ALL SELECT id, ts, body_hash, expires_at, 0 FROM deleted_ids WHERE id = ?`,
        id, id,
      )
      .toArray();
    let expiredTs: number | null = null;
    for (const row of rows) {
      if ((row.expires_at as number) > now) return { known: toKnown(row), expiredTs: null };
      if (row.live === 1) expiredTs = row.ts as number;
    }
    return { known: null, expiredTs };
  }

  /**
   * The largest ts this inbox ever assigned: from the stored rows, or the floor written when
   * expiry removed them, so ts keeps increasing across restarts without a write per message.
   */
  lastTs(): number {
    const row = this.sql
      .exec<{ t: number | null }>(
        `SELECT MAX(t) AS t FROM (SELECT MAX(ts) AS t FROM messages UNION ALL SELECT MAX(ts) FROM deleted_ids
         UNION ALL SELECT CAST(value AS INTEGER) FROM state WHERE key = 'ts_floor')`,
      )
      .one();
    return row.t ?? 0;
  }

  byTs(ts: number, now: number): StoredMessage | null {
    const row = this.sql.exec<Row>("SELECT * FROM messages WHERE ts = ? AND expires_at > ?", ts, now).toArray()[0];
    return row ? toMessage(row) : null;
  }

  byId(id: string, now: number): StoredMessage | null {
    const row = this.sql.exec<Row>("SELECT * FROM messages WHERE id = ? AND expires_at > ?", id, now).toArray()[0];
    return row ? toMessage(row) : null;
  }

  /** The reply depth of a message this inbox received (held or deleted), while its TTL lasts. */
  depthOf(id: string, now: number): number | null {
    const row = this.sql
      .exec<{ depth: number }>(
        "SELECT depth FROM messages WHERE id = ? AND expires_at > ? UNION ALL SELECT depth FROM deleted_ids WHERE id = ? AND expires_at > ? LIMIT 1",
        id, now, id, now,
      )
      .toArray()[0];
    return row?.depth ?? null;
  }

  /** Up to `limit + 1` matching messages in the requested order: the extra row tells `hasMore`. */
  query(q: MessageQuery, now: number): StoredMessage[] {
    const filter = messageFilter(q);
    return this.sql
      .exec<Row>(`SELECT * FROM messages WHERE expires_at > ? AND ${filter.sql} ORDER BY ts ${filter.order} LIMIT ?`, now, ...filter.args, q.limit + 1)
      .toArray()
      .map(toMessage);
  }

  /** The newest `n` messages, newest last (to warm the in-memory cache). */
  newest(n: number, now: number): StoredMessage[] {
    return this.sql.exec<Row>("SELECT * FROM messages WHERE expires_at > ? ORDER BY ts DESC LIMIT ?", now, n).toArray().map(toMessage).reverse();
  }

  /** Deletes messages by id, keeping each id as a tombstone until its expiry; answers the deleted. */
  deleteIds(ids: string[], now: number): StoredMessage[] {
    const deleted: StoredMessage[] = [];
    for (const id of ids) {
      const row = this.sql.exec<Row>("DELETE FROM messages WHERE id = ? AND expires_at > ? RETURNING *", id, now).toArray()[0];
      if (!row) continue;
      const message = toMessage(row);
      this.sql.exec(
        "INSERT OR REPLACE INTO deleted_ids (id, ts, body_hash, expires_at, depth) VALUES (?, ?, ?, ?, ?)",
        message.id, message.ts, message.bodyHash, message.expiresAt, message.depth,
      );
      deleted.push(message);
    }
    return deleted;
  }

  /** Removes up to EXPIRY_BATCH expired rows of each table; answers the expired messages. */
  purgeExpired(now: number): StoredMessage[] {
    const gone = this.sql
      .exec<Row>(
        "DELETE FROM messages WHERE ts IN (SELECT ts FROM messages WHERE expires_at <= ? ORDER BY expires_at LIMIT ?) RETURNING *",
        now, EXPIRY_BATCH,
      )
      .toArray()
      .map(toMessage);
    this.sql.exec("DELETE FROM deleted_ids WHERE id IN (SELECT id FROM deleted_ids WHERE expires_at <= ? ORDER BY expires_at LIMIT ?)", now, EXPIRY_BATCH);
    this.sql.exec(
      "DELETE FROM idempotency_keys WHERE key IN (SELECT key FROM idempotency_keys WHERE expires_at <= ? ORDER BY expires_at LIMIT ?)",
      now, EXPIRY_BATCH,
    );
    return gone;
  }

  /** The earliest time any row of these tables expires. */
  nextExpiry(): number | null {
    const row = this.sql
      .exec<{ at: number | null }>(
        `SELECT MIN(at) AS at FROM (
           SELECT MIN(expires_at) AS at FROM messages
           UNION ALL SELECT MIN(expires_at) FROM deleted_ids
           UNION ALL SELECT MIN(expires_at) FROM idempotency_keys)`,
      )
      .one();
    return row.at;
  }

  countMessages(): number {
    return this.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM messages").one().n;
  }

  channels(): string[] {
    return this.sql
      .exec<{ topic: string }>("SELECT topic FROM channels ORDER BY last_ts DESC LIMIT ?", CHANNELS_KEPT)
      .toArray()
      .map((row) => row.topic);
  }

  trimChannels(): void {
    this.sql.exec("DELETE FROM channels WHERE topic NOT IN (SELECT topic FROM channels ORDER BY last_ts DESC LIMIT ?)", CHANNELS_KEPT);
  }
}
