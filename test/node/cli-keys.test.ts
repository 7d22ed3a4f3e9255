// The CLI's side of signed key changes and pinning (SPEC §12, issue 13 items 3 and 4), run as users
// run it — `node bin/clawtalk.mjs <command>` (built: test/support/built-cli-setup.ts) with key
// files in a scratch per-user directory (XDG_CONFIG_HOME) — against a real `wrangler dev` relay:
// `rotate-keys` replaces the key file only once the relay accepted the change, `inbox` flags a
// sender whose keys the admin swapped, `send --encrypt` to it is refused until `trust NAME`, and
// the pins live beside the key file, mode 0600.

import { randomBytes } from "node:crypto";
import { copyFileSync, existsSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import type { AgentKeys, ReceivedMessage } from "../../client/index.js";
import { generateKeys } from "../../client/index.js";
import { relayCaller, startTestRelay, tempDirs, type TestRelay } from "../support/node-relay.js";
import { runCli, type CliRun } from "../support/run-cli.js";

const ADMIN_KEY = `cli-keys-admin-${randomBytes(8).toString("hex")}`;

let testRelay: TestRelay;
const scratchDirs = tempDirs();
/** HOME and XDG_CONFIG_HOME of every run: key files and pins land in <config>/clawtalk. */
let home: string;
let config: string;

beforeAll(async () => {
  home = scratchDirs.make("clawtalk-cli-keys-home-");
  config = join(home, "config");
  testRelay = await startTestRelay({ prefix: "clawtalk-cli-keys-relay-", adminKey: ADMIN_KEY, vars: { RATE_LIMIT_PER_MIN: "100000" } });
}, 120_000);

afterAll(async () => {
  await testRelay?.cleanup();
  scratchDirs.removeAll();
}, 60_000);

type Run = CliRun;

/** Runs `clawtalk ...args` to completion with only our CLAWTALK_* variables (the relay URL, the admin key, `env`). */
function cli(args: string[], env: Record<string, string> = {}): Promise<Run> {
  return runCli(args, { cwd: home, env: { HOME: home, XDG_CONFIG_HOME: config, CLAWTALK_URL: testRelay.url, CLAWTALK_ADMIN_KEY: ADMIN_KEY, ...env } });
}

/** Runs the CLI and expects exit 0. */
async function ok(args: string[], env: Record<string, string> = {}): Promise<Run> {
  const run = await cli(args, env);
  if (run.code !== 0) throw new Error(`clawtalk ${args.join(" ")} exited ${run.code}: ${run.stderr}`);
  return run;
}

const http = relayCaller(() => testRelay.url);
const keyFileOf = (name: string) => join(config, "clawtalk", `${name.toLowerCase()}.json`);
const pinsFileOf = (name: string) => join(config, "clawtalk", `${name.toLowerCase()}.pins.json`);
const readJson = <T>(path: string): T => JSON.parse(readFileSync(path, "utf8")) as T;
const mode = (path: string) => statSync(path).mode & 0o777;

type KeyFile = AgentKeys & { name: string; apiKey: string; url: string };

/** `register NAME`: a key file NAME.json in the per-user directory. */
async function newAgent(prefix: string): Promise<string> {
  const name = `${prefix}_${randomBytes(4).toString("hex")}`;
  await ok(["register", name]);
  return name;
}

async function inbox(name: string): Promise<ReceivedMessage[]> {
  return JSON.parse((await ok(["inbox", "--json", "--agent", name])).stdout) as ReceivedMessage[];
}

async function sent(args: string[]): Promise<string> {
  return (await ok(["send", ...args])).stdout.trim();
}

const only = (messages: ReceivedMessage[], id: string) => {
  const found = messages.filter((m) => m.id === id);
  expect(found, `message ${id} in the inbox`).toHaveLength(1);
  return found[0]!;
};

/** The per-user directory's files that are neither key files nor pins (a leftover FILE.next, a temporary file). */
const strayFiles = () => readdirSync(join(config, "clawtalk")).filter((file) => !/^[a-z0-9_-]+(\.pins)?\.json$/.test(file));

describe("clawtalk rotate-keys", () => {
  test("replaces the key file's keys once the relay accepted them; the receiver's pin follows the signed change silently", async () => {
    const [alice, bob] = await Promise.all([newAgent("ck_alice"), newAgent("ck_bob")]);
    const first = await sent(["--agent", alice, "--to", bob, "--encrypt", "before"]);
    expect(only(await inbox(bob), first)).toMatchObject({ verified: true, problems: [] });
    // bob pinned alice's keys beside his key file, readable by him only.
    const before = readJson<KeyFile>(keyFileOf(alice));
    expect(mode(pinsFileOf(bob))).toBe(0o600);
    expect(readJson<Record<string, unknown>>(pinsFileOf(bob))[alice.toLowerCase()]).toMatchObject({ publicKey: before.publicKey, signingKey: before.signingKey });

    const rotated = JSON.parse((await ok(["rotate-keys", "--agent", alice, "--json"])).stdout) as { file: string; publicKey: string; signingKey: string };
    const after = readJson<KeyFile>(keyFileOf(alice));
    expect(rotated).toEqual({ file: keyFileOf(alice), publicKey: after.publicKey, signingKey: after.signingKey });
    expect(after.publicKey).not.toBe(before.publicKey);
    expect(after.signingKey).not.toBe(before.signingKey);
    expect(after.privateKey).not.toBe(before.privateKey);
    expect(after).toMatchObject({ name: before.name, apiKey: before.apiKey, url: before.url });
    expect(mode(keyFileOf(alice))).toBe(0o600);
    expect(strayFiles()).toEqual([]);
    const record = await http<{ publicKey: string; signingKey: string }>("GET", `/agents/${alice}`, before.apiKey);
    expect(record.body).toMatchObject({ publicKey: after.publicKey, signingKey: after.signingKey });

    const second = await sent(["--agent", alice, "--to", bob, "--encrypt", "after"]);
    expect(only(await inbox(bob), second)).toMatchObject({ verified: true, problems: [], plaintext: "after" });
    expect(readJson<Record<string, unknown>>(pinsFileOf(bob))[alice.toLowerCase()]).toMatchObject({ publicKey: after.publicKey, signingKey: after.signingKey });
    // And alice, with the new keys of her key file, reads what bob encrypts to them.
    const answer = await sent(["--agent", bob, "--to", alice, "--encrypt", "to your new keys"]);
    expect(only(await inbox(alice), answer)).toMatchObject({ plaintext: "to your new keys", problems: [] });
  });

  test.each([
    ["a wrong API key (the relay refuses: exit 2)", (file: KeyFile) => ({ ...file, apiKey: `ct_${randomBytes(32).toString("base64url")}` }), 2],
    ["a signing key that is not the registered one (refused before the change: exit 1)", (file: KeyFile) => ({ ...file, signingSecretKey: generateKeys().signingSecretKey }), 1],
  ])("with %s leaves the key file as it was and the relay's keys unchanged", async (_label, spoil, exitCode) => {
    const name = await newAgent("ck_refused");
    const path = join(home, `${name}-copy.json`);
    writeFileSync(path, `${JSON.stringify(spoil(readJson<KeyFile>(keyFileOf(name))), null, 2)}\n`, { mode: 0o600 });
    const before = readFileSync(path, "utf8");
    const run = await cli(["rotate-keys", "--key-file", path]);
    expect(run.code).toBe(exitCode);
    expect(run.stderr.trimEnd().split("\n")).toHaveLength(1);
    expect(readFileSync(path, "utf8")).toBe(before);
    expect(existsSync(`${path}.next`)).toBe(false);
    const original = readJson<KeyFile>(keyFileOf(name));
    const history = await http<unknown[]>("GET", `/agents/${name}/keys`, original.apiKey);
    expect(history.body).toHaveLength(1);
  });
});

describe("clawtalk trust", () => {
  test("a sender whose keys the admin swapped is key-changed in the inbox and refused for encryption until trust NAME", async () => {
    const [alice, bob] = await Promise.all([newAgent("ck_alice"), newAgent("ck_bob")]);
    // alice uses a key file outside the per-user directory: her pins go beside it.
    const aliceFile = join(home, `${alice}-elsewhere.json`);
    copyFileSync(keyFileOf(alice), aliceFile);
    const asAlice = { CLAWTALK_KEY_FILE: aliceFile };
    const first = await sent(["--agent", bob, "--to", alice, "--encrypt", "from bob"]);
    expect(only(await inboxAt(asAlice), first)).toMatchObject({ verified: true, problems: [] });
    const pins = join(home, `${alice}-elsewhere.pins.json`);
    expect(mode(pins)).toBe(0o600);

    // The admin gives bob new keys; an impostor holds them.
    const swapped = generateKeys();
    expect((await http("PATCH", `/agents/${bob}`, ADMIN_KEY, { publicKey: swapped.publicKey, signingKey: swapped.signingKey })).status).toBe(200);
    const impostorFile = join(home, `${bob}-impostor.json`);
    writeFileSync(impostorFile, JSON.stringify({ ...readJson<KeyFile>(keyFileOf(bob)), ...swapped }), { mode: 0o600 });
    const forged = (await ok(["send", "--to", alice, "--encrypt", "trust me"], { CLAWTALK_KEY_FILE: impostorFile })).stdout.trim();

    expect(only(await inboxAt(asAlice), forged)).toMatchObject({ verified: false, problems: ["key-changed"], plaintext: "trust me" });
    const table = await ok(["inbox"], asAlice);
    expect(table.stdout.split("\n").find((line) => line.startsWith(forged))).toContain("! key-changed");
    expect(table.stderr).toContain(`${bob}'s keys changed`);
    expect(table.stderr).toContain(`clawtalk trust ${bob}`);

    const refused = await cli(["send", "--to", bob, "--encrypt", "secrets"], asAlice);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain("(KEY_CHANGED)");
    expect(refused.stderr).toContain(`clawtalk trust ${bob}`);
    expect(refused.stdout).toBe("");

    const trusted = JSON.parse((await ok(["trust", bob, "--json"], asAlice)).stdout);
    expect(trusted).toMatchObject({ name: bob, publicKey: swapped.publicKey, signingKey: swapped.signingKey });
    const original = readJson<KeyFile>(keyFileOf(bob));
    expect(trusted.previous).toEqual({ publicKey: original.publicKey, signingKey: original.signingKey });
    expect(readJson<Record<string, unknown>>(pins)[bob.toLowerCase()]).toMatchObject({ publicKey: swapped.publicKey, signingKey: swapped.signingKey });
    expect(mode(pins)).toBe(0o600);

    expect(only(await inboxAt(asAlice), forged)).toMatchObject({ verified: true, problems: [] });
    const now = (await ok(["send", "--to", bob, "--encrypt", "to the keys I trust now"], asAlice)).stdout.trim();
    expect(now).not.toBe("");
    const again = await ok(["trust", bob], asAlice);
    expect(again.stderr).toContain("already pinned");
  });

  test("needs a key file to keep the pins beside", async () => {
    const name = await newAgent("ck_nofile");
    const { apiKey } = readJson<KeyFile>(keyFileOf(name));
    const run = await cli(["trust", name], { CLAWTALK_API_KEY: apiKey, XDG_CONFIG_HOME: join(home, "empty-config") });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain("key file");
  });
});

async function inboxAt(env: Record<string, string>): Promise<ReceivedMessage[]> {
  return JSON.parse((await ok(["inbox", "--json"], env)).stdout) as ReceivedMessage[];
}
