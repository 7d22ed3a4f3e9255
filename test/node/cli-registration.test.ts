// `clawtalk keygen`, `register` and `update` against a real `wrangler dev` relay: where key files
// go by default (the per-user directory, $XDG_CONFIG_HOME/clawtalk or ~/.config/clawtalk, mode
// 0700 with files 0600, never the current directory), `register` run again (reuses what it
// registered, never overwrites another agent's or another relay's API key), and `update` by the
// agent itself and by the admin.

import { randomBytes } from "node:crypto";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import type { AgentPrivate } from "../../protocol/envelope.js";
import { freePort } from "../../scripts/local-relay.js";
import { httpCall, startTestRelay, tempDirs, type TestRelay } from "../support/node-relay.js";
import { runCli, type CliRun } from "../support/run-cli.js";

const ADMIN_KEY = `cli-reg-admin-${randomBytes(8).toString("hex")}`;

let testRelay: TestRelay;
const scratchDirs = tempDirs();

type Run = CliRun;

/** Where one user runs the CLI: a HOME of its own and an empty working directory. */
interface User {
  home: string;
  cwd: string;
  /** Added to the environment of every run (CLAWTALK_URL is the relay's unless set here). */
  env: Record<string, string>;
}

interface KeyFileData {
  name?: string;
  apiKey?: string;
  url?: string;
  publicKey: string;
  signingKey: string;
}

function newUser(env: Record<string, string> = {}): User {
  return { home: scratchDirs.make("clawtalk-reg-home-"), cwd: scratchDirs.make("clawtalk-reg-cwd-"), env };
}

const agentName = (prefix: string): string => `${prefix}_${randomBytes(4).toString("hex")}`;

/** Runs `clawtalk ...args` as `user`, with no CLAWTALK_* or XDG_CONFIG_HOME from our own environment. */
function cli(user: User, args: string[], extra: Record<string, string> = {}): Promise<Run> {
  return runCli(args, { cwd: user.cwd, env: { HOME: user.home, CLAWTALK_URL: testRelay.url, ...user.env, ...extra } });
}

/** Runs the CLI and expects exit 0. */
async function ok(user: User, args: string[], extra: Record<string, string> = {}): Promise<Run> {
  const run = await cli(user, args, extra);
  if (run.code !== 0) throw new Error(`clawtalk ${args.join(" ")} exited ${run.code}: ${run.stderr}`);
  return run;
}

const asAdmin = { CLAWTALK_ADMIN_KEY: ADMIN_KEY };

function readKeyFile(path: string): KeyFileData {
  return JSON.parse(readFileSync(path, "utf8")) as KeyFileData;
}

function expectOneLine(text: string): void {
  expect(text.trimEnd().split("\n")).toHaveLength(1);
}

const mode = (path: string): number => statSync(path).mode & 0o777;

async function whoami(user: User, args: string[] = [], extra: Record<string, string> = {}): Promise<AgentPrivate> {
  return JSON.parse((await ok(user, ["whoami", "--json", ...args], extra)).stdout) as AgentPrivate;
}

beforeAll(async () => {
  testRelay = await startTestRelay({ prefix: "clawtalk-cli-reg-relay-", adminKey: ADMIN_KEY });
});

afterAll(async () => {
  await testRelay?.cleanup();
  scratchDirs.removeAll();
});

describe("key files in the per-user directory", () => {
  test("register NAME writes ~/.config/clawtalk/<name>.json (0600, directory 0700) and nothing in the current directory", async () => {
    const user = newUser();
    const name = agentName("Dir");
    await ok(user, ["register", name], asAdmin);
    const dir = join(user.home, ".config", "clawtalk");
    const path = join(dir, `${name.toLowerCase()}.json`);
    expect(mode(dir)).toBe(0o700);
    expect(mode(path)).toBe(0o600);
    expect(readKeyFile(path)).toMatchObject({ name, url: testRelay.url, apiKey: expect.stringMatching(/^ct_/) });
    expect(readdirSync(user.cwd)).toEqual([]);
    const me = await whoami(user, ["--agent", name]);
    expect(me).toMatchObject({ name, publicKey: readKeyFile(path).publicKey });
  });

  test("XDG_CONFIG_HOME moves the directory to $XDG_CONFIG_HOME/clawtalk; a relative XDG_CONFIG_HOME is ignored", async () => {
    const xdg = scratchDirs.make("clawtalk-reg-xdg-");
    const user = newUser({ XDG_CONFIG_HOME: xdg });
    const name = agentName("xdg");
    await ok(user, ["register", name], asAdmin);
    expect(mode(join(xdg, "clawtalk"))).toBe(0o700);
    expect(mode(join(xdg, "clawtalk", `${name}.json`))).toBe(0o600);
    expect(existsSync(join(user.home, ".config"))).toBe(false);

    const relative = newUser({ XDG_CONFIG_HOME: "relative/config" });
    const other = agentName("xdgrel");
    await ok(relative, ["register", other], asAdmin);
    expect(existsSync(join(relative.home, ".config", "clawtalk", `${other}.json`))).toBe(true);
    expect(readdirSync(relative.cwd)).toEqual([]);
  });

  test("with one key file there, commands use it without --agent; with two, they ask for --agent", async () => {
    const user = newUser();
    const first = agentName("only");
    await ok(user, ["register", first], asAdmin);
    expect((await whoami(user)).name).toBe(first);

    const second = agentName("second");
    await ok(user, ["register", second], asAdmin);
    const ambiguous = await cli(user, ["whoami"]);
    expect(ambiguous.code).toBe(1);
    expectOneLine(ambiguous.stderr);
    expect(ambiguous.stderr).toContain("--agent");
    expect((await whoami(user, ["--agent", second])).name).toBe(second);
    expect((await whoami(user, [], { CLAWTALK_AGENT: first })).name).toBe(first);
  });

  test("an API key given in CLAWTALK_API_KEY is used as is: the directory's key files are not consulted", async () => {
    const user = newUser();
    await ok(user, ["register", agentName("first")], asAdmin);
    await ok(user, ["register", agentName("second")], asAdmin);
    const other = agentName("keyless");
    const registration = JSON.parse((await ok(user, ["register", other, "--no-keys", "--json"], asAdmin)).stdout) as { apiKey: string };
    expect(await whoami(user, [], { CLAWTALK_API_KEY: registration.apiKey })).toMatchObject({ name: other, publicKey: null });
  });

  test("--key-file F is the path F (relative to the current directory), as before", async () => {
    const user = newUser();
    const name = agentName("explicit");
    await ok(user, ["register", name, "--key-file", "agent.key.json"], asAdmin);
    expect(readKeyFile(join(user.cwd, "agent.key.json")).name).toBe(name);
    expect(mode(join(user.cwd, "agent.key.json"))).toBe(0o600);
    expect(existsSync(join(user.home, ".config"))).toBe(false);
    expect((await whoami(user, ["--key-file", "agent.key.json"])).name).toBe(name);
  });

  test.each([
    ["--agent and --key-file together", ["whoami", "--agent", "a1", "--key-file", "x.json"]],
    ["an --agent that is a path", ["whoami", "--agent", "../elsewhere"]],
    ["an --agent without a key file", ["whoami", "--agent", "nobody_here"]],
    ["keygen with nowhere to write", ["keygen"]],
  ])("%s exits 1 with one line", async (_what, args) => {
    const run = await cli(newUser(), args);
    expect(run.code).toBe(1);
    expectOneLine(run.stderr);
  });
});

describe("register again", () => {
  test("a second register of the same name exits 0 and keeps the key file's API key, which still works", async () => {
    const user = newUser();
    const name = agentName("twice");
    await ok(user, ["register", name], asAdmin);
    const path = join(user.home, ".config", "clawtalk", `${name}.json`);
    const before = readFileSync(path, "utf8");
    const again = await ok(user, ["register", name], asAdmin);
    expect(again.stderr).toContain("already registered");
    expect(again.stdout).toContain(readKeyFile(path).apiKey);
    expect(readFileSync(path, "utf8")).toBe(before);
    expect((await whoami(user, ["--agent", name])).name).toBe(name);
  });

  test("register again with settings applies them to the registered agent", async () => {
    const user = newUser();
    const name = agentName("resettle");
    await ok(user, ["register", name], asAdmin);
    await ok(user, ["register", name, "--capabilities", "chat,search", "--owner", "ops"], asAdmin);
    expect(await whoami(user, ["--agent", name])).toMatchObject({ capabilities: ["chat", "search"], owner: "ops" });
  });

  test("after the relay forgot the agent, register registers it again with the key file's keys", async () => {
    const user = newUser();
    const name = agentName("reborn");
    await ok(user, ["register", name], asAdmin);
    const path = join(user.home, ".config", "clawtalk", `${name}.json`);
    const first = readKeyFile(path);
    expect((await httpCall(testRelay.url, "DELETE", `/agents/${name}`, { key: ADMIN_KEY })).status).toBe(204);
    await ok(user, ["register", name], asAdmin);
    const second = readKeyFile(path);
    expect(second.apiKey).not.toBe(first.apiKey);
    expect(second.publicKey).toBe(first.publicKey);
    expect(await whoami(user, ["--agent", name])).toMatchObject({ name, publicKey: first.publicKey, signingKey: first.signingKey });
  });

  test("a key file holding the agent's API key for another relay is left alone (exit 1)", async () => {
    const user = newUser();
    const name = agentName("onerelay");
    await ok(user, ["register", name], asAdmin);
    const path = join(user.home, ".config", "clawtalk", `${name}.json`);
    const before = readFileSync(path, "utf8");
    const other = `http://127.0.0.1:${await freePort()}`;
    const run = await cli(user, ["register", name, "--url", other], asAdmin);
    expect(run.code).toBe(1);
    expectOneLine(run.stderr);
    expect(run.stderr).toContain(testRelay.url);
    expect(readFileSync(path, "utf8")).toBe(before);
  });

  test("a key file holding another agent's API key is left alone (exit 1)", async () => {
    const user = newUser();
    const name = agentName("owner");
    await ok(user, ["register", name], asAdmin);
    const path = join(user.home, ".config", "clawtalk", `${name}.json`);
    const before = readFileSync(path, "utf8");
    const run = await cli(user, ["register", agentName("thief"), "--agent", name], asAdmin);
    expect(run.code).toBe(1);
    expectOneLine(run.stderr);
    expect(run.stderr).toContain("already belongs to");
    expect(readFileSync(path, "utf8")).toBe(before);
  });
});

describe("update", () => {
  let server: Server;
  const hits: string[] = [];
  let hookUrl = "";

  beforeAll(async () => {
    server = createServer((request, response) => {
      hits.push(request.url ?? "");
      request.resume().on("end", () => response.writeHead(204).end());
    });
    const port = await freePort();
    await new Promise<void>((done) => server.listen(port, "127.0.0.1", done));
    hookUrl = `http://127.0.0.1:${port}/hook`;
  });

  afterAll(async () => {
    await new Promise((done) => server.close(done));
  });

  test("--webhook-url sets the agent's webhook and prints its new secret; webhook-test reaches it; --no-webhook removes it", async () => {
    const user = newUser();
    const name = agentName("hooked");
    await ok(user, ["register", name], asAdmin);
    const set = JSON.parse((await ok(user, ["update", "--webhook-url", hookUrl, "--json"])).stdout) as AgentPrivate & { webhookSecret?: string };
    expect(set).toMatchObject({ name, webhookUrl: hookUrl, webhook: true, webhookSecret: expect.stringMatching(/^whsec_/) });
    const tested = JSON.parse((await ok(user, ["webhook-test", "--json"])).stdout) as { ok: boolean; status: number };
    expect(tested).toMatchObject({ ok: true, status: 204 });
    expect(hits).toContain("/hook");

    const table = await ok(user, ["update", "--no-webhook"]);
    expect(table.stdout).toMatch(/webhookUrl:\s+-/);
    expect((await whoami(user)).webhookUrl).toBeNull();
    const untested = await cli(user, ["webhook-test"]);
    expect(untested.code).toBe(2);
    expect(untested.stderr).toContain("clawtalk update --webhook-url");
  });

  test("--capabilities and --delete-on-delivery change the record; --capabilities '' and --no-delete-on-delivery undo it", async () => {
    const user = newUser();
    const name = agentName("caps");
    await ok(user, ["register", name], asAdmin);
    await ok(user, ["update", "--capabilities", "translate, summarize", "--delete-on-delivery"]);
    expect(await whoami(user)).toMatchObject({ capabilities: ["translate", "summarize"], deleteOnDelivery: true });
    await ok(user, ["update", "--capabilities", "", "--no-delete-on-delivery"]);
    expect(await whoami(user)).toMatchObject({ capabilities: [], deleteOnDelivery: false });
  });

  test("update NAME changes another agent's record with the admin key (owner too); without it, exits 1", async () => {
    const user = newUser();
    const name = agentName("managed");
    await ok(user, ["register", name], asAdmin);
    const admin = newUser();
    const updated = JSON.parse((await ok(admin, ["update", name, "--owner", "platform", "--capabilities", "ops", "--admin-key", ADMIN_KEY, "--json"])).stdout) as AgentPrivate;
    expect(updated).toMatchObject({ name, owner: "platform", capabilities: ["ops"] });
    expect(await whoami(user)).toMatchObject({ owner: "platform", capabilities: ["ops"] });

    const noKey = await cli(admin, ["update", name, "--capabilities", "x"]);
    expect(noKey.code).toBe(1);
    expectOneLine(noKey.stderr);
    expect(noKey.stderr).toContain("admin key");
  });

  test("the agent itself may not change its owner: exit 2 with FORBIDDEN", async () => {
    const user = newUser();
    await ok(user, ["register", agentName("selfowner")], asAdmin);
    const run = await cli(user, ["update", "--owner", "me myself"]);
    expect(run.code).toBe(2);
    expectOneLine(run.stderr);
    expect(run.stderr).toContain("FORBIDDEN");
  });

  test("an invalid webhook URL exits 2 with the relay's BAD_REQUEST naming webhookUrl", async () => {
    const user = newUser();
    await ok(user, ["register", agentName("badhook")], asAdmin);
    const run = await cli(user, ["update", "--webhook-url", "ftp://example.com/x"]);
    expect(run.code).toBe(2);
    expectOneLine(run.stderr);
    expect(run.stderr).toContain("BAD_REQUEST");
    expect(run.stderr).toContain("webhookUrl");
  });

  test.each([
    ["nothing to change", ["update"]],
    ["--webhook-url with --no-webhook", ["update", "--webhook-url", "https://example.com/h", "--no-webhook"]],
    ["--delete-on-delivery with --no-delete-on-delivery", ["update", "--delete-on-delivery", "--no-delete-on-delivery"]],
    ["two names", ["update", "a1", "b2", "--capabilities", "x"]],
  ])("%s exits 1 with one line, before asking the relay", async (_what, args) => {
    const run = await cli(newUser(), args, { CLAWTALK_URL: `http://127.0.0.1:${await freePort()}` });
    expect(run.code).toBe(1);
    expectOneLine(run.stderr);
  });
});
