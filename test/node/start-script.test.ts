// `npm start` (scripts/start.mjs → scripts/start.ts, SPEC §2 "Local mode", §8): one command runs a
// relay on 127.0.0.1:$PORT with state on disk in $CLAWTALK_STATE_DIR, prints a development admin
// key (generated once, kept in the state directory with mode 0600), passes limit variables from
// its environment to the relay, stops cleanly on SIGTERM, finds its state again next time, takes
// the relay with it when its whole process group is SIGKILLed, and refuses a port in use at once.

import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test, vi } from "vitest";
import type { ErrorBody } from "../../protocol/errors.js";
import { freePort, PROJECT_ROOT } from "../../scripts/local-relay.js";
import {
  livingProcesses,
  relayCaller,
  signalGroup,
  sleep,
  spawnCaptured,
  toolchainProcessesIn,
  uniqueName,
  type CapturedProcess,
} from "../support/node-relay.js";

const START_TIMEOUT_MS = 60_000;

interface Started extends CapturedProcess {
  adminKey: string;
}

let stateDir = "";
let port = 0;
let base = "";
const started: Started[] = [];

/** The environment of a start: this file's port and state directory, ADMIN_KEY unset. */
function startEnv(extraEnv: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, PORT: String(port), CLAWTALK_STATE_DIR: stateDir, npm_config_update_notifier: "false", ...extraEnv };
  delete env.ADMIN_KEY;
  return env;
}

/** `node scripts/start.mjs` (or `npm start` itself) in its own process group; answers once it serves. */
async function startScript(extraEnv: Record<string, string>, via: "node" | "npm" = "node"): Promise<Started> {
  const [command, args] = via === "npm" ? ["npm", ["start"]] : [process.execPath, [join(PROJECT_ROOT, "scripts/start.mjs")]];
  const record: Started = {
    ...spawnCaptured(command, args, { cwd: PROJECT_ROOT, detached: true, env: startEnv(extraEnv) }),
    adminKey: "",
  };
  started.push(record);

  let running = true;
  void record.exited.then(() => (running = false));
  const until = Date.now() + START_TIMEOUT_MS;
  while (Date.now() < until) {
    if (!running) throw new Error(`npm start exited during start-up:\n${record.output()}`);
    const key = /Admin key \(development\): (\S+)/.exec(record.output())?.[1];
    if (key) {
      const health = await fetch(`${base}/health`, { signal: AbortSignal.timeout(5_000) }).catch(() => null);
      if (health?.ok) {
        for (const p of relayProcesses()) relayGroups.add(p.pgid);
        record.adminKey = key;
        return record;
      }
    }
    await sleep(100);
  }
  throw new Error(`npm start did not serve ${base}/health within ${START_TIMEOUT_MS} ms:\n${record.output()}`);
}

const call = relayCaller(() => base, { timeoutMs: 15_000 });

/** How a TCP connection to 127.0.0.1:`port` ends: "open", or the error code (ECONNREFUSED, ...). */
function connectOutcome(): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1");
    socket.setTimeout(5_000, () => {
      socket.destroy();
      resolve("timeout");
    });
    socket.once("connect", () => {
      socket.destroy();
      resolve("open");
    });
    socket.once("error", (error: NodeJS.ErrnoException) => resolve(error.code ?? String(error)));
  });
}

/** wrangler (with its supervisor) and workerd started for this test's port (in a process group of their own). */
function relayProcesses() {
  return [...livingProcesses("wrangler", "--persist-to", stateDir), ...livingProcesses("workerd", `127.0.0.1:${port}`)];
}

/** Process groups of the relays this file started (wrangler's group holds every workerd it runs). */
const relayGroups = new Set<number>();

function processesOfRelayGroups() {
  // Only our toolchain's binaries count (guards against a process group id reused by someone else).
  return toolchainProcessesIn(relayGroups);
}

const textMessage = (to: string, payload: string) => ({ to, type: "notification", encrypted: false, payload });

interface Registration {
  name: string;
  apiKey: string;
}

let recipient = { name: "", apiKey: "" };
let sender = { name: "", apiKey: "" };

beforeAll(async () => {
  stateDir = mkdtempSync(join(tmpdir(), "clawtalk-start-"));
  port = await freePort();
  base = `http://127.0.0.1:${port}`;
});

afterAll(async () => {
  // The start scripts' groups, then wrangler's own group (start.ts spawns it detached), by id.
  for (const run of started) {
    if (run.child.pid === undefined) continue;
    signalGroup(run.child.pid, "SIGTERM");
    const done = await Promise.race([run.exited.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 15_000))]);
    if (!done) signalGroup(run.child.pid, "SIGKILL");
  }
  for (const leftover of relayProcesses()) relayGroups.add(leftover.pgid);
  for (const pgid of new Set(processesOfRelayGroups().map((p) => p.pgid))) signalGroup(pgid, "SIGKILL");
  if (stateDir) rmSync(stateDir, { recursive: true, force: true });
}, 60_000);

describe("npm start: a local relay with on-disk state and a development admin key", () => {
  test("it prints an admin key that works on admin routes and stores it in <state>/admin-key with mode 0600", async () => {
    const run = await startScript({ RATE_LIMIT_PER_MIN: "2" });
    expect(run.adminKey).toMatch(/^adm_[A-Za-z0-9_-]{20,}$/);
    expect(run.output()).toContain(base);

    const file = join(stateDir, "admin-key");
    expect(readFileSync(file, "utf8").trim()).toBe(run.adminKey);
    expect(statSync(file).mode & 0o777).toBe(0o600);

    const name = uniqueName("start_rcpt");
    const created = await call<Registration>("POST", "/agents", run.adminKey, { name });
    expect(created.status, created.text).toBe(201);
    expect(created.body.name).toBe(name);
    expect(created.body.apiKey).toMatch(/^ct_/);
    recipient = { name, apiKey: created.body.apiKey };

    const wrongKey = await call<ErrorBody>("POST", "/agents", `${run.adminKey}x`, { name: uniqueName("start_x") });
    expect(wrongKey.status).toBe(401);
    expect(wrongKey.body.code).toBe("UNAUTHORIZED");
  });

  test("a limit variable in its environment reaches the relay (RATE_LIMIT_PER_MIN=2: the third send in a row is 429)", async () => {
    const admin = started[0]!.adminKey;
    const created = await call<Registration>("POST", "/agents", admin, { name: uniqueName("start_sndr") });
    expect(created.status, created.text).toBe(201);
    sender = { name: created.body.name, apiKey: created.body.apiKey };

    const first = await call("POST", "/messages", sender.apiKey, textMessage(recipient.name, "one"));
    const second = await call("POST", "/messages", sender.apiKey, textMessage(recipient.name, "two"));
    const third = await call<ErrorBody>("POST", "/messages", sender.apiKey, textMessage(recipient.name, "three"));
    expect([first.status, second.status, third.status]).toEqual([201, 201, 429]);
    expect(third.body.code).toBe("RATE_LIMITED");
    expect(Number(third.headers.get("Retry-After"))).toBeGreaterThanOrEqual(1);
  });

  test("SIGTERM to the start process stops the relay and leaves no workerd serving the port", async () => {
    const run = started[0]!;
    expect(livingProcesses("workerd", `127.0.0.1:${port}`).length).toBeGreaterThan(0);
    process.kill(run.child.pid!, "SIGTERM");
    const exit = await Promise.race([run.exited, new Promise<null>((r) => setTimeout(() => r(null), 20_000))]);
    expect(exit, "npm start exits within 20 s of SIGTERM").not.toBeNull();
    expect(exit!.code).toBe(0);

    expect(relayGroups.size).toBeGreaterThan(0);
    await vi.waitFor(() => expect([...relayProcesses(), ...processesOfRelayGroups()], "wrangler and workerd still running").toEqual([]), {
      timeout: 10_000,
      interval: 100,
    });
    await expect(fetch(`${base}/health`, { signal: AbortSignal.timeout(5_000) })).rejects.toThrow();
  });

  test("a second start on the same state directory prints the same admin key and still has the agents and messages", async () => {
    const first = started[0]!;
    const run = await startScript({});
    expect(run.adminKey).toBe(first.adminKey);

    const record = await call<{ name: string }>("GET", `/agents/${recipient.name}`, run.adminKey);
    expect(record.status, record.text).toBe(200);
    expect(record.body.name).toBe(recipient.name);

    // The agent's key still works, and the two messages sent before the restart are there.
    const inbox = await call<{ messages: { payload: unknown }[] }>("GET", "/messages?sort=asc", recipient.apiKey);
    expect(inbox.status, inbox.text).toBe(200);
    expect(inbox.body.messages.map((m) => m.payload)).toEqual(["one", "two"]);
  });

  test("a start on a port already in use fails at once with 'address already in use', starting no wrangler, and the running relay keeps serving", async () => {
    const running = started.at(-1)!;
    const relayPidsBefore = relayProcesses().map((p) => p.pid).sort();
    const second = spawnCaptured(process.execPath, [join(PROJECT_ROOT, "scripts/start.mjs")], { cwd: PROJECT_ROOT, detached: true, env: startEnv() });
    started.push({ ...second, adminKey: "" });
    const exit = await Promise.race([second.exited, new Promise<null>((r) => setTimeout(() => r(null), 30_000))]);
    expect(exit, `the second start exits by itself:\n${second.output()}`).not.toBeNull();
    expect(exit!.code).toBe(1);
    expect(second.stderr()).toContain(`127.0.0.1:${port}: address already in use`);
    expect(second.output()).not.toContain("relay running at");
    // Refused before wrangler was started: the relay processes are the running relay's, unchanged.
    expect(relayProcesses().map((p) => p.pid).sort()).toEqual(relayPidsBefore);
    expect((await call("GET", `/agents/${recipient.name}`, running.adminKey)).status).toBe(200);
  });

  test("SIGKILL to npm start's whole process group stops the relay: the port refuses connections, and a start on the same port and state works", async () => {
    // Stop the relay of the tests before, then run one under `npm start` itself.
    const previous = started.filter((r) => r.adminKey !== "").at(-1)!;
    signalGroup(previous.child.pid, "SIGTERM");
    await previous.exited;
    await vi.waitFor(async () => expect(await connectOutcome(), "127.0.0.1 after the stop").toBe("ECONNREFUSED"), { timeout: 30_000, interval: 200 });

    const run = await startScript({}, "npm");
    expect(run.adminKey).toBe(started[0]!.adminKey);
    expect(await connectOutcome()).toBe("open");
    signalGroup(run.child.pid, "SIGKILL"); // npm is its group's leader: npm, sh, start.mjs and start.ts die at once
    await vi.waitFor(async () => expect(await connectOutcome(), "127.0.0.1 after the SIGKILL").toBe("ECONNREFUSED"), {
      timeout: 30_000,
      interval: 200,
    });
    await vi.waitFor(() => expect([...relayProcesses(), ...processesOfRelayGroups()], "relay processes left").toEqual([]), {
      timeout: 15_000,
      interval: 200,
    });

    const again = await startScript({});
    expect(again.adminKey).toBe(started[0]!.adminKey);
    const record = await call<{ name: string }>("GET", `/agents/${recipient.name}`, again.adminKey);
    expect(record.status, record.text).toBe(200);
    expect(record.body.name).toBe(recipient.name);
  });
});
