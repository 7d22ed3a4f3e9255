// vitest globalSetup for the `node` project: the CLI built once per run as its package is
// published (tsc with client/tsconfig.build.json; bin/clawtalk.mjs finds no TypeScript beside it
// and runs dist/), so each of the CLI tests' many runs does not start tsx and its esbuild
// (0.5 s of CPU a run against 0.2 s here, on 2 cores shared with the rest of the suite). Built
// from the work tree at the start of every run, so it is never stale. The repository's own bin,
// running the TypeScript source, is still tested (test/node/cli.test.ts, the README quick starts).

import { execFileSync } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestProject } from "vitest/node";
import { PROJECT_ROOT } from "../../scripts/local-relay.js";

export default function setup(project: TestProject): () => void {
  const dir = mkdtempSync(join(tmpdir(), "clawtalk-built-cli-"));
  try {
    execFileSync(join(PROJECT_ROOT, "node_modules/.bin/tsc"), ["-p", join(PROJECT_ROOT, "client/tsconfig.build.json"), "--outDir", join(dir, "dist"), "--declaration", "false"], {
      cwd: PROJECT_ROOT,
      stdio: ["ignore", "pipe", "pipe"],
    });
  } catch (error) {
    // tsc reports on stdout: show that, not only "Command failed".
    const stdout = (error as { stdout?: Buffer }).stdout?.toString() ?? "";
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`building the CLI for the node tests failed:\n${stdout}`);
  }
  mkdirSync(join(dir, "bin"));
  copyFileSync(join(PROJECT_ROOT, "client/bin/clawtalk.mjs"), join(dir, "bin/clawtalk.mjs"));
  // Its dependency (tweetnacl) as an install would provide it.
  symlinkSync(join(PROJECT_ROOT, "node_modules"), join(dir, "node_modules"));
  project.provide("builtCliBin", join(dir, "bin/clawtalk.mjs"));
  return () => rmSync(dir, { recursive: true, force: true });
}
