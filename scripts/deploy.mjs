// `npm run deploy`: `wrangler deploy`, but never with the placeholder KV namespace id that
// wrangler.toml ships with. wrangler accepts any id string, so a first deploy would otherwise go
// out bound to a namespace that does not exist in the account. Extra arguments go to wrangler
// (`npm run deploy -- --dry-run`); `--config FILE` (or `-c FILE`) names the configuration checked.
// Plain JavaScript, like the other npm entry points.
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const PLACEHOLDER_KV_ID = "clawtalk-identity-local";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const args = process.argv.slice(2);

/** The configuration wrangler will read: --config/-c FILE (or --config=FILE), else wrangler.toml. */
function configPath() {
  for (let i = 0; i < args.length; i++) {
    if ((args[i] === "--config" || args[i] === "-c") && args[i + 1] !== undefined) return resolve(args[i + 1]);
    if (args[i].startsWith("--config=")) return resolve(args[i].slice("--config=".length));
  }
  return join(root, "wrangler.toml");
}

const config = configPath();
// A line `id = "clawtalk-identity-local"` (not a comment) anywhere: the only id in the file is the KV one.
const placeholder = new RegExp(`^\\s*id\\s*=\\s*["']${PLACEHOLDER_KV_ID}["']`, "m");
if (placeholder.test(readFileSync(config, "utf8"))) {
  console.error(
    `clawtalk deploy: ${config} still has the placeholder KV id "${PLACEHOLDER_KV_ID}": run \`npx wrangler kv namespace create IDENTITY\` and put the id it prints into [[kv_namespaces]] there, then deploy again.`,
  );
  process.exit(1);
}

const result = spawnSync(join(root, "node_modules/.bin/wrangler"), ["deploy", ...args], { cwd: root, stdio: "inherit" });
process.exit(result.status ?? 1);
