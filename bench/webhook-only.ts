// `node --import tsx bench/webhook-only.ts [rounds]`: the webhook scenario alone
// (bench/delivery-scenarios.ts) on a fresh relay: send's 201 → receiver latency percentiles, and
// deliveries/s for a burst of 100 to one endpoint.

import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort, startLocalRelay } from "../scripts/local-relay.js";
import { Relay } from "./agents.js";
import { webhooks } from "./delivery-scenarios.js";

const rounds = Number(process.argv[2] ?? 200);
const state = mkdtempSync(join(tmpdir(), "clawtalk-hook-"));
const adminKey = randomBytes(24).toString("base64url");
const relayProcess = await startLocalRelay({ port: await freePort(), stateDir: state, adminKey, vars: { RATE_LIMIT_PER_MIN: "1000000000", INBOX_MAX: "250000" } });
try {
  const figures = await webhooks(new Relay(relayProcess.url, adminKey), rounds, 100);
  for (const figure of figures) console.log(JSON.stringify(figure));
} finally {
  await relayProcess.stop();
  rmSync(state, { recursive: true, force: true });
}
