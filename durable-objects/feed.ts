// A feed shard: the admin's view of the inboxes whose names fall in it (message feed with each
// copy's delivery state, channels with counts, webhook activity and health, messages and delivery
// latency per minute, each agent's undelivered backlog). Inboxes
// push batches from their alarms (feed-batch.ts), never one write per message, and each push is
// answered with how long that inbox waits before the next (push-slots.ts), so a shard's load stays
// within FEED_PUSH_BUDGET however many inboxes are busy. The Worker reads every shard and merges
// (worker/shards/). It keeps metadata only: never an encrypted payload, at most a 200-character
// preview of a plaintext one.

import { DurableObject } from "cloudflare:workers";
import type { FeedItem, WebhookAttempt } from "../protocol/envelope.js";
import { readLimits } from "../protocol/limits.js";
import type { EarlierFeedBatch, FeedPush } from "./feed-batch.js";
import { backlog, FEED_STATE_SCHEMA, forgetBacklog, itemStates, recordStates, type Backlog, type ItemState } from "./feed-states.js";
import { channelCounts, FEED_SCHEMA, minuteCounts, recordBatch, webhookHealth, type ChannelCount, type MinuteCounts, type WebhookHealth } from "./feed-tables.js";
import { messageFilter, type MessageQuery } from "./message-query.js";
import { PushSlots } from "./push-slots.js";
import { RequestMeter, type MeterReading } from "./request-meter.js";

export type { Backlog } from "./feed-states.js";
export type { ChannelCount, MinuteCounts, WebhookHealth } from "./feed-tables.js";

/** Admin long-polls held at once per shard. */
const MAX_WAITERS = 50;
/** How long a released waiter id is remembered (a query may arrive after its release). */
const RELEASE_MEMORY_MS = 120_000;

/** A feed item as the admin reads it: with its arrival number in its shard and its copy's delivery state. */
export type SeqItem = FeedItem & { seq: number } & ItemState;

/** One shard's page, in the query's order. */
export interface FeedShardPage {
  items: SeqItem[];
  /** Whether more items match beyond these. */
  hasMore: boolean;
  /** The shard's newest arrival number when the page was read (0 when empty). */
  head: number;
}

/**
 * A feed query. Items carry each inbox's own `ts` and arrive in batches, so one can reach the
 * feed after a newer one from another inbox: `after` (by ts) may skip it, `afterSeq` (by
 * arrival in this shard, oldest first) never does.
 */
export type FeedQuery = MessageQuery & { afterSeq?: number };

/** Per-minute figures of the whole feed, as /admin/stats answers them. */
export interface MinuteStats {
  minute: string;
  /** Messages stored in that minute (exact). */
  stored: number;
  /** Of those, left out of the feed by sampling. */
  sampledOut: number;
  /** Deliveries measured (webhook 2xx or long-poll wake) and their latency, as histogram bounds. */
  delivered: number;
  latencyP50Ms: number | null;
  latencyP95Ms: number | null;
}

export interface FeedShardStats {
  minutes: MinuteCounts[];
  webhooks: WebhookHealth[];
  meter: MeterReading;
  /** What a push arriving now would be told to wait (FEED_FLUSH_MS when the shard is quiet). */
  pushWaitMs: number;
  /** Agents with something undelivered, oldest first. */
  backlog: Backlog[];
}

export class FeedObject extends DurableObject<Env> {
  private readonly sql: SqlStorage;
  private readonly waiters = new Map<string, () => void>();
  private readonly released = new Map<string, number>();
  private readonly slots: PushSlots;
  private readonly meter = new RequestMeter();

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    this.sql.exec(FEED_SCHEMA);
    this.sql.exec(FEED_STATE_SCHEMA);
    const limits = readLimits(env);
    this.slots = new PushSlots(limits.feedFlushMs, Math.max(limits.feedFlushMs, limits.feedFlushMaxMs), limits.feedPushBudget);
  }

  /** An inbox's push (of this version, or an earlier one's). Answers how long (ms) that inbox waits before its next push. */
  async record(push: FeedPush | EarlierFeedBatch): Promise<{ nextPushInMs: number }> {
    this.meter.count();
    const now = Date.now();
    this.ctx.storage.transactionSync(() => {
      recordBatch(this.sql, push, now);
      if ("agent" in push) recordStates(this.sql, push, now);
    });
    if (push.items.length > 0) this.wakeAll();
    return { nextPushInMs: this.slots.assign(now) };
  }

  /**
   * One page of this shard, with the same filters as an inbox; `waitS` long-polls while nothing
   * matches. A reader that waits on several shards passes `waiterId` and calls `release` on the
   * others once one has answered, so they answer at once instead of holding to the deadline.
   */
  async query(q: FeedQuery, waitS = 0, waiterId?: string): Promise<FeedShardPage> {
    this.meter.count();
    const page = this.page(q);
    if (page.items.length > 0 || waitS <= 0) return page;
    await this.waitForItems(waitS * 1000, waiterId ?? crypto.randomUUID());
    return this.page(q);
  }

  /** The agent was removed (its inbox says so): its backlog goes. */
  async forgetAgent(agent: string): Promise<void> {
    this.meter.count();
    forgetBacklog(this.sql, agent);
  }

  /** Ends the wait of `waiterId` (now, or as soon as its query arrives). */
  async release(waiterId: string): Promise<void> {
    const now = Date.now();
    for (const [id, until] of this.released) if (until < now) this.released.delete(id);
    const wake = this.waiters.get(waiterId);
    if (wake) wake();
    else this.released.set(waiterId, now + RELEASE_MEMORY_MS);
  }

  private page(q: FeedQuery): FeedShardPage {
    const filter = messageFilter(q);
    const order = q.afterSeq === undefined ? `ts ${filter.order}, seq ${filter.order}` : "seq ASC";
    // Read in one synchronous step with the page, so `head` is exactly what the page saw.
    const head = this.sql.exec<{ seq: number | null }>("SELECT MAX(seq) AS seq FROM items").one().seq ?? 0;
    const rows = this.sql
      .exec<{ seq: number; item: string }>(
        `SELECT seq, item FROM items WHERE ${filter.sql} AND seq > ? ORDER BY ${order} LIMIT ?`,
        ...filter.args, q.afterSeq ?? 0, q.limit + 1,
      )
      .toArray();
    const items = rows.slice(0, q.limit).map((row) => ({ ...(JSON.parse(row.item) as FeedItem), seq: row.seq }));
    const states = itemStates(this.sql, items);
    return { items: items.map((item, i) => ({ ...item, ...states[i]! })), hasMore: rows.length > q.limit, head };
  }

  private waitForItems(ms: number, id: string): Promise<void> {
    if (this.released.delete(id)) return Promise.resolve();
    if (this.waiters.size >= MAX_WAITERS) this.waiters.values().next().value!();
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        if (this.waiters.get(id) === wake) this.waiters.delete(id);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      this.waiters.set(id, wake);
    });
  }

  private wakeAll(): void {
    for (const wake of [...this.waiters.values()]) wake();
  }

  /** Webhook attempts of this shard's agents, newest first. */
  async attempts(limit: number, before?: number): Promise<WebhookAttempt[]> {
    this.meter.count();
    return this.sql
      .exec<{ attempt: string }>("SELECT attempt FROM attempts WHERE at < ? ORDER BY at DESC, seq DESC LIMIT ?", before ?? Number.MAX_SAFE_INTEGER, limit)
      .toArray()
      .map((row) => JSON.parse(row.attempt) as WebhookAttempt);
  }

  /** Every topic seen in this shard, most recent first, with message counts. */
  async channels(): Promise<ChannelCount[]> {
    this.meter.count();
    return channelCounts(this.sql);
  }

  /** Per-minute counts since `start` (epoch ms, a minute's start), webhook health, backlog, and this shard's load. */
  async stats(start: number): Promise<FeedShardStats> {
    return {
      minutes: minuteCounts(this.sql, start),
      webhooks: webhookHealth(this.sql),
      meter: this.meter.reading(),
      pushWaitMs: Math.ceil(this.slots.currentWaitMs(Date.now())),
      backlog: backlog(this.sql),
    };
  }
}
