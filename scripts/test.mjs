// `npm test`: install what is missing, type-check everything (scripts/typecheck.mjs), then run
// every test (vitest projects: workers, limits, node). Extra arguments go to vitest, e.g.
// `npm test -- --project workers`.
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { ensureInstalled } from "./ensure-installed.mjs";
import { run, typecheck } from "./typecheck.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
ensureInstalled();
typecheck();
run(join(root, "node_modules/.bin", "vitest"), ["run", ...process.argv.slice(2)]);
