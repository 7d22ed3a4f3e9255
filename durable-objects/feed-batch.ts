// What an inbox collects for the admin views (feed, channels, throughput, webhook activity,
// delivery latency) between two pushes to the Feed object. Items are sampled when traffic is
// high; counts stay exact. Maps, not objects, since topics are user data ("__proto__" is a
// valid topic) and Maps cross RPC intact.

import type { FeedItem, WebhookAttempt } from "../protocol/envelope.js";

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
}

export function minuteOf(ms: number): number {
  return ms - (ms % 60_000);
}

export class FeedCollector {
  private batch: FeedBatch = emptyBatch();
  private pending = 0;

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

  /** Hands over the batch and starts a new one. */
  take(): FeedBatch {
    const batch = this.batch;
    this.batch = emptyBatch();
    this.pending = 0;
    return batch;
  }
}

function emptyBatch(): FeedBatch {
  return { items: [], dropped: 0, topics: new Map(), perMinute: new Map(), attempts: [], latencies: [] };
}
