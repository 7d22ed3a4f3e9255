// `npm run deploy` (scripts/deploy.mjs) refuses to deploy while wrangler.toml holds the
// placeholder KV namespace id, with one line saying what to run, and otherwise hands over to
// `wrangler deploy`. Nothing is ever deployed here: every run passes `--dry-run --outdir DIR`, so
// whether wrangler ran shows as a bundle in DIR.

import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, test } from "vitest";
import { OFFLINE_ENV, PROJECT_ROOT } from "../../scripts/local-relay.js";
import { spawnCaptured, tempDirs, within } from "../support/node-relay.js";

const PLACEHOLDER = "clawtalk-identity-local";
const RUN_TIMEOUT_MS = 90_000;
const dirs = tempDirs();

afterAll(() => dirs.removeAll());

async function run(command: string, args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawnCaptured(command, args, { cwd: PROJECT_ROOT, env: { ...process.env, ...OFFLINE_ENV, npm_config_update_notifier: "false" } });
  const exit = await within(child.exited, RUN_TIMEOUT_MS, `${command} ${args.join(" ")}`);
  return { code: exit.code, stdout: child.stdout(), stderr: child.stderr() };
}

describe("npm run deploy", () => {
  test("with the placeholder KV id of the repository's wrangler.toml it exits 1 with one line saying what to run, and wrangler does not run", async () => {
    // The repository ships the placeholder; this is what a fresh clone's `npm run deploy` meets.
    expect(readFileSync(join(PROJECT_ROOT, "wrangler.toml"), "utf8")).toContain(`id = "${PLACEHOLDER}"`);
    const out = join(dirs.make("clawtalk-deploy-"), "out");
    const refused = await run("npm", ["run", "--silent", "deploy", "--", "--dry-run", "--outdir", out]);
    expect(refused.code).toBe(1);
    expect(refused.stdout).toBe("");
    const lines = refused.stderr.trimEnd().split("\n");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(PLACEHOLDER);
    expect(lines[0]).toContain("npx wrangler kv namespace create IDENTITY");
    expect(existsSync(out)).toBe(false);
  });

  test("with a real KV id it runs wrangler deploy with the arguments given (here a dry run that writes the bundle)", async () => {
    const dir = dirs.make("clawtalk-deploy-");
    // The production configuration with an id in place, its paths made absolute (it lives elsewhere).
    const config = readFileSync(join(PROJECT_ROOT, "wrangler.toml"), "utf8")
      .replace('main = "worker/index.ts"', `main = "${join(PROJECT_ROOT, "worker/index.ts")}"`)
      .replace('directory = "./dashboard"', `directory = "${join(PROJECT_ROOT, "dashboard")}"`)
      .replace(`id = "${PLACEHOLDER}"`, 'id = "0123456789abcdef0123456789abcdef"');
    expect(config).not.toContain(PLACEHOLDER);
    writeFileSync(join(dir, "wrangler.toml"), config);
    const out = join(dir, "out");
    const deployed = await run(process.execPath, [join(PROJECT_ROOT, "scripts/deploy.mjs"), "--config", join(dir, "wrangler.toml"), "--dry-run", "--outdir", out]);
    expect(deployed.code, deployed.stderr).toBe(0);
    expect(deployed.stdout).toContain("--dry-run: exiting now.");
    expect(existsSync(join(out, "index.js"))).toBe(true);
  });
});
