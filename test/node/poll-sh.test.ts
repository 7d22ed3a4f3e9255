// client/poll.sh (SPEC §6): the bash + curl + jq poller, run for real against a real `wrangler dev`
// relay on on-disk state. Each scenario registers its own agents and gets its own scratch
// directory (callback output, cursor file, HOME), and every poll.sh runs in its own process group,
// so it and any callback it started can be ended by id (after each test, whatever its outcome).
// The one test that stops a relay stops a relay of its own: a failure there cannot leave the
// relay of the other tests down.
//
// The callback used in most scenarios is a small Node script (written below) that parses its
// whole stdin as ONE JSON document — two documents, or none, make it fail — and appends what it
// saw to `attempts` in the scenario directory. It fails (exit 1) for a payload containing "fail"
// while a file `broken` exists, and takes 1.5 s for a payload containing "slow".

import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, unlinkSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test, vi } from "vitest";
import { PROJECT_ROOT } from "../../scripts/local-relay.js";
import {
  httpCall,
  killGroup,
  registerAgent,
  spawnCaptured,
  startTestRelay,
  tempDirs,
  uniqueName,
  within,
  type CapturedProcess,
  type Exit,
  type RegisteredAgent,
  type TestRelay,
} from "../support/node-relay.js";

const POLL_SH = join(PROJECT_ROOT, "client/poll.sh");
const RELAY_VARS = { RATE_LIMIT_PER_MIN: "100000" };
const REQUEST_TIMEOUT_MS = 10_000;
/** A CLAWTALK_ONCE run, or a poll.sh that should exit by itself, must end within this. */
const RUN_TIMEOUT_MS = 60_000;
/** How long a long-running poll.sh may take to handle what it was sent (vi.waitFor retries the check). */
const WAIT = { timeout: 30_000, interval: 100 };

const CALLBACK_SCRIPT = `
import { appendFileSync, existsSync, writeFileSync } from "node:fs";
let raw = "";
process.stdin.setEncoding("utf8");
for await (const chunk of process.stdin) raw += chunk;
const message = JSON.parse(raw); // exactly one JSON document on stdin, or this throws (exit 1)
const text = typeof message.payload === "string" ? message.payload : JSON.stringify(message.payload);
const dir = process.env.POLL_DIR;
if (text.includes("slow")) {
  writeFileSync(dir + "/slow-started", "");
  await new Promise((done) => setTimeout(done, 1500));
}
const failing = text.includes("fail") && existsSync(dir + "/broken");
appendFileSync(dir + "/attempts", JSON.stringify({ id: message.id, ts: message.ts, payload: message.payload, ok: !failing }) + "\\n");
process.exit(failing ? 1 : 0);
`;

// ---------------------------------------------------------------------------------------------
// Relay helpers (plain fetch).

/** An agent, and the relay it is registered on. */
interface Agent extends RegisteredAgent {
  relay: TestRelay;
}

interface Sent {
  id: string;
  ts: string;
  payload: string;
}

/** The relay most tests share (the outage test starts one of its own). */
let testRelay: TestRelay;

/** `method path` as `agent` on its relay. */
function call<T = unknown>(agent: Agent, method: string, path: string, json?: unknown) {
  return httpCall<T>(agent.relay.url, method, path, { key: agent.apiKey, json, timeoutMs: REQUEST_TIMEOUT_MS });
}

async function register(prefix: string, relay: TestRelay): Promise<Agent> {
  return { ...(await registerAgent(relay, uniqueName(prefix), {}, { timeoutMs: REQUEST_TIMEOUT_MS })), relay };
}

async function send(from: Agent, to: Agent, payload: string, extra: Record<string, unknown> = {}): Promise<Sent> {
  const reply = await call<{ id: string; ts: string }>(from, "POST", "/messages", { to: to.name, type: "notification", encrypted: false, payload, ...extra });
  if (reply.status !== 201) throw new Error(`send: ${reply.status} ${reply.text}`);
  return { id: reply.body.id, ts: reply.body.ts, payload };
}

/** Ids in the agent's inbox, oldest first. */
async function inboxIds(agent: Agent): Promise<string[]> {
  const reply = await call<{ messages: { id: string }[] }>(agent, "GET", "/messages?sort=asc&limit=100");
  if (reply.status !== 200) throw new Error(`inbox: ${reply.status} ${reply.text}`);
  return reply.body.messages.map((m) => m.id);
}

/**
 * Waits until the relay has seen a request with the agent's key (the directory shows it seen).
 * For a fresh agent that only poll.sh uses, this is poll.sh's first GET: it has reached the
 * agent's inbox, which holds it as a long-poll when nothing is there.
 */
async function untilSeenByRelay(agent: Agent): Promise<void> {
  await vi.waitFor(
    async () => {
      const reply = await httpCall<{ lastSeen: string | null }>(agent.relay.url, "GET", `/agents/${agent.name}`, {
        key: agent.relay.adminKey,
        timeoutMs: REQUEST_TIMEOUT_MS,
      });
      expect(reply.body.lastSeen, `${agent.name} seen by the relay`).toEqual(expect.any(String));
    },
    WAIT,
  );
}

// ---------------------------------------------------------------------------------------------
// poll.sh processes and scenario directories.

interface Attempt {
  id: string;
  ts: string;
  payload: unknown;
  ok: boolean;
}

interface Scenario {
  dir: string;
  bob: Agent;
  alice: Agent;
  cursorFile: string;
  /** What the Node callback saw, in order (complete lines only). */
  attempts(): Attempt[];
  /** Ids the callback handled successfully, in order. */
  handled(): string[];
  /** Environment for poll.sh: the agent's key, the Node callback, this scenario's cursor file. */
  env(extra?: Record<string, string>): Record<string, string>;
}

interface Poller extends CapturedProcess {
  /** SIGTERM to poll.sh itself (not its group), then its exit. */
  terminate(): Promise<Exit>;
}

const scratchDirs = tempDirs();
/** The poll.sh processes of the running test, ended after it. */
const pollers: Poller[] = [];

/** A scratch directory and two fresh agents (bob polls, alice sends) on `relay`. */
async function scenario(prefix: string, relay: TestRelay = testRelay): Promise<Scenario> {
  const dir = scratchDirs.make("clawtalk-poll-sh-");
  writeFileSync(join(dir, "callback.mjs"), CALLBACK_SCRIPT);
  const bob = await register(`${prefix}_bob`, relay);
  const alice = await register(`${prefix}_alice`, relay);
  const cursorFile = join(dir, "cursor");
  const attempts = (): Attempt[] => {
    const text = existsSync(join(dir, "attempts")) ? readFileSync(join(dir, "attempts"), "utf8") : "";
    const complete = text.slice(0, text.lastIndexOf("\n") + 1);
    return complete.split("\n").filter((line) => line !== "").map((line) => JSON.parse(line) as Attempt);
  };
  return {
    dir,
    bob,
    alice,
    cursorFile,
    attempts,
    handled: () => attempts().filter((a) => a.ok).map((a) => a.id),
    env: (extra = {}) => ({
      CLAWTALK_URL: relay.url,
      CLAWTALK_API_KEY: bob.apiKey,
      CLAWTALK_CALLBACK: `"${process.execPath}" "${join(dir, "callback.mjs")}"`,
      CLAWTALK_CURSOR_FILE: cursorFile,
      CLAWTALK_INTERVAL: "1",
      POLL_DIR: dir,
      ...extra,
    }),
  };
}

/** Starts `bash client/poll.sh` in `cwd`, in its own process group, with a clean CLAWTALK_* env. */
function startPoll(cwd: string, env: Record<string, string>): Poller {
  const base: NodeJS.ProcessEnv = { ...process.env, HOME: cwd };
  for (const key of Object.keys(base)) if (key.startsWith("CLAWTALK_") || key === "XDG_CONFIG_HOME") delete base[key];
  const run = spawnCaptured("bash", [POLL_SH], { cwd, detached: true, env: { ...base, ...env } });
  const poller: Poller = {
    ...run,
    async terminate() {
      if (run.child.exitCode === null && run.child.signalCode === null) run.child.kill("SIGTERM");
      return within(run.exited, RUN_TIMEOUT_MS, "poll.sh to exit after SIGTERM");
    },
  };
  pollers.push(poller);
  return poller;
}

/** Runs poll.sh to its end (CLAWTALK_ONCE, or a run expected to exit by itself). */
async function runPoll(cwd: string, env: Record<string, string>): Promise<Exit & { stderr: string; stdout: string }> {
  const poller = startPoll(cwd, env);
  const exit = await within(poller.exited, RUN_TIMEOUT_MS, "poll.sh to exit");
  return { ...exit, stderr: poller.stderr(), stdout: poller.stdout() };
}

/** The lines poll.sh wrote to stderr. */
const lines = (text: string): string[] => text.split("\n").filter((line) => line !== "");

beforeAll(async () => {
  testRelay = await startTestRelay({ prefix: "clawtalk-poll-sh-relay-", vars: RELAY_VARS, startTimeoutMs: 60_000 });
});

// Each test starts with the shared relay serving, whatever happened before (it is never stopped
// on purpose, but a test must not depend on the ones before it).
beforeEach(async () => {
  const health = await fetch(`${testRelay.url}/health`, { signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) }).catch(() => null);
  if (!health?.ok) await testRelay.start();
}, 90_000);

afterEach(() => {
  for (const poller of pollers.splice(0)) killGroup(poller.child.pid);
});

afterAll(async () => {
  await testRelay?.cleanup();
  scratchDirs.removeAll();
}, 60_000);

// ---------------------------------------------------------------------------------------------

describe("poll.sh: messages reach the callback in order and are deleted only after it succeeded", () => {
  test("a CLAWTALK_ONCE run feeds each message to the callback as one JSON document, oldest first, and deletes it", async () => {
    const s = await scenario("once");
    const sent = [await send(s.alice, s.bob, "first"), await send(s.alice, s.bob, "second"), await send(s.alice, s.bob, "third")];
    expect(await inboxIds(s.bob)).toEqual(sent.map((m) => m.id));

    const run = await runPoll(s.dir, s.env({ CLAWTALK_ONCE: "1" }));
    expect(run, run.stderr).toMatchObject({ code: 0 });

    const attempts = s.attempts();
    expect(attempts.map((a) => a.id)).toEqual(sent.map((m) => m.id));
    expect(attempts.map((a) => a.payload)).toEqual(["first", "second", "third"]);
    expect(attempts.map((a) => a.ts)).toEqual(sent.map((m) => m.ts));
    expect(attempts.every((a) => a.ok)).toBe(true);
    expect(await inboxIds(s.bob)).toEqual([]);
    expect(readFileSync(s.cursorFile, "utf8").trim()).toBe(sent[2]!.ts);
  });

  test("the callback receives the whole stored envelope as one line of JSON", async () => {
    const s = await scenario("envelope");
    const sent = await send(s.alice, s.bob, "hello", { topic: "sync", correlationId: "corr-1" });
    const out = join(s.dir, "stdin-copy");

    const run = await runPoll(s.dir, s.env({ CLAWTALK_ONCE: "1", CLAWTALK_CALLBACK: 'cat >> "$POLL_DIR/stdin-copy"' }));
    expect(run, run.stderr).toMatchObject({ code: 0 });

    const text = readFileSync(out, "utf8");
    expect(text.endsWith("\n")).toBe(true);
    expect(lines(text)).toHaveLength(1);
    expect(JSON.parse(text)).toEqual({
      id: sent.id,
      ts: sent.ts,
      from: s.alice.name,
      to: s.bob.name,
      type: "notification",
      encrypted: false,
      payload: "hello",
      topic: "sync",
      correlationId: "corr-1",
      depth: 0, // no replyTo (SPEC §12)
      delivered: false, // the relay's mark: this fetch was the copy's first delivery (SPEC §11.1)
    });
  });

  test("a backlog longer than one page (50) is handled completely and in order", async () => {
    const s = await scenario("backlog");
    const sent: Sent[] = [];
    for (let i = 0; i < 56; i++) sent.push(await send(s.alice, s.bob, `m${i}`));

    const run = await runPoll(s.dir, s.env({ CLAWTALK_ONCE: "1", CLAWTALK_CALLBACK: 'cat >> "$POLL_DIR/stdin-copy"' }));
    expect(run, run.stderr).toMatchObject({ code: 0 });

    const seen = lines(readFileSync(join(s.dir, "stdin-copy"), "utf8")).map((line) => JSON.parse(line) as { id: string });
    expect(seen.map((m) => m.id)).toEqual(sent.map((m) => m.id));
    expect(await inboxIds(s.bob)).toEqual([]);
  });

  test("a failing callback leaves its message (and those after it) in the inbox, and poll.sh retries it until it succeeds", async () => {
    const s = await scenario("retry");
    writeFileSync(join(s.dir, "broken"), "");
    const [a, failing, c] = [await send(s.alice, s.bob, "a"), await send(s.alice, s.bob, "please fail"), await send(s.alice, s.bob, "c")];
    const poller = startPoll(s.dir, s.env());

    // Retried: at least two failed attempts on the same message.
    await vi.waitFor(
      () => expect(s.attempts().filter((x) => x.id === failing.id && !x.ok).length, "failed attempts on the failing message").toBeGreaterThanOrEqual(2),
      WAIT,
    );
    // Nothing after it was handled meanwhile, and only the handled message was deleted.
    expect(s.handled()).toEqual([a.id]);
    expect(await inboxIds(s.bob)).toEqual([failing.id, c.id]);
    expect(readFileSync(s.cursorFile, "utf8").trim()).toBe(a.ts);
    expect(poller.stderr()).toContain(`callback exited 1 on message ${failing.id}`);

    unlinkSync(join(s.dir, "broken"));
    await vi.waitFor(() => expect(s.handled(), "the retried message and the next one handled").toHaveLength(3), WAIT);
    expect(s.handled()).toEqual([a.id, failing.id, c.id]);
    await vi.waitFor(async () => expect(await inboxIds(s.bob), "the inbox").toEqual([]), WAIT);

    expect(await poller.terminate(), `poll.sh stderr:\n${poller.stderr()}`).toEqual({ code: 0, signal: null });
  });

  test("a CLAWTALK_ONCE run stops at a failing callback with status 1, leaving that message and the rest", async () => {
    const s = await scenario("oncefail");
    writeFileSync(join(s.dir, "broken"), "");
    const [a, failing, c] = [await send(s.alice, s.bob, "a"), await send(s.alice, s.bob, "fail here"), await send(s.alice, s.bob, "c")];

    const run = await runPoll(s.dir, s.env({ CLAWTALK_ONCE: "1" }));
    expect(run.code).toBe(1);
    expect(s.attempts().map((x) => [x.id, x.ok])).toEqual([
      [a.id, true],
      [failing.id, false],
    ]);
    expect(await inboxIds(s.bob)).toEqual([failing.id, c.id]);
  });

  test("CLAWTALK_DELETE=false leaves every message in the inbox; the cursor alone keeps them from repeating", async () => {
    const s = await scenario("nodelete");
    const first = [await send(s.alice, s.bob, "one"), await send(s.alice, s.bob, "two")];
    const env = s.env({ CLAWTALK_ONCE: "1", CLAWTALK_DELETE: "false" });

    expect((await runPoll(s.dir, env)).code).toBe(0);
    expect(s.handled()).toEqual(first.map((m) => m.id));
    expect(await inboxIds(s.bob)).toEqual(first.map((m) => m.id));

    expect((await runPoll(s.dir, env)).code).toBe(0);
    expect(s.handled()).toEqual(first.map((m) => m.id));

    const third = await send(s.alice, s.bob, "three");
    expect((await runPoll(s.dir, env)).code).toBe(0);
    expect(s.handled()).toEqual([...first, third].map((m) => m.id));
    expect(await inboxIds(s.bob)).toEqual([...first, third].map((m) => m.id));
  });
});

describe("poll.sh: the cursor file", () => {
  test("restarts (CLAWTALK_ONCE runs and long-running runs stopped with SIGTERM) continue with no repeat and no gap", async () => {
    const s = await scenario("cursor");
    // Deletion off, so a repeat would be visible: everything stays in the inbox.
    const onceEnv = s.env({ CLAWTALK_ONCE: "1", CLAWTALK_DELETE: "false" });
    const loopEnv = s.env({ CLAWTALK_DELETE: "false" });
    const sent: Sent[] = [];

    sent.push(await send(s.alice, s.bob, "m1"), await send(s.alice, s.bob, "m2"));
    expect((await runPoll(s.dir, onceEnv)).code).toBe(0);
    expect(s.handled()).toEqual(sent.map((m) => m.id));

    sent.push(await send(s.alice, s.bob, "m3"));
    let poller = startPoll(s.dir, loopEnv);
    await vi.waitFor(() => expect(s.handled(), "m3 handled").toHaveLength(3), WAIT);
    expect(await poller.terminate(), `poll.sh stderr:\n${poller.stderr()}`).toEqual({ code: 0, signal: null });

    sent.push(await send(s.alice, s.bob, "m4"), await send(s.alice, s.bob, "m5"));
    expect((await runPoll(s.dir, onceEnv)).code).toBe(0);
    expect(s.handled()).toEqual(sent.map((m) => m.id));

    sent.push(await send(s.alice, s.bob, "m6"));
    poller = startPoll(s.dir, loopEnv);
    sent.push(await send(s.alice, s.bob, "m7"));
    await vi.waitFor(() => expect(s.handled(), "m6 and m7 handled").toHaveLength(7), WAIT);
    expect(await poller.terminate(), `poll.sh stderr:\n${poller.stderr()}`).toEqual({ code: 0, signal: null });

    expect((await runPoll(s.dir, onceEnv)).code).toBe(0);
    expect(s.attempts().map((a) => a.id)).toEqual(sent.map((m) => m.id));
    expect(readFileSync(s.cursorFile, "utf8")).toBe(`${sent[6]!.ts}\n`);
    expect(await inboxIds(s.bob)).toEqual(sent.map((m) => m.id));
  });

  test("SIGTERM during a callback lets that message finish (deleted, cursor saved) and exits 0 before the next one", async () => {
    const s = await scenario("sigterm");
    const slow = await send(s.alice, s.bob, "slow one");
    const next = await send(s.alice, s.bob, "next");
    const poller = startPoll(s.dir, s.env());

    await vi.waitFor(() => expect(existsSync(join(s.dir, "slow-started")), "the slow callback started").toBe(true), WAIT);
    expect(await poller.terminate(), `poll.sh stderr:\n${poller.stderr()}`).toEqual({ code: 0, signal: null });

    expect(s.attempts().map((a) => [a.id, a.ok])).toEqual([[slow.id, true]]);
    expect(readFileSync(s.cursorFile, "utf8").trim()).toBe(slow.ts);
    expect(await inboxIds(s.bob)).toEqual([next.id]);
  });

  test("without CLAWTALK_CURSOR_FILE the cursor is kept in ~/.config/clawtalk/poll.cursor (directory 0700, file 0600)", async () => {
    const s = await scenario("home");
    const sent = await send(s.alice, s.bob, "x");
    const env = s.env({ CLAWTALK_ONCE: "1" });
    delete env.CLAWTALK_CURSOR_FILE;

    expect((await runPoll(s.dir, env)).code).toBe(0); // HOME is the scenario directory
    const path = join(s.dir, ".config", "clawtalk", "poll.cursor");
    expect(readFileSync(path, "utf8").trim()).toBe(sent.ts);
    expect(statSync(join(s.dir, ".config", "clawtalk")).mode & 0o777).toBe(0o700);
    expect(statSync(path).mode & 0o777).toBe(0o600);
  });

  test("XDG_CONFIG_HOME moves the default cursor to $XDG_CONFIG_HOME/clawtalk/poll.cursor", async () => {
    const s = await scenario("xdg");
    const sent = await send(s.alice, s.bob, "x");
    const xdg = join(s.dir, "xdg");
    const env = s.env({ CLAWTALK_ONCE: "1", XDG_CONFIG_HOME: xdg });
    delete env.CLAWTALK_CURSOR_FILE;

    expect((await runPoll(s.dir, env)).code).toBe(0);
    expect(readFileSync(join(xdg, "clawtalk", "poll.cursor"), "utf8").trim()).toBe(sent.ts);
    expect(existsSync(join(s.dir, ".config"))).toBe(false);
  });
});

describe("poll.sh: --help, and encrypted messages", () => {
  test("--help prints the usage, says encrypted messages arrive as ciphertext and points at clawtalk watch --exec", async () => {
    const run = spawnCaptured("bash", [POLL_SH, "--help"], { env: { PATH: process.env.PATH ?? "" } });
    expect(await within(run.exited, RUN_TIMEOUT_MS, "poll.sh --help")).toEqual({ code: 0, signal: null });
    expect(run.stdout()).toContain("Usage:");
    expect(run.stdout()).toContain("ciphertext");
    expect(run.stdout()).toMatch(/clawtalk watch .*--exec/);
    expect(run.stdout()).toContain("CLAWTALK_CURSOR_FILE");
    expect(run.stdout()).not.toMatch(/^#/m);
    expect(run.stderr()).toBe("");
  });

  test("an encrypted message reaches the callback as the relay stores it: the ciphertext, not decrypted", async () => {
    const s = await scenario("sealed");
    const ciphertext = randomBytes(48).toString("base64");
    const nonce = randomBytes(24).toString("base64");
    const reply = await call(s.alice, "POST", "/messages", { to: s.bob.name, type: "notification", encrypted: true, payload: ciphertext, nonce });
    expect(reply.status).toBe(201);
    expect((await runPoll(s.dir, s.env({ CLAWTALK_ONCE: "1" }))).code).toBe(0);
    expect(s.attempts().map((a) => a.payload)).toEqual([ciphertext]);
  });
});

describe("poll.sh: message content is data, never shell", () => {
  test("a payload full of shell metacharacters reaches the callback verbatim, creates no file and is not in the environment", async () => {
    const s = await scenario("shell");
    const payload = "$(touch pwned) `touch pwned2` \"; touch pwned3\n'single' \"double\" $HOME ${PATH} \\ | & ; < > * ?";
    const sent = await send(s.alice, s.bob, payload, { correlationId: "$(touch pwned4); `touch pwned5`" });
    const objectPayload = { "$(touch pwned6)": "`touch pwned7`\n\"; touch pwned8" };
    const reply = await call<{ id: string; ts: string }>(s.alice, "POST", "/messages", { to: s.bob.name, type: "request", encrypted: false, payload: objectPayload });
    expect(reply.status, reply.text).toBe(201);

    const run = await runPoll(
      s.dir,
      s.env({ CLAWTALK_ONCE: "1", CLAWTALK_CALLBACK: 'env >> "$POLL_DIR/environment"; cat >> "$POLL_DIR/stdin-copy"' }),
    );
    expect(run, run.stderr).toMatchObject({ code: 0 });

    const seen = lines(readFileSync(join(s.dir, "stdin-copy"), "utf8")).map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(seen).toHaveLength(2);
    expect(seen[0]).toMatchObject({ id: sent.id, payload, correlationId: "$(touch pwned4); `touch pwned5`" });
    expect(seen[1]).toMatchObject({ id: reply.body.id, payload: objectPayload });

    const pwned = (dir: string) => readdirSync(dir).filter((name) => name.startsWith("pwned"));
    expect(pwned(s.dir)).toEqual([]);
    expect(pwned(PROJECT_ROOT)).toEqual([]);
    expect(pwned(tmpdir())).toEqual([]);
    const environment = readFileSync(join(s.dir, "environment"), "utf8");
    expect(environment).not.toContain("touch pwned");
    expect(await inboxIds(s.bob)).toEqual([]);
  });
});

describe("poll.sh: long-polling and an unavailable relay", () => {
  test("a long-running poll.sh picks up a message sent while it waits, well before its interval would", async () => {
    const s = await scenario("longpoll");
    // An interval of 60 s: a message handled within seconds came through the held long-poll.
    const poller = startPoll(s.dir, s.env({ CLAWTALK_INTERVAL: "60" }));
    await untilSeenByRelay(s.bob); // its first poll found nothing and is held
    expect(poller.child.exitCode).toBeNull();

    const sent = await send(s.alice, s.bob, "while you wait");
    await vi.waitFor(() => expect(s.handled(), "the message picked up").toHaveLength(1), WAIT);
    expect(s.handled()).toEqual([sent.id]);
    expect(await poller.terminate(), `poll.sh stderr:\n${poller.stderr()}`).toEqual({ code: 0, signal: null });
  });

  test("SIGTERM while idle in a long-poll exits 0 at once, without waiting for the poll to end", async () => {
    const s = await scenario("idle");
    const poller = startPoll(s.dir, s.env({ CLAWTALK_INTERVAL: "60" }));
    await untilSeenByRelay(s.bob); // in its first long-poll
    // Well under the 30 s the long-poll would last.
    const exit = await within(poller.terminate(), 10_000, "poll.sh to stop");
    expect(exit, `poll.sh stderr:\n${poller.stderr()}`).toEqual({ code: 0, signal: null });
    expect(poller.stderr()).toBe("");
  });

  test("SIGTERM just before a long-poll starts (while a command before it runs) still exits 0 at once", async () => {
    const s = await scenario("prepoll");
    // An `rm` that holds up poll.sh's first call of it (the one just before its first long-poll)
    // for 3 s, so the SIGTERM lands while a foreground command runs and bash holds the trap.
    const bin = join(s.dir, "bin");
    mkdirSync(bin);
    writeFileSync(join(bin, "rm"), `#!/bin/sh\nif [ ! -e "$POLL_DIR/rm-held" ]; then : > "$POLL_DIR/rm-held"; sleep 3; fi\nexec /bin/rm "$@"\n`, { mode: 0o755 });
    const poller = startPoll(s.dir, s.env({ CLAWTALK_INTERVAL: "60", PATH: `${bin}:${process.env.PATH ?? ""}` }));
    await vi.waitFor(() => expect(existsSync(join(s.dir, "rm-held")), "poll.sh in its first rm").toBe(true), WAIT);
    // Well under the 30 s the long-poll would last (before the fix it waited the long-poll out).
    const exit = await within(poller.terminate(), 15_000, "poll.sh to stop");
    expect(exit, `poll.sh stderr:\n${poller.stderr()}`).toEqual({ code: 0, signal: null });
    expect(poller.stderr()).toBe("");
  });

  test("while the relay is stopped poll.sh keeps retrying, one stderr line per failure, and resumes after the relay restarts", async () => {
    const ownRelay = await startTestRelay({ prefix: "clawtalk-poll-sh-outage-", vars: RELAY_VARS, startTimeoutMs: 60_000 });
    try {
      const s = await scenario("outage", ownRelay);
      const before = await send(s.alice, s.bob, "before the outage");
      const poller = startPoll(s.dir, s.env());
      // Handled, deleted and the cursor saved: poll.sh is back to polling when the relay goes.
      await vi.waitFor(async () => {
        expect(s.handled(), "the first message handled").toEqual([before.id]);
        expect(await inboxIds(s.bob), "the inbox after its DELETE").toEqual([]);
        expect(existsSync(s.cursorFile) ? readFileSync(s.cursorFile, "utf8").trim() : null, "the saved cursor").toBe(before.ts);
      }, WAIT);

      await ownRelay.relay.stop();
      const failures = await vi.waitFor(() => {
        const failed = lines(poller.stderr());
        expect(failed.filter((line) => line.includes("relay unreachable")).length, "failed polls reported on stderr").toBeGreaterThanOrEqual(3);
        return failed;
      }, WAIT);
      expect(poller.child.exitCode).toBeNull();
      // One line per failure; the pause starts at CLAWTALK_INTERVAL (1 s) and doubles.
      for (const line of failures) expect(line).toMatch(/^poll\.sh: relay (unreachable \(.*\)|answered HTTP 5\d\d.*); retrying in \d+s$/);
      const delays = failures.map((line) => Number(/retrying in (\d+)s$/.exec(line)?.[1]));
      expect(delays).toEqual(delays.map((_, i) => Math.min(2 ** i, 60)));

      await ownRelay.start(); // same port, state directory and admin key
      const after = await send(s.alice, s.bob, "after the restart");
      await vi.waitFor(() => expect(s.handled(), "the message sent after the restart handled").toHaveLength(2), { ...WAIT, timeout: 90_000 });
      expect(s.handled()).toEqual([before.id, after.id]);
      await vi.waitFor(async () => expect(await inboxIds(s.bob), "the inbox").toEqual([]), WAIT);
      expect(await poller.terminate(), `poll.sh stderr:\n${poller.stderr()}`).toEqual({ code: 0, signal: null });
    } finally {
      for (const poller of pollers.splice(0)) killGroup(poller.child.pid);
      await ownRelay.cleanup();
    }
  }, 240_000);
});

describe("poll.sh: failures that end it", () => {
  test("a wrong API key exits with status 2 and one line on stderr, without running the callback", async () => {
    const s = await scenario("wrongkey");
    await send(s.alice, s.bob, "not for you");
    const run = await runPoll(s.dir, s.env({ CLAWTALK_API_KEY: `ct_${randomBytes(32).toString("base64url")}` }));
    expect(run.code).toBe(2);
    expect(lines(run.stderr)).toHaveLength(1);
    expect(run.stderr).toMatch(/^poll\.sh: .*401/);
    expect(s.attempts()).toEqual([]);
  });

  const badSettings: [string, Record<string, string | undefined>, RegExp][] = [
    ["no CLAWTALK_API_KEY", { CLAWTALK_API_KEY: undefined }, /CLAWTALK_API_KEY/],
    ["no CLAWTALK_CALLBACK", { CLAWTALK_CALLBACK: undefined }, /CLAWTALK_CALLBACK/],
    ["a CLAWTALK_INTERVAL that is not a whole number of seconds", { CLAWTALK_INTERVAL: "1; touch pwned" }, /CLAWTALK_INTERVAL/],
    ["a CLAWTALK_INTERVAL of 0", { CLAWTALK_INTERVAL: "0" }, /CLAWTALK_INTERVAL/],
    ["a CLAWTALK_DELETE that is neither true nor false", { CLAWTALK_DELETE: "maybe" }, /CLAWTALK_DELETE/],
    ["a CLAWTALK_URL that is not http(s)", { CLAWTALK_URL: "file:///etc/passwd" }, /CLAWTALK_URL/],
  ];
  test.each(badSettings)("%s exits with status 1 and one line naming the setting", async (_, change, message) => {
    const s = await scenario("settings");
    const env: Record<string, string> = s.env();
    for (const [key, value] of Object.entries(change)) {
      if (value === undefined) delete env[key];
      else env[key] = value;
    }
    const run = await runPoll(s.dir, env);
    expect(run.code).toBe(1);
    expect(lines(run.stderr)).toHaveLength(1);
    expect(run.stderr).toMatch(message);
    expect(readdirSync(s.dir).filter((name) => name.startsWith("pwned"))).toEqual([]);
  });

  /**
   * poll.sh, with `env` added, against a stand-in relay that answers every GET /messages with
   * `page` (the relay itself never serves such answers: it validates what it stores).
   */
  async function pollStandIn(prefix: string, page: string, env: Record<string, string> = {}) {
    const s = await scenario(prefix);
    const requests: string[] = [];
    const server: Server = createServer((request, response) => {
      requests.push(`${request.method} ${request.url}`);
      response.setHeader("Content-Type", "application/json");
      if (request.method === "GET" && request.url?.startsWith("/messages?")) {
        response.end(page);
      } else {
        response.statusCode = 404;
        response.end(JSON.stringify({ error: "Not found.", code: "NOT_FOUND" }));
      }
    });
    await new Promise<void>((listening) => server.listen(0, "127.0.0.1", listening));
    try {
      const address = server.address();
      const url = `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}`;
      const run = await runPoll(s.dir, s.env({ CLAWTALK_URL: url, ...env }));
      return { s, run, requests };
    } finally {
      await new Promise<void>((closed) => server.close(() => closed()));
    }
  }

  const message = (fields: Record<string, unknown>) => ({ id: "m1", ts: "2026-01-01T00:00:00.000Z", from: "x", to: "y", type: "notification", encrypted: false, payload: "p", ...fields });
  const page = (messages: unknown[]) => JSON.stringify({ messages, count: messages.length, hasMore: false });
  // A refused message ends poll.sh in either mode; an answer that is not a page ends only a
  // CLAWTALK_ONCE pass (a long-running poll.sh warns and retries, as for a relay error).
  const once = { CLAWTALK_ONCE: "1" };
  const untrusted: [string, string, RegExp, Record<string, string>][] = [
    ["an id with characters outside [A-Za-z0-9._:-]", page([message({ id: "../agents/x?y=1 $(touch pwned)" })]), /refusing a message whose id/, {}],
    ["an id ending in a newline", page([message({ id: "m1\n" })]), /refusing a message whose id/, {}],
    ["an id that is a number", page([message({ id: 42 })]), /refusing a message whose id/, {}],
    ["a message that is not an object", page([42]), /refusing a message whose id/, {}],
    ["a ts that is not ISO-8601 UTC", page([message({ ts: "yesterday $(touch pwned)" })]), /refusing message m1: its ts/, {}],
    ["messages that is not an array", JSON.stringify({ messages: "m1", count: 1 }), /not a page of messages/, once],
    ["a body that is not JSON", "<html>$(touch pwned)</html>", /not a page of messages/, once],
  ];
  test.each(untrusted)("a relay answer with %s is refused: no callback, no DELETE, no cursor, status 1", async (_, body, refusal, env) => {
    const { s, run, requests } = await pollStandIn("untrusted", body, env);
    expect(run.code).toBe(1);
    expect(lines(run.stderr)).toHaveLength(1);
    expect(run.stderr).toMatch(refusal);
    expect(s.attempts()).toEqual([]);
    expect(requests.length).toBeGreaterThan(0);
    expect(requests.every((r) => r.startsWith("GET /messages?"))).toBe(true);
    expect(existsSync(s.cursorFile)).toBe(false);
    expect(readdirSync(s.dir).filter((name) => name.startsWith("pwned"))).toEqual([]);
  });

  test("a page whose later message has a bad id: the messages before it are handled, then poll.sh stops at it", async () => {
    const good = message({ id: "m1", payload: "first" });
    const { s, run } = await pollStandIn("untrusted2", page([good, message({ id: "bad id", ts: "2026-01-01T00:00:01.000Z" })]));
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/refusing a message whose id/);
    expect(s.attempts().map((a) => a.payload)).toEqual(["first"]);
    expect(readFileSync(s.cursorFile, "utf8").trim()).toBe(good.ts);
  });
});
