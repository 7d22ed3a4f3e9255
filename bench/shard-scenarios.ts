// The shared-object scenarios of `npm run bench` (`-- --shards` runs only these): each phase of
// bench/shard-load.ts on a relay of its own (fresh state, its own vars), then the model of
// bench/shard-model.ts from what the first phase measured.

import { readLimits } from "../protocol/limits.js";
import { Relay } from "./agents.js";
import type { Figure } from "./figure.js";
import { BUDGET_VARS, measurePhase, VIEWS_VARS, type PhaseResult } from "./shard-load.js";
import { model, printModel, printPhase, ratios, type Model } from "./shard-model.js";

export interface ShardReport {
  views: PhaseResult;
  budget: PhaseResult & { countedExactly?: boolean };
  model: Model;
}

type StartRelay = (vars: Record<string, string>) => Promise<{ url: string; stop(): Promise<void> }>;

export async function shardScenarios(start: StartRelay, adminKey: string, quick: boolean, log: (text: string) => void): Promise<{ figures: Figure[]; report: ShardReport }> {
  log("shared objects: 2,000 inboxes at a fixed message rate (relay of its own)");
  let relayProcess = await start(VIEWS_VARS);
  const views = await measurePhase(new Relay(relayProcess.url, adminKey), adminKey, { agents: 2000, perS: 20, auditEvery: 2, warmupS: 30, seconds: quick ? 60 : 120, vars: VIEWS_VARS }, log);
  await relayProcess.stop();
  log("shared objects: a feed push budget of 5/s per shard, 100 busy inboxes (relay of its own)");
  relayProcess = await start(BUDGET_VARS);
  const budget = await measurePhase(new Relay(relayProcess.url, adminKey), adminKey, { agents: 100, perS: 50, auditEvery: 0, warmupS: 30, seconds: 30, vars: BUDGET_VARS, drain: true }, log);
  await relayProcess.stop();

  const m = model(ratios(views, readLimits({}).presencePushS));
  printPhase("views", views);
  printPhase("push budget", budget);
  printModel(m);
  const max = (xs: number[]) => Math.max(...xs);
  const defaults = readLimits({});
  const figures: Figure[] = [
    { scenario: "shared objects", what: `feed shard (of ${defaults.feedShards}), 2,000 inboxes, ${views.messagesPerS.toFixed(0)} msg/s`, value: max(views.loads.feed), unit: "req/s", note: "busiest shard" },
    { scenario: "shared objects", what: `presence shard (of ${defaults.presenceShards}), 2,000 agents seen every 100 s`, value: max(views.loads.presence), unit: "req/s", note: "busiest shard" },
    { scenario: "shared objects", what: `audit shard (of ${defaults.auditShards}), ${views.auditsPerS.toFixed(0)} posts/s`, value: max(views.loads.audit), unit: "req/s", note: "busiest shard" },
    { scenario: "shared objects", what: "Directory", value: views.loads.directory, unit: "req/s" },
    {
      scenario: "shared objects",
      what: `feed shard (of 2), budget 5/s, 100 inboxes, ${budget.messagesPerS.toFixed(0)} msg/s`,
      value: max(budget.loads.feed),
      unit: "req/s",
      note: `wait ${(budget.feedPushWaitMs / 1000).toFixed(0)} s; counts ${budget.countedExactly ? "exact" : "NOT exact"}`,
    },
    { scenario: "model", what: `first object at ~1,000 req/s`, note: `${m.first.object} at ~${Math.round(m.first.limitAt).toLocaleString("en")} active agents` },
  ];
  return { figures, report: { views, budget, model: m } };
}
