// `npm test`: install what is missing, type-check everything, then run every test (vitest
// projects: workers, limits, node). Extra arguments go to vitest, e.g. `npm test -- --project workers`.
import { spawnSync } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { ensureInstalled } from "./ensure-installed.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
ensureInstalled();
const bin = (name) => join(root, "node_modules/.bin", name);
const env = {
  ...process.env,
  WRANGLER_SEND_METRICS: "false",
  WRANGLER_HIDE_BANNER: "true",
  CLOUDFLARE_CF_FETCH_ENABLED: "false",
  WRANGLER_SEND_ERROR_REPORTS: "false",
};

function run(command, args) {
  const result = spawnSync(command, args, { cwd: root, stdio: "inherit", env });
  if (result.status !== 0) {
    console.error(`clawtalk test: ${[command, ...args].map((a) => a.replace(root + "/", "")).join(" ")} failed`);
    process.exit(result.status ?? 1);
  }
}

run(bin("wrangler"), ["types", "--strict-vars=false"]);
run(bin("tsc"), ["--noEmit", "-p", "tsconfig.json"]);
run(bin("tsc"), ["--noEmit", "-p", "tsconfig.node.json"]);
run(bin("vitest"), ["run", ...process.argv.slice(2)]);
