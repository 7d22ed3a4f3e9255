// `npm test`: install what is missing, type-check everything (scripts/typecheck.mjs), then run
// every test (the vitest projects of vitest.config.ts). Extra arguments go to vitest, e.g.
// `npm test -- --project workers`. vitest's output goes through scripts/test-output-filter.ts,
// which hides known-harmless workerd lines and ends with what failed, if anything (a failing run's
// hidden lines go to test-results/hidden-output.log); colours and the exit code are vitest's.
import { spawn } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { ensureInstalled } from "./ensure-installed.mjs";
import { OFFLINE_ENV, typecheck } from "./typecheck.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
ensureInstalled();
typecheck();

/** vitest, its output line-filtered; answers its exit code. */
async function runVitest(args) {
  // Loaded only now: tsx is there once ensureInstalled() ran.
  const { tsImport } = await import("tsx/esm/api");
  const { createOutputFilter } = await tsImport("./test-output-filter.ts", import.meta.url);
  const filter = createOutputFilter();
  // Piped output is not a terminal: ask for the colours a terminal would get.
  const colour = process.stdout.isTTY && !process.env.NO_COLOR ? { FORCE_COLOR: "1" } : {};
  const env = { ...process.env, ...OFFLINE_ENV, ...colour };
  const child = spawn(join(root, "node_modules/.bin/vitest"), args, { cwd: root, stdio: ["inherit", "pipe", "pipe"], env });
  const pass = (from, to, stream) =>
    new Promise((done) => {
      const lines = createInterface({ input: from, crlfDelay: Infinity });
      lines.on("line", (line) => filter.keep(line, stream) && to.write(`${line}\n`));
      lines.on("close", done);
    });
  // Ctrl-C reaches vitest directly (same process group); wait for it to finish its report.
  process.on("SIGINT", () => {});
  const [code] = await Promise.all([
    new Promise((done) => child.on("close", (status, signal) => done(status ?? (signal ? 1 : 0)))),
    pass(child.stdout, process.stdout, "stdout"),
    pass(child.stderr, process.stderr, "stderr"),
  ]);
  let savedTo;
  if (code !== 0 && filter.hidden().length > 0) {
    savedTo = join(root, "test-results", "hidden-output.log");
    mkdirSync(dirname(savedTo), { recursive: true });
    writeFileSync(savedTo, filter.hidden().join("\n") + "\n");
  }
  for (const line of filter.summary(code, savedTo)) process.stderr.write(`${line}\n`);
  return code;
}

const code = await runVitest(["run", ...process.argv.slice(2)]);
if (code !== 0) console.error("clawtalk test: vitest failed");
process.exit(code);
