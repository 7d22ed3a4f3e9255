// What an inbox collects for the admin views (feed, channels, throughput) between two pushes to
// the Feed object. Items are sampled when traffic is high; counts stay exact.

import type { FeedItem, WebhookAttempt } from "../protocol/envelope.js";

export interface FeedBatch {
  items: FeedItem[];
  /** Messages stored but left out of `items` (sampling). */
  dropped: number;
  /** topic -> messages stored with it in this batch, and the newest ts. */
  topics: Record<string, { count: number; lastTs: number }>;
  /** Minute (epoch ms, floored) -> messages stored in it. */
  perMinute: Record<string, number>;
  /** Webhook attempts (sampled like items). */
  attempts: WebhookAttempt[];
}

export class FeedCollector {
  private batch: FeedBatch = emptyBatch();
  private pending = 0;

  constructor(private readonly maxItems: number) {}

  get size(): number {
    return this.pending;
  }

  add(item: FeedItem, tsMs: number): void {
    this.pending++;
    if (this.batch.items.length < this.maxItems) this.batch.items.push(item);
    else this.batch.dropped++;
    if (item.topic !== null) {
      const topic = (this.batch.topics[item.topic] ??= { count: 0, lastTs: 0 });
      topic.count++;
      topic.lastTs = Math.max(topic.lastTs, tsMs);
    }
    const minute = String(tsMs - (tsMs % 60_000));
    this.batch.perMinute[minute] = (this.batch.perMinute[minute] ?? 0) + 1;
  }

  addAttempt(attempt: WebhookAttempt): void {
    this.pending++;
    if (this.batch.attempts.length < this.maxItems) this.batch.attempts.push(attempt);
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
  return { items: [], dropped: 0, topics: {}, perMinute: {}, attempts: [] };
}
