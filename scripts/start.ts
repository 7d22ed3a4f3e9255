// Runs the relay locally: wrangler dev on 127.0.0.1:$PORT (default 8787), state on disk in
// $CLAWTALK_STATE_DIR (default .state/), a development admin key from $ADMIN_KEY or generated
// once and kept in the state directory. Limit variables in this environment are passed on, so
// `RATE_LIMIT_PER_MIN=100000 npm start` runs a relay for load tests.

import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { LIMIT_VARIABLES } from "../protocol/limits.js";
import { AddressInUseError, PROJECT_ROOT, startLocalRelay, type LocalRelay } from "./local-relay.js";

const stateDir = resolve(process.env.CLAWTALK_STATE_DIR ?? join(PROJECT_ROOT, ".state"));
const port = Number(process.env.PORT ?? 8787);
if (!Number.isInteger(port) || port < 1 || port > 65535) {
  console.error(`clawtalk: PORT=${process.env.PORT} is not a port number`);
  process.exit(1);
}

function adminKey(): string {
  if (process.env.ADMIN_KEY) return process.env.ADMIN_KEY;
  const file = join(stateDir, "admin-key");
  if (existsSync(file)) return readFileSync(file, "utf8").trim();
  mkdirSync(stateDir, { recursive: true });
  const key = `adm_${randomBytes(32).toString("base64url")}`;
  writeFileSync(file, `${key}\n`, { mode: 0o600 });
  return key;
}

const vars: Record<string, string> = {};
for (const name of LIMIT_VARIABLES) {
  const value = process.env[name];
  if (value !== undefined) vars[name] = value;
}

let relay: LocalRelay;
try {
  relay = await startLocalRelay({ port, stateDir, adminKey: adminKey(), vars, stdio: "inherit", logLevel: "info" });
} catch (error) {
  if (!(error instanceof AddressInUseError)) throw error;
  console.error(`clawtalk: cannot start: ${error.message}`);
  process.exit(1);
}
console.log(`
  ClawTalk relay running at ${relay.url}
  Admin key (development): ${relay.adminKey}
  State: ${stateDir}
  Try:  curl ${relay.url}/health
  Stop: Ctrl-C
`);

let stopping = false;
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    console.log("\nclawtalk: stopping...");
    void relay.stop().then(() => process.exit(0));
  });
}
const code = await relay.exited;
if (!stopping) {
  console.error(`clawtalk: wrangler dev exited (${code})`);
  process.exit(code ?? 1);
}
