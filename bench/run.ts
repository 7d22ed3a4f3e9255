// `npm run bench`: starts an empty baseline Worker and the relay on the same wrangler/workerd
// (127.0.0.1 only, logging at warn), runs every scenario, prints a table with each figure beside
// the baseline measured in this run, and writes bench/results/<date>.json and .svg.
// `npm run bench -- --quick` runs smaller sizes (an inbox of 10,000 instead of 100,000, fewer agents).

import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { freePort, PROJECT_ROOT, startLocalRelay, type LocalRelay } from "../scripts/local-relay.js";
import { Relay } from "./agents.js";
import type { LoadResult } from "./measure.js";
import { latencyChart, printTable, targets } from "./report.js";
import * as scenario from "./scenarios.js";
import type { Figure } from "./scenarios.js";

const quick = process.argv.includes("--quick");
const SECONDS = quick ? 3 : 5;
const BENCH_VARS = {
  RATE_LIMIT_PER_MIN: "1000000000",
  BROADCAST_PER_HOUR: "1000000",
  INBOX_MAX: "250000",
};

async function main(): Promise<void> {
  const state = mkdtempSync(join(tmpdir(), "clawtalk-bench-"));
  const adminKey = randomBytes(24).toString("base64url");
  const started: LocalRelay[] = [];
  const deadline = setTimeout(() => {
    console.error("bench: over the 20-minute bound; stopping");
    void Promise.all(started.map((r) => r.stop())).then(() => process.exit(1));
  }, 20 * 60_000);
  try {
    const base = await startLocalRelay({
      port: await freePort(),
      stateDir: join(state, "baseline"),
      adminKey,
      configPath: join(PROJECT_ROOT, "bench/baseline/wrangler.toml"),
      readyPath: "/",
    });
    started.push(base);
    const relayProcess = await startLocalRelay({ port: await freePort(), stateDir: join(state, "relay"), adminKey, vars: BENCH_VARS });
    started.push(relayProcess);
    const relay = new Relay(relayProcess.url, adminKey);

    const log = (text: string) => console.log(`bench: ${text}`);
    log("baseline (empty Worker)");
    const baseline = await scenario.baseline(base.url, SECONDS);
    const figures: Figure[] = [];

    log("auth cost with 10 agents");
    const few = await relay.registerMany("auth_", 10);
    figures.push(await scenario.authCost(relay, few.slice(1), few[0]!, SECONDS, `send, ${few.length} agents registered`));
    log("send throughput");
    figures.push(...(await scenario.sendThroughput(relay, SECONDS)));
    log("send-to-visible lag");
    figures.push(...(await scenario.sendToVisible(relay, quick ? 100 : 300)));
    log("long-poll wake");
    figures.push(...(await scenario.longPollWake(relay, quick ? 50 : 200)));
    log("webhooks");
    figures.push(...(await scenario.webhooks(relay, quick ? 50 : 200, quick ? 200 : 1000)));
    const broadcastSize = quick ? 200 : 1000;
    log(`registering ${broadcastSize} agents; broadcast`);
    const crowd = await relay.registerMany("crowd_", broadcastSize);
    // The first broadcast meets inboxes the runtime has evicted since registration (cold objects);
    // the second meets them warm.
    const [cold] = await scenario.broadcast(relay, crowd);
    const [warm] = await scenario.broadcast(relay, crowd);
    figures.push({ ...cold!, what: `${cold!.what} (cold inboxes)` }, { ...warm!, what: `${warm!.what} (warm inboxes)` });
    const many = quick ? 2000 : 10_000;
    log(`registering up to ${many} agents; auth cost`);
    const rest = await relay.registerMany("auth_many_", many - broadcastSize - 50);
    const allSenders = [...crowd, ...rest];
    const registered = (allSenders.length + 60).toLocaleString("en");
    figures.push(await scenario.authCost(relay, few.slice(1), few[0]!, SECONDS, `send, ${registered} agents registered`));
    figures.push(await scenario.authCost(relay, allSenders, few[0]!, SECONDS, `send, ${registered} registered, senders spread over all (cold)`));
    log("inbox scale");
    figures.push(...(await scenario.inboxScale(relay, quick ? [10, 1000, 10_000] : [10, 1000, 10_000, 100_000], SECONDS)));

    const results = {
      date: new Date().toISOString(),
      machine: { cpus: cpus().length, cpu: cpus()[0]?.model ?? "unknown", node: process.version, runtime: "wrangler 4.86.0 / workerd 1.20260426.1" },
      mode: quick ? "quick" : "full",
      baseline: { get: summary(baseline.get), post: summary(baseline.post) },
      figures,
      targets: targets(figures, baseline.post),
    };
    printTable(results.baseline, figures, results.targets);
    const dir = join(PROJECT_ROOT, "bench/results");
    mkdirSync(dir, { recursive: true });
    const stamp = results.date.slice(0, 19).replace(/:/g, "-");
    writeFileSync(join(dir, `${stamp}.json`), JSON.stringify(results, null, 2) + "\n");
    writeFileSync(join(dir, `${stamp}.svg`), latencyChart(results.baseline, figures));
    log(`wrote bench/results/${stamp}.json and .svg`);
  } finally {
    clearTimeout(deadline);
    await Promise.all(started.map((r) => r.stop()));
    rmSync(state, { recursive: true, force: true });
  }
}

function summary(result: LoadResult) {
  return { rps: result.rps, p50: result.p50, p95: result.p95, p99: result.p99, count: result.count, failed: result.failed };
}

await main();
