// An inbox's messages: storage (message-store.ts), the newest ones in memory
// (recent-messages.ts), the count against the quota, the last ts assigned and TTL expiry, behind
// one store(). Memory is kept equal to storage: every write goes through here.
//
// The object is single-threaded and nothing here awaits, so each read-check-write below runs
// without another request interleaving, and needs no lock.

import type { Envelope } from "../protocol/envelope.js";
import { isoTime } from "../protocol/time.js";
import { nameKey } from "../protocol/names.js";
import type { MessageQuery } from "./message-query.js";
import { MessageStore, type KnownId, type StoredMessage } from "./message-store.js";
import { RecentMessages } from "./recent-messages.js";

/** One copy of a message for one inbox: what its sender sent, plus how to store it. */
export interface InboxCopy {
  /** The envelope without `ts` (each inbox assigns its own). */
  envelope: Omit<Envelope, "ts">;
  ttlS: number;
  /**
   * SHA-256 over the sender and the canonical body, when the send may be repeated (a client `id`
   * or an Idempotency-Key); only then is it compared, so only then is it computed.
   */
  bodyHash: string | null;
  /** The sender chose `envelope.id`: it may have been seen before. */
  clientId: boolean;
  /** `<sender key>:<Idempotency-Key>` when the sender used that header. */
  idempotencyKey?: string;
}

export type StoreOutcome =
  | { status: "stored"; message: StoredMessage }
  | { status: "duplicate"; known: KnownId }
  | { status: "conflict" | "full" };

export interface Page {
  /** Envelopes as stored JSON, in the requested order. */
  messages: string[];
  hasMore: boolean;
  oldestTs: number | null;
  newestTs: number | null;
}

/** Topics stored between two trims of the channel list (it keeps the newest 500). */
const CHANNELS_TRIM_EVERY = 500;

/** Newest messages read into memory the first time the inbox is read after waking. */
const WARM_MESSAGES = 200;

export class MessageLog {
  private readonly db: MessageStore;
  private recent = new RecentMessages();
  private warm = false;
  private count: number;
  private lastTs: number;
  /** The earliest expiry of any stored row, kept here so an alarm with nothing due reads nothing. */
  private nextExpiryAt: number | null;
  /** Messages with a topic stored since the channel list was last trimmed. */
  private topicsSinceTrim = 0;

  constructor(private readonly storage: DurableObjectStorage, readonly inboxMax: number) {
    this.db = new MessageStore(storage.sql);
    this.count = this.db.countMessages();
    this.lastTs = this.db.lastTs();
    this.nextExpiryAt = this.db.nextExpiry();
  }

  /** The inbox's key/value state (its agent's config, the ts floor). */
  get state(): Pick<MessageStore, "getState" | "setState"> {
    return this.db;
  }

  /**
   * Stores a copy unless it repeats one already held (same id or Idempotency-Key: a duplicate
   * when the content matches, else a conflict) or the inbox is full. `alsoInTransaction` runs in
   * the same transaction as the insert, so what it writes (a webhook queue row) exists exactly when
   * the message does.
   */
  store(copy: InboxCopy, now: number, alsoInTransaction?: (message: StoredMessage) => void): StoreOutcome {
    const known = this.knownCopy(copy, now);
    if (known) return known.bodyHash === (copy.bodyHash ?? "") ? { status: "duplicate", known } : { status: "conflict" };
    if (this.count >= this.inboxMax) {
      this.expire(now);
      if (this.count >= this.inboxMax) return { status: "full" };
    }
    // Strictly increasing even within one millisecond (the clock does not advance within a request
    // in production), and across restarts (MessageStore.lastTs).
    const ts = Math.max(now, this.lastTs + 1);
    const { id, from, to, ...rest } = copy.envelope;
    const message: StoredMessage = {
      ts,
      id,
      sender: nameKey(from),
      topic: copy.envelope.topic ?? null,
      bodyHash: copy.bodyHash ?? "",
      expiresAt: ts + copy.ttlS * 1000,
      json: JSON.stringify({ id, from, to, ts: isoTime(ts), ...rest }),
    };
    const { idempotencyKey } = copy;
    if (idempotencyKey === undefined && alsoInTransaction === undefined) {
      this.db.insert(message); // one statement: atomic without a transaction (a savepoint costs more than the insert)
    } else {
      this.storage.transactionSync(() => {
        this.db.insert(message);
        if (idempotencyKey !== undefined) this.db.rememberIdempotencyKey(idempotencyKey, { id, ts, bodyHash: message.bodyHash }, message.expiresAt);
        alsoInTransaction?.(message);
      });
    }
    this.lastTs = ts;
    this.count++;
    this.recent.add(message);
    if (message.topic !== null) this.topicsSinceTrim++;
    if (this.nextExpiryAt === null || message.expiresAt < this.nextExpiryAt) this.nextExpiryAt = message.expiresAt;
    return { status: "stored", message };
  }

  /** What this inbox already holds under the copy's id or Idempotency-Key; looked up only when either could repeat. */
  private knownCopy(copy: InboxCopy, now: number): KnownId | null {
    if (copy.idempotencyKey !== undefined) {
      const byKey = this.db.byIdempotencyKey(copy.idempotencyKey, now);
      if (byKey) return byKey;
    }
    if (!copy.clientId) return null;
    const { known, expiredTs } = this.db.findId(copy.envelope.id, now);
    // An expired row not purged yet still holds the id, which may now be sent again.
    if (expiredTs !== null) this.removeExpired([expiredTs]);
    return known;
  }

  page(query: MessageQuery, now: number): Page {
    if (!this.warm) {
      const newest = this.db.newest(WARM_MESSAGES, now);
      this.recent.load(newest, newest.length < WARM_MESSAGES);
      this.warm = true;
    }
    const rows = this.recent.query(query, now) ?? this.db.query(query, now);
    const page = rows.slice(0, query.limit);
    const times = page.map((m) => m.ts);
    return {
      messages: page.map((m) => m.json),
      hasMore: rows.length > query.limit,
      oldestTs: times.length ? Math.min(...times) : null,
      newestTs: times.length ? Math.max(...times) : null,
    };
  }

  byId(id: string, now: number): StoredMessage | null {
    const cached = this.recent.byId(id, now);
    return cached === undefined ? this.db.byId(id, now) : cached;
  }

  byTs(ts: number, now: number): StoredMessage | null {
    return this.db.byTs(ts, now);
  }

  /** Deletes messages (their ids stay remembered until their TTL); answers the ids that were there. */
  delete(ids: string[], now: number): Set<string> {
    const gone = this.storage.transactionSync(() => this.db.deleteIds(ids, now));
    this.count -= gone.length;
    this.recent.remove(new Set(gone.map((m) => m.ts)));
    return new Set(gone.map((m) => m.id));
  }

  channels(): string[] {
    return this.db.channels();
  }

  /** When housekeeping next has work (a row expires, or the channel list may need trimming). */
  nextHousekeeping(now: number): number | null {
    if (this.topicsSinceTrim >= CHANNELS_TRIM_EVERY) return now;
    return this.nextExpiryAt;
  }

  /** Removes expired rows (a bounded batch) and forgotten topics. */
  expire(now: number): void {
    this.topicsSinceTrim = 0;
    // Rows about to go may hold the largest ts ever assigned: keep it as the floor.
    if (this.nextExpiryAt !== null && this.nextExpiryAt <= now) this.db.setState("ts_floor", String(this.lastTs));
    const gone = this.db.purgeExpired(now);
    this.removeExpired(gone, false);
    this.db.trimChannels();
    this.nextExpiryAt = this.db.nextExpiry();
  }

  private removeExpired(ts: number[], fromStorage = true): void {
    if (ts.length === 0) return;
    if (fromStorage) for (const t of ts) this.db.removeByTs(t);
    this.count -= ts.length;
    this.recent.remove(new Set(ts));
  }
}
