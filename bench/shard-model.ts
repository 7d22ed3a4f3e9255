// The load model of issue 16: requests per second per shared object = per-agent rate × active
// agents ÷ shards, with the per-agent rates measured by bench/shard-load.ts and the production
// defaults of protocol/limits.ts. It extrapolates to 100,000 and 1,000,000 active agents and names
// the first object to reach Cloudflare's soft limit of about 1,000 requests/s per Durable Object.
//
// Assumptions about an active agent (stated, so they can be changed): it receives and sends one
// message a minute, is seen continuously (a long-poll loop), and — the worst case for the audit
// log, the original client's habit — audits every message it sends and receives (2 entries per
// message). The Directory's rate per agent is measured (sends, polls and pushes of known agents
// reach it not at all); registrations and record reads (GET /agents/:name) are not per-message
// and are left out.

import { readLimits } from "../protocol/limits.js";
import type { PhaseResult } from "./shard-load.js";

export const OBJECT_LIMIT = 1000;

export interface Ratios {
  /** Feed pushes per message stored, while inboxes store less than one message per FEED_FLUSH_MS. */
  feedPushesPerMessage: number;
  /** Presence pushes per active agent per PRESENCE_PUSH_S. */
  presencePushesPerInterval: number;
  /** Requests reaching the audit shards per audit entry posted. */
  auditRequestsPerPost: number;
  /** Directory requests per active agent per second. */
  directoryPerAgentPerS: number;
}

/** The constants a "views" phase measured. */
export function ratios(phase: PhaseResult, presencePushS: number): Ratios {
  const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
  return {
    feedPushesPerMessage: sum(phase.loads.feed) / phase.messagesPerS,
    // Per agent seen within each interval: should the machine have sent slower than planned, an
    // agent seen less often than every PRESENCE_PUSH_S pushes less often, not less per interval.
    // At most one: views.ts never pushes an agent's presence twice within PRESENCE_PUSH_S. (The
    // phase's audited senders are seen twice a moment apart, a push at once and one at the end of
    // the interval, so the phase measures more than one per interval in which an agent is seen.)
    presencePushesPerInterval: Math.min(1, (sum(phase.loads.presence) * presencePushS) / phase.agents / Math.min(1, (presencePushS * phase.messagesPerS) / phase.agents)),
    auditRequestsPerPost: phase.auditsPerS > 0 ? sum(phase.loads.audit) / phase.auditsPerS : 1,
    directoryPerAgentPerS: phase.loads.directory / phase.agents,
  };
}

export interface Load {
  object: string;
  shards: number;
  /** Requests/s per shard at each size. */
  perShard: Record<number, number>;
  /** Active agents at which one shard reaches OBJECT_LIMIT. */
  limitAt: number;
}

export interface Model {
  assumptions: string;
  loads: Load[];
  first: Load;
}

const MESSAGES_PER_AGENT_PER_S = 1 / 60;
const AUDITS_PER_AGENT_PER_S = 2 / 60;

export function model(r: Ratios, sizes = [100_000, 1_000_000]): Model {
  const limits = readLimits({});
  const feedFlushS = limits.feedFlushMs / 1000;
  const feedMaxS = limits.feedFlushMaxMs / 1000;
  // A feed shard: its inboxes push at most once per interval; above the budget the interval
  // stretches (push-slots.ts) up to FEED_FLUSH_MAX_MS, where the rate grows again with the inboxes.
  const feedPerShard = (agents: number) => {
    const inboxes = agents / limits.feedShards;
    const natural = inboxes * Math.min(MESSAGES_PER_AGENT_PER_S, 1 / feedFlushS) * r.feedPushesPerMessage;
    if (natural <= limits.feedPushBudget) return natural;
    return Math.max(limits.feedPushBudget, inboxes * Math.min(MESSAGES_PER_AGENT_PER_S, 1 / feedMaxS) * r.feedPushesPerMessage);
  };
  const presencePerShard = (agents: number) => ((agents / limits.presenceShards) * r.presencePushesPerInterval) / limits.presencePushS;
  const auditPerShard = (agents: number) => ((agents / limits.auditShards) * AUDITS_PER_AGENT_PER_S * r.auditRequestsPerPost);
  const directory = (agents: number) => agents * r.directoryPerAgentPerS;
  const limitAt = (perShard: (agents: number) => number) => {
    // Each rate grows with the agents (the feed's in steps); find where it passes the limit.
    let low = 1;
    let high = 1e12;
    if (perShard(high) < OBJECT_LIMIT) return Number.POSITIVE_INFINITY;
    while (high / low > 1.0001) {
      const mid = Math.sqrt(low * high);
      if (perShard(mid) >= OBJECT_LIMIT) high = mid;
      else low = mid;
    }
    return high;
  };
  const entry = (object: string, shards: number, perShard: (agents: number) => number): Load => ({
    object,
    shards,
    perShard: Object.fromEntries(sizes.map((size) => [size, perShard(size)])),
    limitAt: limitAt(perShard),
  });
  const loads = [
    entry("feed shard", limits.feedShards, feedPerShard),
    entry("presence shard", limits.presenceShards, presencePerShard),
    entry("audit shard", limits.auditShards, auditPerShard),
    entry("Directory", 1, directory),
  ];
  return {
    assumptions: "each active agent receives and sends 1 message/min, is seen continuously, audits every message it sends and receives",
    loads,
    first: [...loads].sort((a, b) => a.limitAt - b.limitAt)[0]!,
  };
}

const round = (n: number) => (Number.isFinite(n) ? Math.round(n).toLocaleString("en") : "never");

export function printModel(m: Model, sizes = [100_000, 1_000_000]): void {
  console.log(`\nmodel (${m.assumptions}; production defaults):`);
  const rows = [["object", "shards", ...sizes.map((s) => `req/s per shard at ${round(s)}`), `reaches ${OBJECT_LIMIT} req/s at`]];
  for (const load of m.loads) rows.push([load.object, String(load.shards), ...sizes.map((s) => round(load.perShard[s]!)), `${round(load.limitAt)} agents`]);
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((row) => row[i]!.length)));
  for (const row of rows) console.log(row.map((cell, i) => cell.padEnd(widths[i]!)).join("  "));
  console.log(`first to reach ~${OBJECT_LIMIT} req/s: the ${m.first.object} at about ${round(m.first.limitAt)} active agents`);
}

export function printPhase(name: string, phase: PhaseResult): void {
  const fmt = (xs: number[]) => `${xs.reduce((a, b) => a + b, 0).toFixed(1)} in all, ${Math.max(...xs).toFixed(1)} max per shard (${xs.length} shards)`;
  console.log(`\n${name}: ${phase.agents} inboxes, ${phase.messagesPerS.toFixed(1)} messages/s, ${phase.auditsPerS.toFixed(1)} audit posts/s, ${phase.failed} failed, over ${phase.seconds.toFixed(0)} s`);
  console.log(`  requests/s reaching: feed ${fmt(phase.loads.feed)}; presence ${fmt(phase.loads.presence)}; audit ${fmt(phase.loads.audit)}; Directory ${phase.loads.directory.toFixed(2)}`);
  console.log(`  longest feed push wait handed out: ${(phase.feedPushWaitMs / 1000).toFixed(1)} s; loaded again during the window: ${phase.reloaded.join(", ") || "none"}`);
}
