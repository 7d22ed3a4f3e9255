// /admin/stats, channels and webhook attempts over every feed shard, and the load on each shared
// object. Shards answer counts that add up (per-minute counts, latency histograms as bucket
// counts, channel counts), so the merged figures are exact, as from one feed; each agent's
// backlog is in the shard its name falls in, so the shards' lists merge by age.

import type { WebhookAttempt } from "../../protocol/envelope.js";
import type { Limits } from "../../protocol/limits.js";
import { isoTime } from "../../protocol/time.js";
import type { AdminStats } from "../../protocol/wire-schemas.js";
import { minuteOf } from "../../durable-objects/feed-batch.js";
import type { ChannelCount, FeedShardStats, MinuteStats, WebhookHealth } from "../../durable-objects/feed.js";
import { BACKLOG_SHOWN } from "../../durable-objects/feed-states.js";
import { LATENCY_BUCKETS } from "../../durable-objects/feed-tables.js";
import type { MeterReading } from "../../durable-objects/request-meter.js";
import { auditStub, directoryStub, feedStub, presenceStub, shardIndexes, shardOf } from "../../durable-objects/stubs.js";

/** /admin/stats but its time (the shape is the wire schema's). */
export type ShardStats = Omit<AdminStats, "generatedAt">;
type ObjectLoad = ShardStats["objects"]["presence"][number];

const load = (shard: number, meter: MeterReading): ObjectLoad => ({ shard, requests: meter.requests, since: isoTime(meter.since) });

/** The stats of the last `minutes` minutes, every minute present, oldest first. */
export async function readStats(env: Env, limits: Limits, minutes: number): Promise<ShardStats> {
  const now = Date.now();
  const start = minuteOf(now - (minutes - 1) * 60_000);
  const [feeds, presence, audit, directory] = await Promise.all([
    Promise.all(shardIndexes(limits.feedShards).map((i) => feedStub(env, i).stats(start))),
    Promise.all(shardIndexes(limits.presenceShards).map((i) => presenceStub(env, i).meterReading())),
    Promise.all(shardIndexes(limits.auditShards).map((i) => auditStub(env, i).meterReading())),
    directoryStub(env).meterReading(),
  ]);
  return {
    perMinute: mergeMinutes(feeds, start, minuteOf(now)),
    webhooks: mergeHealth(feeds.flatMap((shard) => shard.webhooks)),
    feedPushWaitMs: Math.max(...feeds.map((shard) => shard.pushWaitMs)),
    backlog: mergeBacklog(feeds, limits.feedShards),
    objects: {
      directory: { requests: directory.requests, since: isoTime(directory.since) },
      feed: feeds.map((shard, i) => ({ ...load(i, shard.meter), pushWaitMs: shard.pushWaitMs })),
      presence: presence.map((meter, i) => load(i, meter)),
      audit: audit.map((meter, i) => load(i, meter)),
    },
  };
}

function mergeMinutes(shards: FeedShardStats[], start: number, end: number): MinuteStats[] {
  const merged = new Map<number, { stored: number; sampledOut: number; latency: number[] }>();
  for (let minute = start; minute <= end; minute += 60_000) {
    merged.set(minute, { stored: 0, sampledOut: 0, latency: Array<number>(LATENCY_BUCKETS.length).fill(0) });
  }
  for (const counts of shards.flatMap((shard) => shard.minutes)) {
    const entry = merged.get(counts.minute);
    if (!entry) continue;
    entry.stored += counts.stored;
    entry.sampledOut += counts.sampledOut;
    counts.latency.forEach((n, bucket) => (entry.latency[bucket]! += n));
  }
  return [...merged].map(([minute, entry]) => ({
    minute: isoTime(minute),
    stored: entry.stored,
    sampledOut: entry.sampledOut,
    delivered: entry.latency.reduce((a, b) => a + b, 0),
    latencyP50Ms: quantileBound(entry.latency, 0.5),
    latencyP95Ms: quantileBound(entry.latency, 0.95),
  }));
}

/** The upper bound of the histogram bucket holding quantile q (the largest finite bound for the last bucket). */
function quantileBound(counts: number[], q: number): number | null {
  const total = counts.reduce((a, b) => a + b, 0);
  if (total === 0) return null;
  let seen = 0;
  for (let i = 0; i < counts.length; i++) {
    seen += counts[i]!;
    if (seen >= q * total) return Number.isFinite(LATENCY_BUCKETS[i]!) ? LATENCY_BUCKETS[i]! : LATENCY_BUCKETS[i - 1]!;
  }
  return null;
}

/**
 * The agents with something undelivered over every shard, oldest first. A row in a shard the
 * agent's name no longer falls in (the shard count changed) is left out: its inbox now pushes to
 * the other shard, so this one would never hear that the agent caught up.
 */
function mergeBacklog(shards: FeedShardStats[], count: number): ShardStats["backlog"] {
  return shards
    .flatMap((shard, i) => shard.backlog.filter((row) => shardOf(row.agent, count) === i))
    .sort((a, b) => a.oldestUndelivered - b.oldestUndelivered || (a.agent < b.agent ? -1 : a.agent > b.agent ? 1 : 0))
    .slice(0, BACKLOG_SHOWN)
    .map((row) => ({ agent: row.agent, oldestUndeliveredTs: isoTime(row.oldestUndelivered), reportedAt: isoTime(row.reportedAt) }));
}

/** One entry per agent, by name: the latest, should a grown shard count have left one in two shards. */
function mergeHealth(all: WebhookHealth[]): WebhookHealth[] {
  const byAgent = new Map<string, WebhookHealth>();
  for (const health of all) {
    const key = health.agent.toLowerCase();
    const known = byAgent.get(key);
    if (!known || Date.parse(health.lastAt) > Date.parse(known.lastAt)) byAgent.set(key, health);
  }
  return [...byAgent.keys()].sort().map((key) => byAgent.get(key)!);
}

/** Every topic of every shard, most recent first, with counts added up. */
export async function readChannels(env: Env, limits: Limits): Promise<ChannelCount[]> {
  const shards = await Promise.all(shardIndexes(limits.feedShards).map((i) => feedStub(env, i).channels()));
  const byTopic = new Map<string, { count: number; lastTs: number }>();
  for (const channel of shards.flat()) {
    const known = byTopic.get(channel.topic) ?? { count: 0, lastTs: 0 };
    known.count += channel.count;
    known.lastTs = Math.max(known.lastTs, Date.parse(channel.lastTs));
    byTopic.set(channel.topic, known);
  }
  return [...byTopic]
    .sort(([a, x], [b, y]) => y.lastTs - x.lastTs || (a < b ? -1 : a > b ? 1 : 0))
    .map(([topic, { count, lastTs }]) => ({ topic, count, lastTs: isoTime(lastTs) }));
}

/** Webhook attempts of every agent, newest first (`before`: strictly before, epoch ms). */
export async function readAttempts(env: Env, limits: Limits, limit: number, before?: number): Promise<WebhookAttempt[]> {
  const shards = await Promise.all(shardIndexes(limits.feedShards).map((i) => feedStub(env, i).attempts(limit, before)));
  const all = shards.flatMap((attempts, shard) => attempts.map((attempt, rank) => ({ attempt, shard, rank, at: Date.parse(attempt.at) })));
  all.sort((a, b) => b.at - a.at || b.shard - a.shard || a.rank - b.rank);
  return all.slice(0, limit).map((entry) => entry.attempt);
}
