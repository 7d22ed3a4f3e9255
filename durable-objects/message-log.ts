// An inbox's messages: storage (message-store.ts), the newest ones in memory
// (recent-messages.ts), the count against the quota, the last ts assigned and TTL expiry, behind
// one store(). Memory is kept equal to storage: every write goes through here.
//
// The object is single-threaded and nothing here awaits, so each read-check-write below runs
// without another request interleaving, and needs no lock.

import type { DeliveryVia, Envelope } from "../protocol/envelope.js";
import type { Limits } from "../protocol/limits.js";
import { isoTime } from "../protocol/time.js";
import { nameKey } from "../protocol/names.js";
import type { AlarmScheduler } from "./alarm-tasks.js";
import { DeliveryReports, type StateReport } from "./delivery-reports.js";
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
  /** A broadcast's copy: its sender records the stored state itself (outbox.ts), so it is not reported. */
  broadcast?: true;
  /** Its reply depth, decided by the sender's inbox (SPEC §12); stored in the envelope. */
  depth: number;
}

/** A copy's delivery state moved on (SPEC §11.1), as the admin feed is told it (views.ts). */
export interface StateChange {
  id: string;
  status: "delivered" | "acked" | "expired";
  /** When (epoch ms). */
  at: number;
  /** How it was first delivered; null when it never was. */
  via: DeliveryVia | null;
}

export type StoreOutcome =
  | { status: "stored"; message: StoredMessage }
  | { status: "duplicate"; known: KnownId }
  | { status: "conflict" | "full" };

export interface Page {
  /** Envelopes as JSON, in the requested order, each with `delivered` (before this answer). */
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
  /** Telling senders what became of their copies (the alarm task "receipts"). */
  readonly reports: DeliveryReports;
  private recent = new RecentMessages();
  private warm = false;
  private count: number;
  private lastTs: number;
  /** The earliest expiry of any stored row, kept here so an alarm with nothing due reads nothing. */
  private nextExpiryAt: number | null;
  /** Messages with a topic stored since the channel list was last trimmed. */
  private topicsSinceTrim = 0;

  constructor(
    private readonly storage: DurableObjectStorage,
    limits: Limits,
    env: Env,
    scheduler: AlarmScheduler,
    recipient: () => string | null,
    /** Told of every state change after its write, like the copy's sender (views.ts: the admin feed). */
    private readonly onStateChange: (change: StateChange) => void,
    readonly inboxMax = limits.inboxMax,
  ) {
    this.db = new MessageStore(storage.sql);
    this.reports = new DeliveryReports(this.db, env, limits, scheduler, recipient);
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
      json: JSON.stringify({ id, from, to, ts: isoTime(ts), depth: copy.depth, ...rest }),
      deliveredAt: null,
      via: null,
      reported: copy.broadcast ? 1 : 0,
      depth: copy.depth,
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
    if (!copy.broadcast) this.reports.changed(message);
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
    if (expiredTs !== null) this.expire(now);
    return known;
  }

  /**
   * A page for the recipient, which marks the copies in it delivered (`via`): at most one
   * statement for the page, none when all were delivered before. Each envelope carries
   * `delivered`, whether it had been delivered before this answer.
   */
  read(query: MessageQuery, now: number, via: DeliveryVia): Page {
    if (!this.warm) {
      const newest = this.db.newest(WARM_MESSAGES, now);
      this.recent.load(newest, newest.length < WARM_MESSAGES);
      this.warm = true;
    }
    const rows = this.recent.query(query, now) ?? this.db.query(query, now);
    const page = rows.slice(0, query.limit);
    const messages = page.map(withDelivered);
    this.markDelivered(page, now, via);
    const times = page.map((m) => m.ts);
    return {
      messages,
      hasMore: rows.length > query.limit,
      oldestTs: times.length ? Math.min(...times) : null,
      newestTs: times.length ? Math.max(...times) : null,
    };
  }

  /** One message for the recipient (JSON with `delivered`), marked delivered; null when not here. */
  open(id: string, now: number, via: DeliveryVia): string | null {
    const cached = this.recent.byId(id, now);
    const message = cached === undefined ? this.db.byId(id, now) : cached;
    if (!message) return null;
    const json = withDelivered(message);
    this.markDelivered([message], now, via);
    return json;
  }

  /** A webhook's 2xx: the copy reached its agent. */
  deliveredByWebhook(message: StoredMessage, now: number): void {
    this.markDelivered([message], now, "webhook");
  }

  /** Marks the undelivered copies of `messages` delivered, in storage (one statement) and in memory. */
  private markDelivered(messages: StoredMessage[], now: number, via: DeliveryVia): void {
    const fresh = messages.filter((m) => m.deliveredAt === null);
    if (fresh.length === 0) return;
    this.db.markDelivered(fresh.map((m) => m.ts), now, via);
    for (const message of fresh) {
      message.deliveredAt = now;
      message.via = via;
      this.recent.delivered(message.ts, now, via); // a row read from storage may also be cached
      this.stateChanged(message, "delivered", now);
    }
  }

  /**
   * The one place a copy's state moving on (written just before) is told: to its sender
   * (delivery-reports.ts) and to the admin feed. A stored copy is told by store() and accept().
   */
  private stateChanged(message: StoredMessage, status: StateChange["status"], at: number): void {
    if (status === "delivered") this.reports.changed(message);
    else this.reports.removed(message.ts);
    this.onStateChange({ id: message.id, status, at, via: message.via });
  }

  /** The ts of the oldest copy not yet delivered, or null: one index step (read by the feed push, off requests' paths). */
  oldestUndelivered(): number | null {
    return this.db.oldestUndelivered();
  }

  byTs(ts: number, now: number): StoredMessage | null {
    return this.db.byTs(ts, now);
  }

  /** Deletes (acks) messages — their ids stay remembered until their TTL; answers the ids that were there. */
  delete(ids: string[], now: number): Set<string> {
    const gone = this.storage.transactionSync(() => {
      const deleted = this.db.deleteIds(ids, now);
      for (const message of deleted) this.stateEvent(message, "acked", now);
      return deleted;
    });
    this.count -= gone.length;
    this.recent.remove(new Set(gone.map((m) => m.ts)));
    for (const message of gone) this.stateChanged(message, "acked", now);
    return new Set(gone.map((m) => m.id));
  }

  /** An ack or an expiry, for the copy's sender (written in the transaction that removes the row). */
  private stateEvent(message: StoredMessage, status: "acked" | "expired", at: number): void {
    const report: StateReport = { id: message.id, ts: message.ts, status, deliveredAt: message.deliveredAt, via: message.via, at, expiresAt: message.expiresAt };
    this.db.addStateEvent(message.sender, JSON.stringify(report));
  }

  channels(): string[] {
    return this.db.channels();
  }

  /** The reply depth of a message this agent received (also after it deleted it), or null. */
  depthOf(id: string, now: number): number | null {
    return this.db.depthOf(id, now);
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
    const gone = this.storage.transactionSync(() => {
      const expired = this.db.purgeExpired(now);
      for (const message of expired) this.stateEvent(message, "expired", now);
      return expired;
    });
    if (gone.length > 0) {
      this.count -= gone.length;
      this.recent.remove(new Set(gone.map((m) => m.ts)));
      for (const message of gone) this.stateChanged(message, "expired", now);
    }
    this.db.trimChannels();
    this.nextExpiryAt = this.db.nextExpiry();
  }
}

/** The stored JSON with `delivered` (before this answer) appended, for the recipient. */
function withDelivered(message: StoredMessage): string {
  return `${message.json.slice(0, -1)},"delivered":${message.deliveredAt !== null}}`;
}
