// `node --import tsx bench/broadcast-only.ts [agents] [--profile[=cold]]`: the broadcast scenario
// alone, cold (the relay restarted first) and warm, with the CPU its workerd used; `--profile`
// takes a CPU profile of the warm run (`--profile=cold`: of the cold one) and summarizes it.

import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort, startLocalRelay } from "../scripts/local-relay.js";
import { Relay } from "./agents.js";
import { workerdCpuMs } from "./cpu.js";
import { broadcast } from "./delivery-scenarios.js";
import { Inspector } from "./inspector.js";
import { summarize } from "./profile-summary.js";

const n = Number(process.argv[2] ?? 1000);
const profiled = process.argv.includes("--profile=cold") ? "cold" : process.argv.includes("--profile") ? "warm" : null;
const state = mkdtempSync(join(tmpdir(), "clawtalk-bcast-"));
const adminKey = randomBytes(24).toString("base64url");
const port = await freePort();
const start = () => startLocalRelay({ port, stateDir: state, adminKey, vars: { RATE_LIMIT_PER_MIN: "1000000000", BROADCAST_PER_HOUR: "1000000" } });
let relayProcess = await start();
const relay = new Relay(relayProcess.url, adminKey);
try {
  const crowd = await relay.registerMany("crowd_", n);
  await relayProcess.stop();
  relayProcess = await start();
  for (const label of ["cold", "warm"]) {
    const cpu0 = workerdCpuMs(relayProcess.pid);
    const profile = label === profiled ? await Inspector.connect(relayProcess.inspectorPort) : null;
    const run = () => broadcast(relay, crowd);
    const [figure] = profile ? await profile.cpuProfile("/tmp/broadcast.cpuprofile", run) : await run();
    console.log(`${label}: ${figure!.value?.toFixed(0)} ms; ${figure!.note}; workerd CPU ${(workerdCpuMs(relayProcess.pid) - cpu0).toFixed(0)} ms`);
    if (profile) {
      profile.close();
      summarize("/tmp/broadcast.cpuprofile", 25);
    }
  }
} finally {
  await relayProcess.stop();
  rmSync(state, { recursive: true, force: true });
}
