// The README's two quick starts, taken from README.md itself and run with bash as a newcomer
// would paste them: the curl one, then the agent one, then both again, against one fresh
// `wrangler dev` relay. Each must exit 0, print what the README says it prints, and leave no
// untracked file in the repository.
//
// What differs from a newcomer's terminal, and nothing else: HOME is a temporary directory (the
// CLI's key files go to $HOME/.config/clawtalk), CLAWTALK_URL names the test relay (both blocks
// read it), npm's update check is off (it would ask the registry), and the text `.state/admin-key`
// is replaced by the path of a file holding the test relay's admin key, so a developer's own
// .state/ is never read. The blocks run in the repository root, where `npx clawtalk` is the
// workspace's CLI.

import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { PROJECT_ROOT } from "../../scripts/local-relay.js";
import { spawnCaptured, startTestRelay, tempDirs, within, type TestRelay } from "../support/node-relay.js";

const ADMIN_KEY_FILE_IN_README = ".state/admin-key";
/** One block (several npx runs, each compiling the CLI with tsx) on a slow, busy machine. */
const BLOCK_TIMEOUT_MS = 150_000;

interface QuickStart {
  heading: RegExp;
  /** What the block must print on stdout. */
  expectOutput(stdout: string, stderr: string, round: number): void;
}

const CURL: QuickStart = {
  heading: /^## Quick start with curl\b/,
  expectOutput(stdout) {
    const lines = stdout.trimEnd().split("\n");
    expect(JSON.parse(lines[0]!)).toMatchObject({ id: expect.any(String), recipients: [{ name: "ben" }] });
    expect(lines.slice(1)).toEqual(["ann: hello ben", "204"]);
  },
};

const AGENT: QuickStart = {
  heading: /^## Agent quick start\b/,
  expectOutput(stdout, stderr, round) {
    const rows = stdout.split("\n").filter((line) => line.includes("hello, bob"));
    // Bob's inbox keeps what it got: one message per run so far.
    expect(rows).toHaveLength(round);
    for (const row of rows) {
      expect(row).toContain("alice");
      expect(row).toContain("🔒");
      expect(row).toContain("✓ verified");
    }
    if (round > 1) expect(stderr).toContain("already registered");
  },
};

/** The first ```sh block under the heading, up to the next `## ` heading. */
function blockUnder(readme: string, heading: RegExp): string {
  const lines = readme.split("\n");
  const start = lines.findIndex((line) => heading.test(line));
  if (start < 0) throw new Error(`README.md has no heading matching ${heading}`);
  const end = lines.findIndex((line, i) => i > start && line.startsWith("## "));
  const section = lines.slice(start + 1, end < 0 ? undefined : end);
  const open = section.indexOf("```sh");
  const close = section.indexOf("```", open + 1);
  if (open < 0 || close < 0) throw new Error(`README.md: no \`\`\`sh block under ${heading}`);
  return section.slice(open + 1, close).join("\n");
}

let testRelay: TestRelay;
const dirs = tempDirs();
let home: string;
let adminKeyFile: string;
let untrackedBefore: string;

/** Untracked files in the repository (ignored ones excluded), one per line. */
function untrackedFiles(): string {
  const status = spawnSync("git", ["status", "--porcelain", "--untracked-files=all"], { cwd: PROJECT_ROOT, encoding: "utf8" });
  if (status.status !== 0) throw new Error(`git status: ${status.stderr}`);
  return status.stdout.split("\n").filter((line) => line.startsWith("??")).join("\n");
}

/** Runs one block with bash as described at the top; answers its exit and output. */
async function runBlock(quickStart: QuickStart): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const block = blockUnder(readFileSync(join(PROJECT_ROOT, "README.md"), "utf8"), quickStart.heading);
  expect(block, "the block reads the admin key from .state/admin-key").toContain(ADMIN_KEY_FILE_IN_README);
  const script = block.replaceAll(ADMIN_KEY_FILE_IN_README, adminKeyFile);
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) if (!key.startsWith("CLAWTALK_") && key !== "XDG_CONFIG_HOME") env[key] = value;
  Object.assign(env, { HOME: home, CLAWTALK_URL: testRelay.url, npm_config_update_notifier: "false" });
  // -e and pipefail: a failing line fails the block, as a reader would notice it in a terminal.
  const run = spawnCaptured("bash", ["-e", "-o", "pipefail", "-c", script], { cwd: PROJECT_ROOT, env });
  const exit = await within(run.exited, BLOCK_TIMEOUT_MS, "the quick start to finish");
  return { code: exit.code, stdout: run.stdout(), stderr: run.stderr() };
}

beforeAll(async () => {
  home = dirs.make("clawtalk-quickstart-home-");
  testRelay = await startTestRelay({ prefix: "clawtalk-quickstart-relay-" });
  adminKeyFile = join(dirs.make("clawtalk-quickstart-admin-"), "admin-key");
  writeFileSync(adminKeyFile, `${testRelay.adminKey}\n`, { mode: 0o600 });
  untrackedBefore = untrackedFiles();
});

afterAll(async () => {
  await testRelay?.cleanup();
  dirs.removeAll();
});

describe("the README's quick starts, verbatim, in order, twice", () => {
  for (const round of [1, 2]) {
    for (const [label, quickStart] of [["curl", CURL], ["agent", AGENT]] as const) {
      test(`round ${round}: the ${label} quick start exits 0, prints what it should and leaves no untracked file`, async () => {
        const run = await runBlock(quickStart);
        expect(run.code, `stderr:\n${run.stderr}`).toBe(0);
        quickStart.expectOutput(run.stdout, run.stderr, round);
        expect(untrackedFiles()).toBe(untrackedBefore);
        if (quickStart === AGENT) {
          for (const name of ["alice", "bob"]) expect(existsSync(join(home, ".config", "clawtalk", `${name}.json`))).toBe(true);
        }
      }, BLOCK_TIMEOUT_MS + 10_000);
    }
  }
});
