// Load on the shared objects (issue 16): drives many inboxes at a fixed message rate and measures
// the requests per second that reach each shared object — the Directory and every feed, presence
// and audit shard — from the counters the objects keep themselves (/admin/stats `objects`).
//
// Phase "views": 2,000 agents in a ring (agent i sends to agent i+1), 20 messages/s in all, so
// every inbox stores a message and every agent is seen every 100 s; half the messages are also
// audited by their sender. Each inbox therefore pushes to its feed shard once per message, and
// each agent to its presence shard once per send (its last push is over PRESENCE_PUSH_S old), and
// an audited sender, seen again a moment later by its audit post, once more at the end of the
// interval: the per-agent constants of bench/shard-model.ts. (A faster rate overloads this 2-core
// machine: the local proxy drops requests it holds for seconds, and an object whose request was
// dropped is reset. An agent seen more often than every PRESENCE_PUSH_S pushes once per interval.)
// Phase "budget": 100 agents each receiving a message every 2 s on 2 feed shards with a push
// budget of 5/s: the feed shards' load settles at the budget instead of the ~25/s each the
// inboxes would push (each inbox then waits about 10 s), and every stored message is still counted.

import { pool } from "./measure.js";
import type { BenchAgent, Relay } from "./agents.js";

export interface ObjectLoads {
  directory: number;
  feed: number[];
  presence: number[];
  audit: number[];
}

export interface PhaseResult {
  agents: number;
  seconds: number;
  messagesPerS: number;
  auditsPerS: number;
  failed: number;
  /** What the failed requests answered (status, or the error's name). */
  failures: Record<string, number>;
  /** Requests per second that reached each object over the measured window. */
  loads: ObjectLoads;
  /** Objects loaded again during the window (evicted while idle, or the runtime restarted). */
  reloaded: string[];
  /** The longest wait a feed shard handed out at the end (ms). */
  feedPushWaitMs: number;
  vars: Record<string, string>;
}

interface Stats {
  objects: { directory: { requests: number; since: string }; feed: Meter[]; presence: Meter[]; audit: Meter[] };
  feedPushWaitMs: number;
  perMinute: { stored: number }[];
}
interface Meter {
  requests: number;
  since: string;
  pushWaitMs?: number;
}

/** The vars of each phase (beside the bench's raised rate limits). */
export const VIEWS_VARS = { AUDIT_PER_MIN: "1000000" };
export const BUDGET_VARS = { FEED_SHARDS: "2", FEED_PUSH_BUDGET: "5", FEED_FLUSH_MAX_MS: "60000" };

async function stats(relay: Relay, adminKey: string): Promise<Stats> {
  const response = await fetch(`${relay.url}/admin/stats?minutes=10`, { headers: { Authorization: `Bearer ${adminKey}` } });
  if (response.status !== 200) throw new Error(`/admin/stats: ${response.status} ${await response.text()}`);
  return (await response.json()) as Stats;
}

/**
 * Requests per second over the window. An object idle long enough is evicted and loaded again by
 * the next request (its count restarts, `since` moves): then every request it counted came within
 * the window, and those before an idle spell of many seconds were few.
 */
function rates(before: Stats, after: Stats, seconds: number): { loads: ObjectLoads; reloaded: string[] } {
  const reloaded: string[] = [];
  const rate = (name: string, a: Meter, b: Meter) => {
    if (b.since === a.since) return (b.requests - a.requests) / seconds;
    reloaded.push(name);
    return b.requests / seconds;
  };
  const loads = {
    directory: rate("directory", before.objects.directory, after.objects.directory),
    feed: after.objects.feed.map((meter, i) => rate(`feed-${i}`, before.objects.feed[i]!, meter)),
    presence: after.objects.presence.map((meter, i) => rate(`presence-${i}`, before.objects.presence[i]!, meter)),
    audit: after.objects.audit.map((meter, i) => rate(`audit-${i}`, before.objects.audit[i]!, meter)),
  };
  return { loads, reloaded };
}

/** Sends at a fixed rate (message i: agent i → agent i+1), auditing every `auditEvery`-th, until `stop`. */
function drive(relay: Relay, agents: BenchAgent[], perS: number, auditEvery: number, adminUrl: string) {
  let launched = 0;
  let inFlight = 0;
  let failed = 0;
  const failures: Record<string, number> = {};
  const fail = (why: string) => {
    failed++;
    failures[why] = (failures[why] ?? 0) + 1;
  };
  let audits = 0;
  let sent = 0;
  const started = performance.now();
  let stopped = false;
  const one = async (i: number) => {
    const from = agents[i % agents.length]!;
    const to = agents[(i + 1) % agents.length]!;
    inFlight++;
    try {
      const status = await relay.trySend(from, to.name, `m${i}`, { topic: `t${i % 20}` });
      if (status !== 201) return fail(`send ${status}`);
      sent++;
      if (auditEvery > 0 && i % auditEvery === 0) {
        const response = await fetch(`${adminUrl}/audit`, {
          method: "POST",
          headers: { Authorization: `Bearer ${from.apiKey}` },
          body: JSON.stringify({ messageId: crypto.randomUUID(), direction: "sent", from: from.name, to: to.name, payload: "p", ts: new Date().toISOString() }),
        });
        await response.arrayBuffer();
        if (response.status === 201) audits++;
        else fail(`audit ${response.status}`);
      }
    } catch (error) {
      fail(error instanceof Error ? `${error.name}: ${error.message}` : "error");
    } finally {
      inFlight--;
    }
  };
  const done = new Promise<void>((resolve) => {
    const tick = () => {
      if (stopped) return resolve();
      const due = Math.floor(((performance.now() - started) / 1000) * perS);
      // At most 16 in flight: a machine that cannot keep up sends fewer (rather than timing out),
      // and the measured rate says so.
      while (launched < due && inFlight < 16) void one(launched++);
      setTimeout(tick, 10);
    };
    tick();
  });
  return {
    counts: () => ({ sent, audits, failed, failures }),
    async stop() {
      stopped = true;
      await done;
      while (inFlight > 0) await new Promise((resolve) => setTimeout(resolve, 10));
    },
  };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A registration, tried again when the local runtime dropped it (a busy machine: "restarted mid-request"). */
async function registerPatiently(relay: Relay, name: string): Promise<BenchAgent> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await relay.register(name);
    } catch (error) {
      // A 409 means an earlier attempt went through after all: that agent's key is lost, so give up.
      if (attempt === 5 || !(error instanceof Error) || !error.message.includes(": 503 ")) throw error;
      await sleep(1000 * attempt);
    }
  }
}

/** One phase: `agents` inboxes, `perS` messages a second; measures after `warmupS` for `seconds`. */
export async function measurePhase(
  relay: Relay,
  adminKey: string,
  options: { agents: number; perS: number; auditEvery: number; warmupS: number; seconds: number; vars: Record<string, string>; drain?: boolean },
  log: (text: string) => void,
): Promise<PhaseResult & { countedExactly?: boolean }> {
  log(`  registering ${options.agents} agents`);
  const agents = await pool(Array.from({ length: options.agents }, (_, i) => `load_${i}`), 8, (name) => registerPatiently(relay, name));
  const driver = drive(relay, agents, options.perS, options.auditEvery, relay.url);
  log(`  ${options.perS} messages/s to ${options.agents} inboxes: ${options.warmupS} s warm-up, ${options.seconds} s measured`);
  await sleep(options.warmupS * 1000);
  const before = await stats(relay, adminKey);
  const c0 = driver.counts();
  const t0 = performance.now();
  await sleep(options.seconds * 1000);
  const after = await stats(relay, adminKey);
  const seconds = (performance.now() - t0) / 1000;
  const c1 = driver.counts();
  await driver.stop();
  const result: PhaseResult & { countedExactly?: boolean } = {
    agents: options.agents,
    seconds,
    messagesPerS: (c1.sent - c0.sent) / seconds,
    auditsPerS: (c1.audits - c0.audits) / seconds,
    failed: driver.counts().failed,
    failures: driver.counts().failures,
    ...rates(before, after, seconds),
    feedPushWaitMs: after.feedPushWaitMs,
    vars: options.vars,
  };
  if (options.drain) {
    // Every message stored is counted once its inbox's (stretched) push went out.
    const total = driver.counts().sent;
    const until = Date.now() + 90_000;
    let counted = 0;
    while (Date.now() < until && counted !== total) {
      counted = (await stats(relay, adminKey)).perMinute.reduce((n, m) => n + m.stored, 0);
      if (counted !== total) await sleep(500);
    }
    result.countedExactly = counted === total;
    log(`  stored ${total}, counted by the feed shards ${counted}`);
  }
  return result;
}
