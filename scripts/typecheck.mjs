// `npm run typecheck`: generate worker-configuration.d.ts (the Env type, from wrangler.toml), then
// type-check the Worker side and the Node side. The generated file is not tracked, so without the
// first step a fresh checkout fails with TS2688. Also run by `npm test` (scripts/test.mjs).
import { spawnSync } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const bin = (name) => join(root, "node_modules/.bin", name);

/** Keeps wrangler off the network (no metrics, no update check, no Request.cf download). */
export const OFFLINE_ENV = {
  WRANGLER_SEND_METRICS: "false",
  WRANGLER_HIDE_BANNER: "true",
  CLOUDFLARE_CF_FETCH_ENABLED: "false",
  WRANGLER_SEND_ERROR_REPORTS: "false",
};

/** Runs a step in the project root; a failure ends this process with the step's status. */
export function run(command, args) {
  const result = spawnSync(command, args, { cwd: root, stdio: "inherit", env: { ...process.env, ...OFFLINE_ENV } });
  if (result.status !== 0) {
    console.error(`clawtalk: ${[command, ...args].map((a) => a.replace(root + "/", "")).join(" ")} failed`);
    process.exit(result.status ?? 1);
  }
}

export function typecheck() {
  run(bin("wrangler"), ["types", "--strict-vars=false"]);
  run(bin("tsc"), ["--noEmit", "-p", "tsconfig.json"]);
  run(bin("tsc"), ["--noEmit", "-p", "tsconfig.node.json"]);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) typecheck();
