// `node --import tsx bench/profile.ts [send|send-one|multicast|poll] [connections]`: a CPU profile
// of the relay's workerd (Worker and Durable Objects, one isolate locally) under one hot-path load,
// through wrangler's devtools port. Prints the functions with the most self time and writes the
// .cpuprofile to bench/results/ (open it in Chrome DevTools) — what guided each optimization of the
// hot path. `send` is 50 senders each sending to the next, `send-one` 20 senders to one inbox.

import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort, PROJECT_ROOT, startLocalRelay } from "../scripts/local-relay.js";
import { Relay, sendBody, type BenchAgent } from "./agents.js";
import { Inspector } from "./inspector.js";
import { load } from "./measure.js";
import { summarize } from "./profile-summary.js";


const shape = process.argv[2] ?? "send";
const connections = Number(process.argv[3] ?? 10);
const state = mkdtempSync(join(tmpdir(), "clawtalk-profile-"));
const adminKey = randomBytes(24).toString("base64url");
const relayProcess = await startLocalRelay({ port: await freePort(), stateDir: state, adminKey, vars: { RATE_LIMIT_PER_MIN: "1000000000", INBOX_MAX: "250000" } });
const relay = new Relay(relayProcess.url, adminKey);
const auth = (agent: BenchAgent) => ({ Authorization: `Bearer ${agent.apiKey}` });
try {
  const agents = await relay.registerMany("prof_", 50);
  for (const agent of agents.slice(0, 2)) for (let i = 0; i < 60; i++) await relay.send(agents[2]!, agent.name, `warm ${i}`);
  const request = (i: number) => {
    // send: 50 senders, each to the next; send-one: 20 senders to one inbox (the bench's two shapes).
    const from = shape === "send-one" ? agents[1 + (i % 20)]! : agents[i % 50]!;
    if (shape === "poll") return { path: "/messages?limit=50", headers: auth(agents[i % 2]!) };
    const to = shape === "multicast" ? agents.slice(40, 50).map((a) => a.name) : shape === "send-one" ? agents[0]!.name : agents[(i + 1) % 50]!.name;
    return { path: "/messages", headers: auth(from), body: sendBody(to) };
  };
  const method = shape === "poll" ? "GET" : "POST";
  await load({ url: relay.url, method, durationS: 2, connections: 10, request }); // warm up
  const inspector = await Inspector.connect(relayProcess.inspectorPort);
  const dir = join(PROJECT_ROOT, "bench/results");
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `profile-${shape}-${new Date().toISOString().slice(0, 19).replace(/:/g, "-")}.cpuprofile`);
  const result = await inspector.cpuProfile(file, () => load({ url: relay.url, method, durationS: 5, connections, request }));
  inspector.close();
  console.log(`${shape}, ${connections} connections: ${result.rps.toFixed(0)} req/s during the profile; wrote ${file}`);
  summarize(file, 30);
} finally {
  await relayProcess.stop();
  rmSync(state, { recursive: true, force: true });
}
