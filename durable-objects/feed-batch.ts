// What an inbox collects for the admin views (feed, channels, throughput, webhook activity,
// delivery latency, delivery state of its copies) between two pushes to the Feed object. Items
// and state changes are sampled when traffic is high; counts stay exact. Maps, not objects, since
// topics are user data ("__proto__" is a valid topic) and Maps cross RPC intact.

import type { FeedItem, WebhookAttempt } from "../protocol/envelope.js";
import type { StateChange } from "./message-log.js";

export interface FeedBatch {
  items: FeedItem[];
  /** Messages stored but left out of `items` (sampling). */
  dropped: number;
  /** topic -> messages stored with it in this batch, and the newest ts. */
  topics: Map<string, { count: number; lastTs: number }>;
  /** Minute (epoch ms, floored) -> messages stored in it. */
  perMinute: Map<number, number>;
  /** Webhook attempts (sampled like items). */
  attempts: WebhookAttempt[];
  /** Delivery latencies (ms from stored to delivered by webhook or to a waiting long-poll). */
  latencies: { at: number; ms: number }[];
  /** The latest state change of each copy that changed (sampled like items: a batch's first copies). */
  states: StateChange[];
}

/** What an inbox pushes: its batch, whose it is, and that agent's backlog when it was pushed. */
export interface FeedPush extends FeedBatch {
  /** The agent's registered name (its copies' `to` in the feed). */
  agent: string;
  /** ts (epoch ms) of the agent's oldest copy not yet delivered, or null when every copy was. */
  oldestUndelivered: number | null;
}

/**
 * What inboxes of earlier versions pushed: no state changes, no agent, no backlog. While a deploy
 * is under way an inbox of the old code may still push to a shard running the new.
 */
export type EarlierFeedBatch = Omit<FeedBatch, "states">;

/** Acked and expired are both final. */
const RANK: Record<StateChange["status"], number> = { delivered: 1, acked: 2, expired: 2 };

export function minuteOf(ms: number): number {
  return ms - (ms % 60_000);
}

export class FeedCollector {
  private batch: FeedBatch = emptyBatch();
  private pending = 0;
  /** This batch's state changes by message id (a read then an ack is one change: acked). */
  private states = new Map<string, StateChange>();

  constructor(private readonly maxItems: number) {}

  get size(): number {
    return this.pending;
  }

  /**
   * A message stored at `tsMs`. Counts are exact; `item` builds its feed item and is called only
   * while this batch's sample has room, so a busy inbox builds at most FEED_BATCH_MAX per push.
   */
  add(topic: string | null, tsMs: number, item: () => FeedItem): void {
    this.pending++;
    if (this.batch.items.length < this.maxItems) this.batch.items.push(item());
    else this.batch.dropped++;
    if (topic !== null) {
      const counted = this.batch.topics.get(topic) ?? { count: 0, lastTs: 0 };
      counted.count++;
      counted.lastTs = Math.max(counted.lastTs, tsMs);
      this.batch.topics.set(topic, counted);
    }
    const minute = minuteOf(tsMs);
    this.batch.perMinute.set(minute, (this.batch.perMinute.get(minute) ?? 0) + 1);
  }

  addAttempt(attempt: WebhookAttempt): void {
    this.pending++;
    if (this.batch.attempts.length < this.maxItems) this.batch.attempts.push(attempt);
  }

  addLatency(ms: number): void {
    this.pending++;
    if (this.batch.latencies.length < this.maxItems) this.batch.latencies.push({ at: Date.now(), ms: Math.max(0, ms) });
  }

  /** A copy's state moved on; kept while this batch's sample has room, or when it replaces an earlier state of the same copy. */
  addState(change: StateChange): void {
    this.pending++;
    this.keepState(change);
  }

  private keepState(change: StateChange): void {
    const known = this.states.get(change.id);
    if (known ? RANK[change.status] >= RANK[known.status] : this.states.size < this.maxItems) this.states.set(change.id, change);
  }

  /**
   * Takes back a batch handed over by take() whose push failed, so the next push carries it: its
   * contents go before what was collected since (older first), within the same sample limits, and
   * a state collected since wins over its own older state of the same copy.
   */
  restore(earlier: FeedBatch): void {
    const later = this.batch;
    const laterStates = this.states;
    this.batch = { ...earlier, states: [] };
    this.states = new Map(earlier.states.map((state) => [state.id, state]));
    const fill = <T>(into: T[], more: T[]) => into.concat(more.slice(0, Math.max(0, this.maxItems - into.length)));
    this.batch.items = fill(earlier.items, later.items);
    this.batch.dropped += later.dropped + earlier.items.length + later.items.length - this.batch.items.length;
    this.batch.attempts = fill(earlier.attempts, later.attempts);
    this.batch.latencies = fill(earlier.latencies, later.latencies);
    for (const [topic, counted] of later.topics) {
      const known = this.batch.topics.get(topic);
      this.batch.topics.set(topic, known ? { count: known.count + counted.count, lastTs: Math.max(known.lastTs, counted.lastTs) } : counted);
    }
    for (const [minute, count] of later.perMinute) this.batch.perMinute.set(minute, (this.batch.perMinute.get(minute) ?? 0) + count);
    for (const state of laterStates.values()) this.keepState(state);
    this.pending += earlier.items.length + earlier.dropped + earlier.attempts.length + earlier.latencies.length + earlier.states.length || 1;
  }

  /** Hands over the batch and starts a new one. */
  take(): FeedBatch {
    const batch = this.batch;
    batch.states = [...this.states.values()];
    this.batch = emptyBatch();
    this.states = new Map();
    this.pending = 0;
    return batch;
  }
}

function emptyBatch(): FeedBatch {
  return { items: [], dropped: 0, topics: new Map(), perMinute: new Map(), attempts: [], latencies: [], states: [] };
}
