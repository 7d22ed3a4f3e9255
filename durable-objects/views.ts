// What an inbox tells the relay-wide views about its agent, in batches on a timer (SPEC §2,
// "views across inboxes"): presence (lastSeen) to its presence shard at most once per
// PRESENCE_PUSH_S, and the feed (stored messages' metadata, webhook attempts, delivery latency,
// its copies' state changes) to its feed shard while there is something to push: FEED_FLUSH_MS
// after the first thing collected, and no sooner than the shard's last answer allows
// (push-slots.ts), so a busy shard stretches every inbox's interval. Every feed push also carries
// the agent's backlog (its oldest copy not yet delivered), read then, never on a request's path;
// whatever changes the backlog (a copy stored, delivered, acked, expired) is itself collected, so
// the shard's last word on it is never older than one push. The shards are chosen by the agent's
// name (stubs.ts). Never a global write per request, never a read of every inbox.
//
// The timer is in memory, not the object's alarm: what it pushes is collected in memory too
// (lastSeen included), so an alarm would bring back an evicted object with nothing to push, and
// each alarm costs a durable write to set, a handler run and a write to re-arm. Measured on a
// broadcast to 1,000 inboxes, where every recipient pushed from its alarm 2 s after its copy
// arrived, competing with the fan-out on workerd's one thread: 5.4 s cold, 2.4-2.7 s warm with
// the alarm, 4.1-4.6 s and 1.04 s with the timer (README, Performance).

import type { Envelope, FeedItem, WebhookAttempt } from "../protocol/envelope.js";
import { describeError } from "../protocol/errors.js";
import type { Limits } from "../protocol/limits.js";
import { nameKey } from "../protocol/names.js";
import { isoTime } from "../protocol/time.js";
import { FeedCollector, type FeedPush } from "./feed-batch.js";
import type { StateChange } from "./message-log.js";
import type { StoredMessage } from "./message-store.js";
import { feedStub, presenceStub, shardOf } from "./stubs.js";

/** Characters of a plaintext payload the admin feed may show (SPEC §2). */
const PREVIEW_CHARS = 200;
/**
 * An inbox told to wait longer than this for its next feed push pushes anyway once it has been
 * quiet this long: an idle object is soon evicted from memory (about 10 s), and its unpushed batch
 * with it. A busy inbox is never idle, so it waits its turn; one going quiet pushes one batch early.
 */
const IDLE_PUSH_MS = 5_000;
/** Delay before a push the shard did not take is tried again. */
const RETRY_MS = 1000;

export class Views {
  private lastSeen: number | null = null;
  private presencePushedAt = 0;
  private presenceDueAt: number | null = null;
  private feed: FeedCollector;
  private feedDueAt: number | null = null;
  /** The feed shard's last answer: no push before this (epoch ms). */
  private feedNotBefore = 0;
  /** When the feed batch last grew (epoch ms). */
  private feedAddedAt = 0;
  /** The one timer for both pushes, and when it fires (epoch ms). */
  private timer: ReturnType<typeof setTimeout> | null = null;
  private timerAt: number | null = null;

  constructor(
    private readonly env: Env,
    private readonly limits: Limits,
    /** The agent's registered name, or null once it is gone. */
    private readonly agentName: () => string | null,
    /** The ts of the agent's oldest copy not yet delivered, or null (message-log.ts). */
    private readonly oldestUndelivered: () => number | null,
  ) {
    this.feed = new FeedCollector(limits.feedBatchMax);
  }

  get lastSeenAt(): number | null {
    return this.lastSeen;
  }

  /** The agent made an authenticated request, or is waiting in a long-poll. */
  seen(now: number): void {
    this.lastSeen = now;
    if (this.presenceDueAt !== null) return;
    // At once when the last push is over an interval old, else at the end of the interval.
    this.presenceDueAt = Math.max(now, this.presencePushedAt + this.limits.presencePushS * 1000);
    this.arm();
  }

  /** A message was stored in this inbox. */
  stored(message: StoredMessage, envelope: Omit<Envelope, "ts">, recipient: string): void {
    this.feed.add(message.topic, message.ts, () => feedItem(message, envelope, recipient));
    this.scheduleFlush();
  }

  attempted(attempt: WebhookAttempt): void {
    this.feed.addAttempt(attempt);
    this.scheduleFlush();
  }

  /** A message reached its agent (webhook 2xx, or a waiting long-poll answered) this long after it was stored. */
  delivered(latencyMs: number): void {
    this.feed.addLatency(latencyMs);
    this.scheduleFlush();
  }

  /** A copy's state moved on (delivered, acked, expired): its feed item shows it from the next push. */
  copyChanged(change: StateChange): void {
    this.feed.addState(change);
    this.scheduleFlush();
  }

  /**
   * The agent is being removed: its feed shard forgets its backlog (no later push would clear it).
   * Best effort: a removal never fails for a view.
   */
  async forgetAgent(name: string): Promise<void> {
    try {
      await feedStub(this.env, shardOf(name, this.limits.feedShards)).forgetAgent(nameKey(name));
    } catch (error) {
      console.error(`views: the feed shard could not forget a removed agent: ${describeError(error)}`);
    }
  }

  /** Drops what was collected (the agent's inbox was deleted). */
  reset(): void {
    this.feed = new FeedCollector(this.limits.feedBatchMax);
    this.feedDueAt = this.presenceDueAt = this.lastSeen = null;
    this.feedNotBefore = 0;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = this.timerAt = null;
  }

  private scheduleFlush(): void {
    const now = Date.now();
    this.feedAddedAt = now;
    if (this.feedDueAt !== null) return;
    this.feedDueAt = Math.max(now + this.limits.feedFlushMs, this.feedNotBefore);
    this.arm();
  }

  /** Makes sure the timer fires by the earlier push that is due. */
  private arm(): void {
    const due = Math.min(this.presenceDueAt ?? Infinity, this.feedNextDue() ?? Infinity);
    if (due === Infinity || (this.timerAt !== null && this.timerAt <= due)) return;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timerAt = due;
    this.timer = setTimeout(() => void this.pushDue(Date.now()), Math.max(0, due - Date.now()));
  }

  /**
   * The timer: the pushes due by `now`. One the shard does not take (restarting, overloaded) is
   * logged and tried again a second later, with whatever is collected meanwhile; never thrown.
   */
  async pushDue(now: number): Promise<void> {
    this.timer = this.timerAt = null;
    if (this.presenceDueAt !== null && this.presenceDueAt <= now) {
      try {
        await this.pushPresence(now);
      } catch (error) {
        console.error(`views: presence push failed: ${describeError(error)}`);
        this.presenceDueAt = Date.now() + RETRY_MS;
      }
    }
    const feedDue = this.feedNextDue();
    if (feedDue !== null && feedDue <= now) {
      try {
        await this.flushFeed();
      } catch (error) {
        console.error(`views: feed push failed: ${describeError(error)}`);
        this.feedAddedAt = Date.now();
        this.feedDueAt = this.feedAddedAt + RETRY_MS;
      }
    }
    this.arm();
  }

  /** The push is due at the shard's slot, or once the inbox has been quiet IDLE_PUSH_MS. */
  private feedNextDue(): number | null {
    return this.feedDueAt === null ? null : Math.min(this.feedDueAt, this.feedAddedAt + IDLE_PUSH_MS);
  }

  private async pushPresence(now: number): Promise<void> {
    this.presenceDueAt = null;
    const name = this.agentName();
    if (name === null || this.lastSeen === null) return;
    this.presencePushedAt = now;
    await presenceStub(this.env, shardOf(name, this.limits.presenceShards)).record(nameKey(name), this.lastSeen);
  }

  private async flushFeed(): Promise<void> {
    this.feedDueAt = null;
    const name = this.agentName();
    if (this.feed.size === 0 || name === null) return;
    const batch = this.feed.take();
    const push: FeedPush = { ...batch, agent: name, oldestUndelivered: this.oldestUndelivered() };
    try {
      const { nextPushInMs } = await feedStub(this.env, shardOf(name, this.limits.feedShards)).record(push);
      this.feedNotBefore = Date.now() + nextPushInMs;
    } catch (error) {
      // The shard did not take it (restarting, overloaded): keep the batch for the retry (pushDue),
      // merged with whatever is collected meanwhile, instead of losing it. A push the shard stored
      // before its answer was lost is then counted twice: these are views.
      this.feed.restore(batch);
      throw error;
    }
  }
}

function feedItem(message: StoredMessage, envelope: Omit<Envelope, "ts">, recipient: string): FeedItem {
  const item: FeedItem = {
    id: message.id,
    from: envelope.from,
    to: recipient,
    ts: isoTime(message.ts),
    type: envelope.type,
    topic: message.topic,
    encrypted: envelope.encrypted,
    bytes: utf8Length(message.json),
  };
  if (typeof envelope.to === "string" && nameKey(envelope.to) === "broadcast") item.broadcast = true;
  if (!envelope.encrypted) item.preview = preview(envelope.payload);
  return item;
}

/** UTF-8 bytes of a string, counted without encoding it. */
function utf8Length(text: string): number {
  let bytes = text.length;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code >= 0xd800 && code <= 0xdbff) i++; // a surrogate pair: 4 bytes for 2 units
    else if (code >= 0x800) bytes += 2;
    else if (code >= 0x80) bytes += 1;
    if (code >= 0xd800 && code <= 0xdbff) bytes += 2;
  }
  return bytes;
}

/** At most PREVIEW_CHARS characters (code points) of a plaintext payload, read no further than that. */
function preview(payload: Envelope["payload"]): string {
  const text = typeof payload === "string" ? payload : typeof payload.text === "string" ? payload.text : JSON.stringify(payload);
  if (text.length <= PREVIEW_CHARS) return text;
  let out = "";
  let n = 0;
  for (const ch of text) {
    if (n++ === PREVIEW_CHARS) break;
    out += ch;
  }
  return out;
}
