// The `clawtalk` CLI (SPEC §6), run as users run it — `node bin/clawtalk.mjs <command>` (the CLI as
// published, built for the run: test/support/built-cli-setup.ts; once the repository's own bin) in a
// scratch directory, configured by environment variables and key files — against a real
// `wrangler dev` relay. Covers keys and registration, end-to-end encrypted and signed sending,
// payload sources, `watch --exec` (stdin only, ack after success, retries, cursor across restarts,
// shell metacharacters never executed), exit codes with one-line messages, and the account commands.

import type { ChildProcess } from "node:child_process";
import { randomBytes, randomUUID } from "node:crypto";
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test, vi } from "vitest";
import type { ReceivedMessage } from "../../client/index.js";
import { freePort } from "../../scripts/local-relay.js";
import { spawnCaptured, startTestRelay, tempDirs, type CapturedProcess, type TestRelay } from "../support/node-relay.js";
import { cleanEnv, CLI_BIN, runCli, SOURCE_CLI_BIN, type CliRun } from "../support/run-cli.js";

const ADMIN_KEY = `cli-test-admin-${randomBytes(8).toString("hex")}`;
/** One CLI run (not `watch`) must finish within this (as test/support/run-cli.ts enforces). */
const RUN_TIMEOUT_MS = 30_000;
/**
 * How long to wait for something asynchronous (a watcher handling messages, retries): vi.waitFor
 * retries the check until it passes. Longer than RUN_TIMEOUT_MS, so a check that runs the CLI is
 * retried (or reports its own timeout) rather than cut off while it is still running.
 */
const WAIT = { timeout: 2 * RUN_TIMEOUT_MS, interval: 200 };
const METACHARACTERS = "$(touch pwned); `touch pwned2`; '; rm -rf ./keep; \" | touch pwned3 && echo $HOME > pwned4";

let testRelay: TestRelay;
const scratchDirs = tempDirs();
/** HOME of every CLI run here, so default key files and cursors never land in the real one. */
let home: string;
const watchers: ChildProcess[] = [];

// ---------------------------------------------------------------------------------------------
// Helpers: run the CLI, start a watcher, make agents.

type Run = CliRun;

interface Agent {
  name: string;
  dir: string;
  keyFile: string;
}

function scratch(prefix: string): string {
  return scratchDirs.make(`clawtalk-cli-${prefix}-`);
}

/**
 * The environment of a CLI run: ours without any CLAWTALK_* variable or XDG_CONFIG_HOME, with
 * this file's scratch HOME, plus the relay URL and `extra`.
 */
function cliEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return { ...cleanEnv(), HOME: home, CLAWTALK_URL: testRelay.url, ...extra };
}

/** Runs `clawtalk ...args` in `cwd` to completion, with `input` on stdin (stdin closed when absent). */
function cli(args: string[], options: { cwd: string; env?: Record<string, string>; input?: string; bin?: string }): Promise<Run> {
  return runCli(args, { cwd: options.cwd, env: { HOME: home, CLAWTALK_URL: testRelay.url, ...options.env }, input: options.input, bin: options.bin });
}

/** Runs the CLI as `agent` (its key file in its directory) and expects exit 0. */
async function as(agent: Agent, args: string[], input?: string): Promise<Run> {
  const run = await cli(args, { cwd: agent.dir, env: { CLAWTALK_KEY_FILE: agent.keyFile }, ...(input === undefined ? {} : { input }) });
  if (run.code !== 0) throw new Error(`clawtalk ${args.join(" ")} exited ${run.code}: ${run.stderr}`);
  return run;
}

async function inboxOf(agent: Agent, extra: string[] = []): Promise<ReceivedMessage[]> {
  return JSON.parse((await as(agent, ["inbox", "--json", ...extra])).stdout) as ReceivedMessage[];
}

/** keygen + register through the CLI, in a scratch directory of the agent's own. */
async function newAgent(prefix: string, registerArgs: string[] = []): Promise<Agent> {
  const dir = scratch(prefix);
  const keyFile = join(dir, "key.json");
  const name = `${prefix}_${randomBytes(5).toString("hex")}`;
  const env = { CLAWTALK_KEY_FILE: keyFile, CLAWTALK_ADMIN_KEY: ADMIN_KEY };
  const keygen = await cli(["keygen"], { cwd: dir, env });
  if (keygen.code !== 0) throw new Error(`keygen: ${keygen.stderr}`);
  const register = await cli(["register", name, ...registerArgs], { cwd: dir, env });
  if (register.code !== 0) throw new Error(`register: ${register.stderr}`);
  return { name, dir, keyFile };
}

type Watcher = CapturedProcess;

/** Starts `clawtalk watch` as `agent` (a long-running process; stopped by the test or afterAll). */
function startWatch(agent: Agent, args: string[]): Watcher {
  const watcher = spawnCaptured(process.execPath, [CLI_BIN, "watch", ...args], { cwd: agent.dir, env: cliEnv({ CLAWTALK_KEY_FILE: agent.keyFile }) });
  watchers.push(watcher.child);
  return watcher;
}

/** Stops a watcher with `signal` and answers its exit code (bounded). */
async function stopWatch(watcher: Watcher, signal: NodeJS.Signals = "SIGTERM"): Promise<number | null> {
  watcher.child.kill(signal);
  const timeout = new Promise<"timeout">((done) => setTimeout(() => done("timeout"), RUN_TIMEOUT_MS));
  const exit = await Promise.race([watcher.exited, timeout]);
  if (exit === "timeout") throw new Error(`watch did not stop on ${signal}:\n${watcher.stderr()}`);
  return exit.code;
}


/** The JSON lines a `cat >> FILE` command collected, parsed. */
function jsonLines(path: string): ReceivedMessage[] {
  if (!existsSync(path)) return [];
  return readFileSync(path, "utf8").split("\n").filter((line) => line !== "").map((line) => JSON.parse(line) as ReceivedMessage);
}

function expectOneLine(text: string): void {
  expect(text.endsWith("\n")).toBe(true);
  expect(text.trimEnd().split("\n")).toHaveLength(1);
}

// ---------------------------------------------------------------------------------------------

let alice: Agent;
let bob: Agent;
let carol: Agent;

beforeAll(async () => {
  home = scratch("home");
  testRelay = await startTestRelay({
    prefix: "clawtalk-cli-relay-",
    adminKey: ADMIN_KEY,
    vars: { RATE_LIMIT_PER_MIN: "100000", BROADCAST_PER_HOUR: "100000" },
  });
  [alice, bob, carol] = await Promise.all([newAgent("cli_alice"), newAgent("cli_bob"), newAgent("cli_carol")]);
});

afterAll(async () => {
  for (const child of watchers) if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  await testRelay?.cleanup();
  scratchDirs.removeAll();
});

describe("keygen and register", () => {
  test("keygen writes a key file readable by its owner only and prints the public keys", async () => {
    const dir = scratch("keygen");
    const path = join(dir, "mine.key.json");
    const run = await cli(["keygen", "--out", path, "--json"], { cwd: dir });
    expect(run.code).toBe(0);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    const file = JSON.parse(readFileSync(path, "utf8"));
    for (const key of ["publicKey", "privateKey", "signingKey", "signingSecretKey"]) expect(typeof file[key]).toBe("string");
    const printed = JSON.parse(run.stdout);
    expect(printed).toMatchObject({ publicKey: file.publicKey, signingKey: file.signingKey });
    expect(run.stdout).not.toContain(file.privateKey);
    expect(run.stdout).not.toContain(file.signingSecretKey);
  });

  test("keygen refuses to overwrite an existing key file unless --force", async () => {
    const dir = scratch("keygen-force");
    const path = join(dir, "mine.json");
    expect((await cli(["keygen", "--out", path], { cwd: dir })).code).toBe(0);
    const before = readFileSync(path, "utf8");
    const refused = await cli(["keygen", "--out", path], { cwd: dir });
    expect(refused.code).toBe(1);
    expectOneLine(refused.stderr);
    expect(readFileSync(path, "utf8")).toBe(before);
    const forced = await cli(["keygen", "--out", path, "--force"], { cwd: dir });
    expect(forced.code).toBe(0);
    expect(readFileSync(path, "utf8")).not.toBe(before);
    expect(statSync(path).mode & 0o777).toBe(0o600);
  });

  test("register uploads the key file's public keys and saves name, apiKey and url into it", async () => {
    const file = JSON.parse(readFileSync(alice.keyFile, "utf8"));
    expect(file).toMatchObject({ name: alice.name, url: testRelay.url });
    expect(file.apiKey).toMatch(/^ct_/);
    expect(statSync(alice.keyFile).mode & 0o777).toBe(0o600);
    const me = JSON.parse((await as(alice, ["whoami", "--json"])).stdout);
    expect(me).toMatchObject({ name: alice.name, publicKey: file.publicKey, signingKey: file.signingKey });
  });

  test("register prints the apiKey and webhookSecret, or the whole answer with --json", async () => {
    const dir = scratch("register");
    const env = { CLAWTALK_ADMIN_KEY: ADMIN_KEY };
    const name = `cli_plain_${randomBytes(4).toString("hex")}`;
    const plain = await cli(["register", name, "--no-keys", "--owner", "tests", "--capabilities", "chat,search"], { cwd: dir, env });
    expect(plain.code).toBe(0);
    expect(plain.stdout).toMatch(/apiKey:\s+ct_\S+/);
    expect(plain.stdout).toMatch(/webhookSecret:\s+whsec_\S+/);
    const apiKey = /apiKey:\s+(\S+)/.exec(plain.stdout)![1]!;
    const me = JSON.parse((await cli(["whoami", "--json"], { cwd: dir, env: { CLAWTALK_API_KEY: apiKey } })).stdout);
    expect(me).toMatchObject({ name, owner: "tests", capabilities: ["chat", "search"], publicKey: null });

    const json = await cli(["register", `${name}_j`, "--no-keys", "--json"], { cwd: dir, env });
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toMatchObject({ name: `${name}_j`, apiKey: expect.stringMatching(/^ct_/), webhookSecret: expect.stringMatching(/^whsec_/) });
  });

  test("register without an admin key is a usage error", async () => {
    const run = await cli(["register", `cli_nokey_${randomBytes(4).toString("hex")}`], { cwd: scratch("noadmin") });
    expect(run.code).toBe(1);
    expectOneLine(run.stderr);
    expect(run.stderr).toContain("admin key");
  });
});

describe("send and inbox", () => {
  test("an encrypted message from A to B is read by B decrypted, with a verified signature", async () => {
    const text = `secret ${randomUUID()}`;
    const sent = await as(alice, ["send", "--encrypt", "--to", bob.name, "--topic", "cli.e2e", text]);
    const id = sent.stdout.trim();
    const message = (await inboxOf(bob, ["--topic", "cli.e2e"])).find((m) => m.id === id);
    expect(message).toMatchObject({ from: alice.name, encrypted: true, plaintext: text, verified: true, problems: [] });
    expect(message!.payload).not.toContain(text);
    expect(typeof message!.nonce).toBe("string");
  });

  test("the repository's bin (the TypeScript source under tsx) sends encrypted and reads it back decrypted, as the built CLI does", async () => {
    const text = `from source ${randomUUID()}`;
    const source = (agent: Agent, args: string[]) => cli(args, { cwd: agent.dir, env: { CLAWTALK_KEY_FILE: agent.keyFile }, bin: SOURCE_CLI_BIN });
    const sent = await source(alice, ["send", "--encrypt", "--to", bob.name, "--topic", "cli.source", text]);
    expect(sent.code, sent.stderr).toBe(0);
    const read = await source(bob, ["inbox", "--json", "--topic", "cli.source"]);
    expect(read.code, read.stderr).toBe(0);
    const message = (JSON.parse(read.stdout) as ReceivedMessage[]).find((m) => m.id === sent.stdout.trim());
    expect(message).toMatchObject({ from: alice.name, encrypted: true, plaintext: text, verified: true });
  });

  test("the inbox table shows the lock and the verified mark on one line per message", async () => {
    const text = "line one\nline two";
    await as(alice, ["send", "--encrypt", "--to", bob.name, "--topic", "cli.table", text]);
    const run = await as(bob, ["inbox", "--topic", "cli.table"]);
    const row = run.stdout.split("\n").find((line) => line.includes("line one"));
    expect(row).toBeDefined();
    expect(row).toContain("🔒");
    expect(row).toContain("✓ verified");
    expect(row).toContain("line one line two");
    expect(row).toContain(alice.name);
  });

  test("the payload comes from stdin when no MESSAGE is given, verbatim", async () => {
    const text = `from stdin ${randomUUID()}\nsecond line\n`;
    const id = (await as(alice, ["send", "--to", bob.name, "--topic", "cli.stdin"], text)).stdout.trim();
    const message = (await inboxOf(bob, ["--topic", "cli.stdin"])).find((m) => m.id === id);
    expect(message).toMatchObject({ payload: text, plaintext: text, verified: true, encrypted: false });
  });

  test("the payload comes from --file, and --json-payload sends a JSON object as an object", async () => {
    const path = join(alice.dir, "payload.json");
    writeFileSync(path, JSON.stringify({ task: "summarise", n: 3 }));
    const asText = (await as(alice, ["send", "--to", bob.name, "--topic", "cli.file", "--file", path])).stdout.trim();
    const asObject = (await as(alice, ["send", "--to", bob.name, "--topic", "cli.file", "--file", path, "--json-payload"])).stdout.trim();
    const messages = await inboxOf(bob, ["--topic", "cli.file"]);
    expect(messages.find((m) => m.id === asText)?.payload).toBe(JSON.stringify({ task: "summarise", n: 3 }));
    expect(messages.find((m) => m.id === asObject)?.payload).toEqual({ task: "summarise", n: 3 });
  });

  test("--to a,b sends one message to each, with the same id, encrypted for each", async () => {
    const text = `multicast ${randomUUID()}`;
    const answer = JSON.parse((await as(alice, ["send", "--to", `${bob.name},${carol.name}`, "--encrypt", "--topic", "cli.multi", "--json", text])).stdout);
    expect(answer.recipients.map((r: { name: string }) => r.name).sort()).toEqual([bob.name, carol.name].sort());
    for (const reader of [bob, carol]) {
      const message = (await inboxOf(reader, ["--topic", "cli.multi"])).find((m) => m.id === answer.id);
      expect(message).toMatchObject({ plaintext: text, verified: true, to: [bob.name, carol.name] });
    }
  });

  test("the message options reach the envelope", async () => {
    const id = randomUUID();
    await as(alice, ["send", "--to", bob.name, "--id", id, "--type", "request", "--topic", "cli.opts", "--correlation-id", "c-1", "--reply-to", randomUUID(), "--ttl", "3600", "hi"]);
    const message = (await inboxOf(bob, ["--topic", "cli.opts"])).find((m) => m.id === id);
    expect(message).toMatchObject({ type: "request", correlationId: "c-1", ttl: 3600, verified: true });
  });

  test("ack deletes messages from the inbox", async () => {
    const id = (await as(alice, ["send", "--to", bob.name, "--topic", "cli.ack", "ack me"])).stdout.trim();
    const run = await as(bob, ["ack", id, randomUUID(), "--json"]);
    expect(JSON.parse(run.stdout).deleted).toEqual([id]);
    expect((await inboxOf(bob, ["--topic", "cli.ack"])).map((m) => m.id)).not.toContain(id);
  });
});

describe("watch --exec", () => {
  test("runs the command once per message with the message as JSON on stdin, and acks after exit 0", async () => {
    const agent = await newAgent("cli_watch");
    const out = join(agent.dir, "out.jsonl");
    const watcher = startWatch(agent, ["--exec", "cat >> out.jsonl", "--topic", "w"]);
    const texts = ["first", "second", "third"];
    for (const text of texts) await as(alice, ["send", "--encrypt", "--to", agent.name, "--topic", "w", text]);
    const lines = await vi.waitFor(() => {
      const got = jsonLines(out);
      expect(got, "messages the watcher handled").toHaveLength(3);
      return got;
    }, WAIT);
    expect(lines.map((m) => m.plaintext)).toEqual(texts);
    expect(lines.every((m) => m.verified && m.from === alice.name)).toBe(true);
    await vi.waitFor(async () => expect(await inboxOf(agent), "the handled messages are acked").toEqual([]), WAIT);
    expect(await stopWatch(watcher)).toBe(0);
    expect(jsonLines(out)).toHaveLength(3);
  });

  test("a failing command is retried, then its message is left in the inbox and the watcher moves on", async () => {
    const agent = await newAgent("cli_fail");
    // Counts its runs, and fails for the message whose text is "fail".
    const exec = `node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{const m=JSON.parse(s);require("fs").appendFileSync("runs.log",m.plaintext+"\\n");process.exit(m.plaintext==="fail"?3:0)})'`;
    const watcher = startWatch(agent, ["--exec", exec]);
    const failing = (await as(alice, ["send", "--to", agent.name, "fail"])).stdout.trim();
    await as(alice, ["send", "--to", agent.name, "fine"]);
    const runs = () => (existsSync(join(agent.dir, "runs.log")) ? readFileSync(join(agent.dir, "runs.log"), "utf8").trim().split("\n") : []);
    await vi.waitFor(() => expect(runs(), "the next message is handled after the failing one").toContain("fine"), WAIT);
    expect(runs()).toEqual(["fail", "fail", "fail", "fail", "fine"]);
    expect(watcher.stderr()).toContain("left in the inbox");
    await vi.waitFor(async () => expect((await inboxOf(agent)).map((m) => m.id), "only the failed message stays").toEqual([failing]), WAIT);
    expect(await stopWatch(watcher, "SIGINT")).toBe(0);
  });

  test("after a stop and a restart with the same cursor file it neither repeats nor skips a message", async () => {
    const agent = await newAgent("cli_cursor");
    const out = join(agent.dir, "out.jsonl");
    // --no-ack keeps every message in the inbox, so only the cursor prevents repeats.
    const args = ["--exec", "cat >> out.jsonl", "--no-ack", "--cursor-file", "cursor.txt"];
    let watcher = startWatch(agent, args);
    for (const text of ["m1", "m2"]) await as(alice, ["send", "--to", agent.name, text]);
    await vi.waitFor(() => expect(jsonLines(out), "two messages handled before the stop").toHaveLength(2), WAIT);
    expect(await stopWatch(watcher)).toBe(0);
    const cursor = readFileSync(join(agent.dir, "cursor.txt"), "utf8").trim();
    expect(cursor).toBe(jsonLines(out)[1]!.ts);

    for (const text of ["m3", "m4", "m5"]) await as(alice, ["send", "--to", agent.name, text]);
    watcher = startWatch(agent, args);
    await vi.waitFor(() => expect(jsonLines(out), "the messages sent while stopped are handled").toHaveLength(5), WAIT);
    await as(alice, ["send", "--to", agent.name, "m6"]);
    await vi.waitFor(() => expect(jsonLines(out), "a message sent after the restart is handled").toHaveLength(6), WAIT);
    expect(await stopWatch(watcher)).toBe(0);
    expect(jsonLines(out).map((m) => m.plaintext)).toEqual(["m1", "m2", "m3", "m4", "m5", "m6"]);
    expect(await inboxOf(agent)).toHaveLength(6);
  });

  test("the default cursor file is ~/.config/clawtalk/<name>.cursor (mode 0600), not in the current directory", async () => {
    const agent = await newAgent("cli_defcur");
    const watcher = startWatch(agent, ["--exec", "cat > /dev/null"]);
    const id = (await as(alice, ["send", "--to", agent.name, "x"])).stdout.trim();
    const path = join(home, ".config", "clawtalk", `${agent.name.toLowerCase()}.cursor`);
    await vi.waitFor(() => expect(existsSync(path), "the cursor file is written").toBe(true), WAIT);
    expect(await stopWatch(watcher)).toBe(0);
    expect(readFileSync(path, "utf8").trim()).toMatch(/^\d{4}-\d\d-\d\dT/);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(readdirSync(agent.dir).filter((file) => file.includes("cursor"))).toEqual([]);
    expect((await inboxOf(agent)).map((m) => m.id)).not.toContain(id);
  });

  test("shell metacharacters in a message are passed verbatim on stdin and never executed", async () => {
    const agent = await newAgent("cli_shell");
    const out = join(agent.dir, "out.jsonl");
    writeFileSync(join(agent.dir, "keep"), "still here");
    const watcher = startWatch(agent, ["--exec", "cat >> out.jsonl"]);
    await as(alice, ["send", "--to", agent.name, METACHARACTERS]);
    await as(alice, ["send", "--to", agent.name, "--encrypt", METACHARACTERS]);
    await vi.waitFor(() => expect(jsonLines(out), "both messages handled").toHaveLength(2), WAIT);
    expect(await stopWatch(watcher)).toBe(0);
    expect(jsonLines(out).map((m) => m.plaintext)).toEqual([METACHARACTERS, METACHARACTERS]);
    for (const file of ["pwned", "pwned2", "pwned3", "pwned4"]) expect(existsSync(join(agent.dir, file))).toBe(false);
    expect(readFileSync(join(agent.dir, "keep"), "utf8")).toBe("still here");
  });
});

describe("exit codes and one-line errors", () => {
  test.each([
    ["an unknown command", ["frobnicate"]],
    ["an unknown flag", ["inbox", "--bogus"]],
    ["a missing --to", ["send", "hello"]],
    ["a flag without its value", ["send", "--to"]],
    ["a bad --type", ["send", "--to", "x", "--type", "shout", "hi"]],
    ["a non-numeric --limit", ["inbox", "--limit", "many"]],
    ["no command at all", []],
  ])("%s exits 1 with one line on stderr", async (_what, args) => {
    const run = await cli(args, { cwd: alice.dir, env: { CLAWTALK_KEY_FILE: alice.keyFile } });
    expect(run.code).toBe(1);
    expectOneLine(run.stderr);
    expect(run.stdout).toBe("");
  });

  test("a missing API key exits 1 with one line", async () => {
    const run = await cli(["inbox"], { cwd: scratch("nokey") });
    expect(run.code).toBe(1);
    expectOneLine(run.stderr);
    expect(run.stderr).toContain("API key");
  });

  test("a server error exits 2 with the relay's message and code on one line", async () => {
    const ghost = `cli_ghost_${randomBytes(4).toString("hex")}`;
    const run = await cli(["send", "--to", ghost, "hello?"], { cwd: alice.dir, env: { CLAWTALK_KEY_FILE: alice.keyFile } });
    expect(run.code).toBe(2);
    expectOneLine(run.stderr);
    expect(run.stderr).toContain("UNKNOWN_RECIPIENT");
    expect(run.stderr).toContain(ghost);
  });

  test("an unreachable relay exits 2 with one line", async () => {
    const port = await freePort();
    const run = await cli(["whoami"], { cwd: alice.dir, env: { CLAWTALK_KEY_FILE: alice.keyFile, CLAWTALK_URL: `http://127.0.0.1:${port}` } });
    expect(run.code).toBe(2);
    expectOneLine(run.stderr);
  });

  test("a wrong API key exits 2 with UNAUTHORIZED", async () => {
    const run = await cli(["whoami"], { cwd: scratch("badkey"), env: { CLAWTALK_API_KEY: "ct_not-a-key" } });
    expect(run.code).toBe(2);
    expectOneLine(run.stderr);
    expect(run.stderr).toContain("UNAUTHORIZED");
  });

  test.each(["keygen", "register", "update", "send", "inbox", "watch", "ack", "agents", "whoami", "rotate-key", "deliveries", "webhook-test"])(
    "%s --help prints its usage and exits 0",
    async (command) => {
      const run = await cli([command, "--help"], { cwd: scratch("help") });
      expect(run.code).toBe(0);
      expect(run.stdout).toContain(`Usage: clawtalk ${command}`);
    },
  );

  test("clawtalk --help lists every command", async () => {
    const run = await cli(["--help"], { cwd: scratch("help") });
    expect(run.code).toBe(0);
    for (const command of ["keygen", "register", "update", "send", "inbox", "watch", "ack", "agents", "whoami", "rotate-key", "deliveries", "webhook-test"]) {
      expect(run.stdout).toContain(`  ${command} `);
    }
  });
});

describe("account commands", () => {
  test("agents lists the registered agents with their keys", async () => {
    const agents = JSON.parse((await as(alice, ["agents", "--json"])).stdout) as { name: string; publicKey: string | null }[];
    expect(agents.find((a) => a.name === bob.name)?.publicKey).toBe(JSON.parse(readFileSync(bob.keyFile, "utf8")).publicKey);
    const table = (await as(alice, ["agents"])).stdout;
    expect(table.split("\n")[0]).toMatch(/name\s+online\s+lastSeen\s+webhook\s+keys/);
    expect(table.split("\n").find((line) => line.startsWith(bob.name))).toContain("encrypt+sign");
  });

  test("whoami shows the agent's own record", async () => {
    expect(JSON.parse((await as(bob, ["whoami", "--json"])).stdout).name).toBe(bob.name);
    expect((await as(bob, ["whoami"])).stdout).toMatch(new RegExp(`name:\\s+${bob.name}`));
  });

  test("rotate-key updates the key file and the old key stops working", async () => {
    const agent = await newAgent("cli_rotate");
    const oldKey = JSON.parse(readFileSync(agent.keyFile, "utf8")).apiKey as string;
    const newKey = (await as(agent, ["rotate-key"])).stdout.trim();
    expect(newKey).toMatch(/^ct_/);
    expect(newKey).not.toBe(oldKey);
    expect(JSON.parse(readFileSync(agent.keyFile, "utf8")).apiKey).toBe(newKey);
    expect(statSync(agent.keyFile).mode & 0o777).toBe(0o600);
    expect(JSON.parse((await as(agent, ["whoami", "--json"])).stdout).name).toBe(agent.name);
    const old = await cli(["whoami"], { cwd: agent.dir, env: { CLAWTALK_API_KEY: oldKey } });
    expect(old.code).toBe(2);
    expect(old.stderr).toContain("UNAUTHORIZED");
  });

  test("webhook-test without a webhook exits 2 with the relay's NOT_FOUND and points at clawtalk update", async () => {
    const run = await cli(["webhook-test"], { cwd: bob.dir, env: { CLAWTALK_KEY_FILE: bob.keyFile } });
    expect(run.code).toBe(2);
    expectOneLine(run.stderr);
    expect(run.stderr).toContain("NOT_FOUND");
    expect(run.stderr).toContain("clawtalk update --webhook-url");
  });

  test("webhook-test reaches a webhook, and deliveries lists the attempt", async () => {
    const received: string[] = [];
    const server: Server = createServer((request, response) => {
      request.on("data", (chunk: Buffer) => received.push(chunk.toString())).on("end", () => response.writeHead(204).end());
    });
    const port = await freePort();
    await new Promise<void>((done) => server.listen(port, "127.0.0.1", done));
    try {
      const agent = await newAgent("cli_hook", ["--webhook-url", `http://127.0.0.1:${port}/hook`]);
      const test = JSON.parse((await as(agent, ["webhook-test", "--json"])).stdout);
      expect(test).toMatchObject({ ok: true, status: 204 });
      expect(received.length).toBeGreaterThan(0);
      const attempts = JSON.parse((await as(agent, ["deliveries", "--json"])).stdout) as { outcome: string }[];
      expect(attempts.map((a) => a.outcome)).toContain("test");
      expect((await as(agent, ["deliveries", "--limit", "5"])).stdout).toContain("(test)");
    } finally {
      await new Promise((done) => server.close(done));
    }
  });

  test("deliveries of an agent without a webhook is an empty list", async () => {
    expect(JSON.parse((await as(carol, ["deliveries", "--json"])).stdout)).toEqual([]);
  });
});
