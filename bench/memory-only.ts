// `node --import tsx bench/memory-only.ts [rounds]`: the memory scenario alone (bench/memory.ts),
// printing the RSS after each round.

import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort, startLocalRelay } from "../scripts/local-relay.js";
import { Relay } from "./agents.js";
import { Inspector } from "./inspector.js";
import { largeSends } from "./memory.js";

const rounds = Number(process.argv[2] ?? 25);
const state = mkdtempSync(join(tmpdir(), "clawtalk-mem-"));
const adminKey = randomBytes(24).toString("base64url");
const relayProcess = await startLocalRelay({ port: await freePort(), stateDir: state, adminKey, vars: { RATE_LIMIT_PER_MIN: "1000000000", INBOX_MAX: "250000" } });
const inspector = await Inspector.connect(relayProcess.inspectorPort);
try {
  const result = await largeSends(new Relay(relayProcess.url, adminKey), relayProcess.pid, inspector, rounds);
  console.log(`RSS by round (MiB): ${result.rss.map((x) => x.toFixed(0)).join(" ")}`);
  console.log(result.figures[0]?.note);
} finally {
  inspector.close();
  await relayProcess.stop();
  rmSync(state, { recursive: true, force: true });
}
