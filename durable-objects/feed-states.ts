// A feed shard's view of delivery state (SPEC §11.1), from its inboxes' pushes (feed-batch.ts):
// the latest state of each feed item (a stored copy: message id and recipient), attached to the
// items when a page is read, and each agent's backlog, the ts of its oldest copy not yet
// delivered, for /admin/stats. Both are as fresh as the inbox's last push: a state change reaches
// the shard with the next push after it, at most FEED_FLUSH_MS later (more when the shard is busy).

import type { CopyStatus, DeliveryVia, FeedItem } from "../protocol/envelope.js";
import { nameKey } from "../protocol/names.js";
import { isoTime } from "../protocol/time.js";
import type { FeedPush } from "./feed-batch.js";
import { ITEMS_KEPT } from "./feed-tables.js";

/** Backlog rows a shard answers, oldest first (the Worker shows as many over all shards). */
export const BACKLOG_SHOWN = 100;

// item_states: one row per copy whose state moved past stored (a copy without one is stored).
// `seq` is bumped on every change, so the newest ITEMS_KEPT changes are kept, like the items.
// backlog: one row per agent with something undelivered; gone when its inbox pushes null.
export const FEED_STATE_SCHEMA = `
CREATE TABLE IF NOT EXISTS item_states (
  message_id TEXT NOT NULL,
  recipient TEXT NOT NULL,
  rank INTEGER NOT NULL,
  status TEXT NOT NULL,
  via TEXT,
  at INTEGER NOT NULL,
  seq INTEGER NOT NULL,
  PRIMARY KEY (message_id, recipient)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS item_states_by_seq ON item_states(seq);
CREATE TABLE IF NOT EXISTS backlog (
  agent TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  oldest_undelivered INTEGER NOT NULL,
  reported_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS backlog_by_age ON backlog(oldest_undelivered);
`;

/** A state only moves forward: a late or repeated push never undoes a later state. */
const RANK: Record<CopyStatus, number> = { stored: 0, delivered: 1, acked: 2, expired: 2 };

/** What a feed item shows of its copy's state. */
export interface ItemState {
  status: CopyStatus;
  via?: DeliveryVia;
  /** When it reached `status` (ISO); absent while stored. */
  statusAt?: string;
}

export interface Backlog {
  /** The agent's registered name. */
  agent: string;
  /** Epoch ms of its oldest copy not yet delivered. */
  oldestUndelivered: number;
  /** When its inbox last pushed (epoch ms). */
  reportedAt: number;
}

/** Writes one push's state changes and its agent's backlog (inside the caller's transaction). */
export function recordStates(sql: SqlStorage, push: FeedPush, now: number): void {
  const recipient = nameKey(push.agent);
  for (const change of push.states) {
    sql.exec(
      `INSERT INTO item_states (message_id, recipient, rank, status, via, at, seq)
       VALUES (?, ?, ?, ?, ?, ?, (SELECT IFNULL(MAX(seq), 0) + 1 FROM item_states))
       ON CONFLICT(message_id, recipient) DO UPDATE SET rank = excluded.rank, status = excluded.status,
         via = IFNULL(excluded.via, via), at = excluded.at, seq = excluded.seq
       WHERE excluded.rank > rank`,
      change.id, recipient, RANK[change.status], change.status, change.via, change.at,
    );
  }
  if (push.states.length > 0) sql.exec("DELETE FROM item_states WHERE seq <= (SELECT MAX(seq) FROM item_states) - ?", ITEMS_KEPT);
  if (push.oldestUndelivered === null) {
    sql.exec("DELETE FROM backlog WHERE agent = ?", recipient);
  } else {
    sql.exec(
      `INSERT INTO backlog (agent, name, oldest_undelivered, reported_at) VALUES (?, ?, ?, ?)
       ON CONFLICT(agent) DO UPDATE SET name = excluded.name, oldest_undelivered = excluded.oldest_undelivered, reported_at = excluded.reported_at`,
      recipient, push.agent, push.oldestUndelivered, now,
    );
  }
}

/** The states of a page's items: `?` is a JSON array of [message id, recipient key] pairs. */
export const ITEM_STATES_QUERY = `SELECT s.message_id, s.recipient, s.status, s.via, s.at FROM json_each(?) AS k
  JOIN item_states AS s ON s.message_id = json_extract(k.value, '$[0]') AND s.recipient = json_extract(k.value, '$[1]')`;

/**
 * The state of each of these items, in one query over the primary key (a page is at most
 * PAGE_MAX items; the keys go as one JSON parameter, within the 100 bound parameters allowed).
 * Items without a row are stored.
 */
export function itemStates(sql: SqlStorage, items: Pick<FeedItem, "id" | "to">[]): ItemState[] {
  if (items.length === 0) return [];
  const keys = items.map((item) => [item.id, nameKey(item.to)]);
  const rows = sql
    .exec<{ message_id: string; recipient: string; status: CopyStatus; via: DeliveryVia | null; at: number }>(ITEM_STATES_QUERY, JSON.stringify(keys))
    .toArray();
  const byKey = new Map(rows.map((row) => [`${row.message_id}\n${row.recipient}`, row]));
  return keys.map(([id, recipient]) => {
    const row = byKey.get(`${id}\n${recipient}`);
    if (!row) return { status: "stored" };
    const state: ItemState = { status: row.status, statusAt: isoTime(row.at) };
    if (row.via !== null) state.via = row.via;
    return state;
  });
}

/** The agents of this shard with something undelivered, oldest first. */
export function backlog(sql: SqlStorage): Backlog[] {
  return sql
    .exec<{ name: string; oldest_undelivered: number; reported_at: number }>(
      "SELECT name, oldest_undelivered, reported_at FROM backlog ORDER BY oldest_undelivered LIMIT ?",
      BACKLOG_SHOWN,
    )
    .toArray()
    .map((row) => ({ agent: row.name, oldestUndelivered: row.oldest_undelivered, reportedAt: row.reported_at }));
}

/** A removed agent: no push will clear its backlog. */
export function forgetBacklog(sql: SqlStorage, agent: string): void {
  sql.exec("DELETE FROM backlog WHERE agent = ?", agent);
}
