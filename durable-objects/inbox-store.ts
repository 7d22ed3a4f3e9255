// An inbox's SQLite storage: messages keyed by their unique `ts`, remembered ids, topics and a
// small key/value state table. Every query is served by an index, so reads and writes cost the
// same at 10 messages as at 100,000 (see bench/).

export interface StoredMessage {
  ts: number;
  id: string;
  sender: string; // name key (lowercase) of `from`, for ?from=
  topic: string | null;
  bodyHash: string;
  expiresAt: number;
  json: string; // the envelope, serialized once
}

export interface MessageQuery {
  sort: "asc" | "desc";
  after?: number;
  before?: number;
  topic?: string;
  from?: string; // name key
  limit: number;
}

/** A broadcast waiting for (or done with) its fan-out. `delivery` is the JSON of what each inbox gets. */
export interface FanoutJob {
  id: string;
  idempotencyKey: string | null;
  bodyHash: string;
  ts: number;
  delivery: string;
  cursor: string; // name key of the last agent handled
  expiresAt: number;
}

/** A remembered id (stored or deleted) and what it was sent with. */
export interface KnownId {
  id: string;
  ts: number;
  bodyHash: string;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS messages (
  ts INTEGER PRIMARY KEY,
  id TEXT NOT NULL UNIQUE,
  sender TEXT NOT NULL,
  topic TEXT,
  body_hash TEXT NOT NULL,
  expires_at INTEGER NOT NULL,
  envelope TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS messages_by_topic ON messages(topic, ts);
CREATE INDEX IF NOT EXISTS messages_by_sender ON messages(sender, ts);
CREATE INDEX IF NOT EXISTS messages_by_expiry ON messages(expires_at);
-- Ids of deleted messages, kept until the message would have expired, so a replay after an
-- ack is still recognised (SPEC §4.1).
CREATE TABLE IF NOT EXISTS deleted_ids (
  id TEXT PRIMARY KEY,
  ts INTEGER NOT NULL,
  body_hash TEXT NOT NULL,
  expires_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS deleted_ids_by_expiry ON deleted_ids(expires_at);
-- A sender's Idempotency-Key -> the relay-generated id it produced.
CREATE TABLE IF NOT EXISTS idempotency_keys (
  key TEXT PRIMARY KEY,
  id TEXT NOT NULL,
  ts INTEGER NOT NULL,
  body_hash TEXT NOT NULL,
  expires_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS idempotency_keys_by_expiry ON idempotency_keys(expires_at);
CREATE TABLE IF NOT EXISTS channels (
  topic TEXT PRIMARY KEY,
  last_ts INTEGER NOT NULL,
  count INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS channels_by_recency ON channels(last_ts);
-- Broadcasts this agent sent, fanned out by the alarm in batches; kept until their TTL for
-- idempotent replays.
CREATE TABLE IF NOT EXISTS fanouts (
  id TEXT PRIMARY KEY,
  idempotency_key TEXT UNIQUE,
  body_hash TEXT NOT NULL,
  ts INTEGER NOT NULL,
  delivery TEXT NOT NULL,
  cursor TEXT NOT NULL DEFAULT '',
  done INTEGER NOT NULL DEFAULT 0,
  expires_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS fanouts_pending ON fanouts(done, ts);
CREATE TABLE IF NOT EXISTS state (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL
);
`;

/** Channels kept per inbox; older topics are forgotten first. */
const CHANNELS_KEPT = 500;
/** Rows removed per expiry pass, so one alarm never holds the object for long. */
export const EXPIRY_BATCH = 500;

type Row = Record<string, SqlStorageValue>;

/** Whether a message matches a query's filters: the in-memory twin of messageFilter. */
export function matchesQuery(m: StoredMessage, q: MessageQuery, now: number): boolean {
  return (
    m.expiresAt > now &&
    (q.after === undefined || m.ts > q.after) &&
    (q.before === undefined || m.ts < q.before) &&
    (q.topic === undefined || m.topic === q.topic) &&
    (q.from === undefined || m.sender === q.from)
  );
}

/** The WHERE conditions and order of a message query, over columns `ts`, `topic`, `sender`. */
export function messageFilter(q: MessageQuery): { sql: string; args: SqlStorageValue[]; order: "ASC" | "DESC" } {
  const conditions = ["1 = 1"];
  const args: SqlStorageValue[] = [];
  const add = (condition: string, value: SqlStorageValue | undefined) => {
    if (value === undefined) return;
    conditions.push(condition);
    args.push(value);
  };
  add("ts > ?", q.after);
  add("ts < ?", q.before);
  add("topic = ?", q.topic);
  add("sender = ?", q.from);
  return { sql: conditions.join(" AND "), args, order: q.sort === "asc" ? "ASC" : "DESC" };
}

function toMessage(row: Row): StoredMessage {
  return {
    ts: row.ts as number,
    id: row.id as string,
    sender: row.sender as string,
    topic: (row.topic as string | null) ?? null,
    bodyHash: row.body_hash as string,
    expiresAt: row.expires_at as number,
    json: row.envelope as string,
  };
}

export class InboxStore {
  constructor(private readonly sql: SqlStorage) {
    sql.exec(SCHEMA);
  }

  getState(key: string): string | null {
    const row = this.sql.exec<{ value: string }>("SELECT value FROM state WHERE key = ?", key).toArray()[0];
    return row?.value ?? null;
  }

  setState(key: string, value: string): void {
    this.sql.exec("INSERT INTO state (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value", key, value);
  }

  insert(message: StoredMessage): void {
    this.sql.exec(
      "INSERT INTO messages (ts, id, sender, topic, body_hash, expires_at, envelope) VALUES (?, ?, ?, ?, ?, ?, ?)",
      message.ts, message.id, message.sender, message.topic, message.bodyHash, message.expiresAt, message.json,
    );
    if (message.topic !== null) {
      this.sql.exec(
        `INSERT INTO channels (topic, last_ts, count) VALUES (?, ?, 1)
         ON CONFLICT(topic) DO UPDATE SET last_ts = excluded.last_ts, count = count + 1`,
        message.topic, message.ts,
      );
    }
  }

  rememberIdempotencyKey(key: string, known: KnownId, expiresAt: number): void {
    this.sql.exec(
      "INSERT OR REPLACE INTO idempotency_keys (key, id, ts, body_hash, expires_at) VALUES (?, ?, ?, ?, ?)",
      key, known.id, known.ts, known.bodyHash, expiresAt,
    );
  }

  byIdempotencyKey(key: string, now: number): KnownId | null {
    const row = this.sql
      .exec<Row>("SELECT id, ts, body_hash FROM idempotency_keys WHERE key = ? AND expires_at > ?", key, now)
      .toArray()[0];
    return row ? { id: row.id as string, ts: row.ts as number, bodyHash: row.body_hash as string } : null;
  }

  /**
   * A live or deleted message with this id, if its TTL has not passed. One query for both tables;
   * an expired message still awaiting the purge is removed here (its id may be sent again), and
   * its ts returned as `purged`.
   */
  knownId(id: string, now: number): { known: KnownId | null; purged: number | null } {
    const rows = this.sql
      .exec<Row>(
        `SELECT ts, body_hash, expires_at, 1 AS live FROM messages WHERE id = ?
         UNION ALL SELECT ts, body_hash, expires_at, 0 FROM deleted_ids WHERE id = ?`,
        id, id,
      )
      .toArray();
    let purged: number | null = null;
    for (const row of rows) {
      if ((row.expires_at as number) > now) return { known: { id, ts: row.ts as number, bodyHash: row.body_hash as string }, purged: null };
      if (row.live === 1) {
        this.sql.exec("DELETE FROM messages WHERE ts = ?", row.ts);
        purged = row.ts as number;
      }
    }
    return { known: null, purged };
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

  /** Up to `limit + 1` matching messages in the requested order: the extra row tells `hasMore`. */
  query(q: MessageQuery, now: number): StoredMessage[] {
    const filter = messageFilter(q);
    return this.sql
      .exec<Row>(
        `SELECT * FROM messages WHERE expires_at > ? AND ${filter.sql} ORDER BY ts ${filter.order} LIMIT ?`,
        now, ...filter.args, q.limit + 1,
      )
      .toArray()
      .map(toMessage);
  }

  /** The newest `n` messages, newest last (to warm the in-memory cache). */
  newest(n: number, now: number): StoredMessage[] {
    return this.sql
      .exec<Row>("SELECT * FROM messages WHERE expires_at > ? ORDER BY ts DESC LIMIT ?", now, n)
      .toArray()
      .map(toMessage)
      .reverse();
  }

  /** Deletes messages by id, keeping each id as a tombstone until its expiry. */
  deleteIds(ids: string[], now: number): StoredMessage[] {
    const deleted: StoredMessage[] = [];
    for (const id of ids) {
      const row = this.sql.exec<Row>("DELETE FROM messages WHERE id = ? AND expires_at > ? RETURNING *", id, now).toArray()[0];
      if (!row) continue;
      const message = toMessage(row);
      this.sql.exec(
        "INSERT OR REPLACE INTO deleted_ids (id, ts, body_hash, expires_at) VALUES (?, ?, ?, ?)",
        message.id, message.ts, message.bodyHash, message.expiresAt,
      );
      deleted.push(message);
    }
    return deleted;
  }

  /** Removes up to EXPIRY_BATCH expired rows of each table; returns the expired messages' ts. */
  purgeExpired(now: number): number[] {
    const gone = this.sql
      .exec<{ ts: number }>(
        "DELETE FROM messages WHERE ts IN (SELECT ts FROM messages WHERE expires_at <= ? ORDER BY expires_at LIMIT ?) RETURNING ts",
        now, EXPIRY_BATCH,
      )
      .toArray()
      .map((row) => row.ts);
    this.sql.exec(
      "DELETE FROM deleted_ids WHERE id IN (SELECT id FROM deleted_ids WHERE expires_at <= ? ORDER BY expires_at LIMIT ?)",
      now, EXPIRY_BATCH,
    );
    this.sql.exec("DELETE FROM fanouts WHERE done = 1 AND expires_at <= ?", now);
    this.sql.exec(
      "DELETE FROM idempotency_keys WHERE key IN (SELECT key FROM idempotency_keys WHERE expires_at <= ? ORDER BY expires_at LIMIT ?)",
      now, EXPIRY_BATCH,
    );
    return gone;
  }

  /** The earliest time any row expires, for the alarm. */
  nextExpiry(): number | null {
    const row = this.sql
      .exec<{ at: number | null }>(
        `SELECT MIN(at) AS at FROM (
           SELECT MIN(expires_at) AS at FROM messages
           UNION ALL SELECT MIN(expires_at) FROM deleted_ids
           UNION ALL SELECT MIN(expires_at) FROM idempotency_keys
           UNION ALL SELECT MIN(expires_at) FROM fanouts WHERE done = 1)`,
      )
      .toArray()[0];
    return row?.at ?? null;
  }

  addFanout(job: FanoutJob): void {
    this.sql.exec(
      "INSERT INTO fanouts (id, idempotency_key, body_hash, ts, delivery, expires_at) VALUES (?, ?, ?, ?, ?, ?)",
      job.id, job.idempotencyKey, job.bodyHash, job.ts, job.delivery, job.expiresAt,
    );
  }

  /** A broadcast recorded earlier under this id or Idempotency-Key. */
  knownFanout(id: string | undefined, idempotencyKey: string | undefined): KnownId | null {
    const row = this.sql
      .exec<Row>("SELECT id, ts, body_hash FROM fanouts WHERE id = ? OR idempotency_key = ?", id ?? null, idempotencyKey ?? null)
      .toArray()[0];
    return row ? { id: row.id as string, ts: row.ts as number, bodyHash: row.body_hash as string } : null;
  }

  nextFanout(): FanoutJob | null {
    const row = this.sql.exec<Row>("SELECT * FROM fanouts WHERE done = 0 ORDER BY ts LIMIT 1").toArray()[0];
    if (!row) return null;
    return {
      id: row.id as string,
      idempotencyKey: (row.idempotency_key as string | null) ?? null,
      bodyHash: row.body_hash as string,
      ts: row.ts as number,
      delivery: row.delivery as string,
      cursor: row.cursor as string,
      expiresAt: row.expires_at as number,
    };
  }

  advanceFanout(id: string, cursor: string, done: boolean): void {
    this.sql.exec("UPDATE fanouts SET cursor = ?, done = ? WHERE id = ?", cursor, done ? 1 : 0, id);
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
    this.sql.exec(
      "DELETE FROM channels WHERE topic NOT IN (SELECT topic FROM channels ORDER BY last_ts DESC LIMIT ?)",
      CHANNELS_KEPT,
    );
  }
}
