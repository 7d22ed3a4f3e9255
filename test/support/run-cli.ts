// Running the CLI as users run it — `node bin/clawtalk.mjs <command>` — in a child process, to
// completion, with an environment the test chose: none of our own CLAWTALK_* variables or
// XDG_CONFIG_HOME leak in, so a run finds only the key files and relay its test set up.

import { spawn } from "node:child_process";
import { join } from "node:path";
import { inject } from "vitest";
import { PROJECT_ROOT } from "../../scripts/local-relay.js";

/** The CLI as published, built for this run from the work tree (built-cli-setup.ts). */
export const CLI_BIN = builtCli();

function builtCli(): string {
  const bin = inject("builtCliBin");
  if (typeof bin !== "string") throw new Error("the built CLI is provided to the node project only (test/support/built-cli-setup.ts)");
  return bin;
}
/** The repository's bin, which runs the TypeScript source through tsx. */
export const SOURCE_CLI_BIN = join(PROJECT_ROOT, "client/bin/clawtalk.mjs");
/** A run that takes longer has hung: it is killed and the test fails with its stderr. */
const RUN_TIMEOUT_MS = 30_000;

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** This process's environment without CLAWTALK_* and XDG_CONFIG_HOME. */
export function cleanEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) if (!key.startsWith("CLAWTALK_") && key !== "XDG_CONFIG_HOME") env[key] = value;
  return env;
}

/** Runs `clawtalk ...args` (the built CLI, or `bin`) in `cwd` with `cleanEnv()` plus `env`, and `input` on stdin (closed at once when absent). */
export function runCli(args: string[], options: { cwd: string; env?: Record<string, string>; input?: string; bin?: string }): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [options.bin ?? CLI_BIN, ...args], { cwd: options.cwd, env: { ...cleanEnv(), ...options.env }, stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`clawtalk ${args.join(" ")} did not finish within ${RUN_TIMEOUT_MS} ms\n${stderr}`));
    }, RUN_TIMEOUT_MS);
    child.once("error", reject);
    child.once("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.end(options.input ?? "");
  });
}
