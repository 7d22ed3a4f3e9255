// Helpers for the Node-side tests (test/node, test/browser): plain HTTP against a relay, a local
// `wrangler dev` relay on a temporary state directory, and the processes it leaves behind. (Polling:
// vitest's vi.waitFor, as everywhere in the tests.)
// Tests inside workerd use test/support/relay.ts instead.
//
// Relays run in process groups of their own (scripts/local-relay.ts). Cleanup ends what is left of
// those groups by process id, and only processes of our own toolchain: a process group id can be
// reused by someone else once the group is gone.

import { spawn, type ChildProcess, type SpawnOptions } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort, PROJECT_ROOT, startLocalRelay, type LocalRelay } from "../../scripts/local-relay.js";
import type { Receiver, ScriptedResponse, Received } from "./receiver.js";

// ---------------------------------------------------------------------------------------------
// HTTP

export interface Reply<T = unknown> {
  status: number;
  headers: Headers;
  /**
   * The parsed JSON body; undefined when the body is empty or not JSON. Typed as the caller says
   * (`call<Registration>(...)`), else unknown.
   */
  body: T;
  text: string;
}

export interface CallOptions {
  /** Sent as `Authorization: Bearer <key>`; none when null or absent. */
  key?: string | null;
  /** Sent as the JSON body (with Content-Type: application/json). */
  json?: unknown;
  headers?: Record<string, string>;
  /** Per-request timeout (default 10 s); ignored when `signal` is given. */
  timeoutMs?: number;
  signal?: AbortSignal;
}

/** One request to `baseUrl + path`; the whole body is read, and parsed when it is JSON. */
export async function httpCall<T = unknown>(baseUrl: string, method: string, path: string, options: CallOptions = {}): Promise<Reply<T>> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.key) headers.Authorization = `Bearer ${options.key}`;
  if (options.json !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch(`${baseUrl}${path}`, {
    method,
    headers,
    ...(options.json === undefined ? {} : { body: JSON.stringify(options.json) }),
    signal: options.signal ?? AbortSignal.timeout(options.timeoutMs ?? 10_000),
  });
  const text = await response.text();
  let body: unknown;
  try {
    body = text === "" ? undefined : JSON.parse(text);
  } catch {
    body = undefined;
  }
  return { status: response.status, headers: response.headers, body: body as T, text };
}

export type Call = <T = unknown>(method: string, path: string, key: string | null, json?: unknown) => Promise<Reply<T>>;

/**
 * `call(method, path, key, json?)` against one relay. `baseUrl` may be a function, for files that
 * restart their relay; `defaults` (timeout, abort signal) apply to every call.
 */
export function relayCaller(baseUrl: string | (() => string), defaults: Pick<CallOptions, "timeoutMs" | "signal"> = {}): Call {
  return <T = unknown>(method: string, path: string, key: string | null, json?: unknown) =>
    httpCall<T>(typeof baseUrl === "string" ? baseUrl : baseUrl(), method, path, { ...defaults, key, json });
}

export function uniqueName(prefix: string, randomByteCount = 6): string {
  return `${prefix}_${randomBytes(randomByteCount).toString("hex")}`;
}

export const randomAdminKey = (): string => `adm_${randomBytes(24).toString("base64url")}`;

export interface RegisteredAgent {
  name: string;
  apiKey: string;
  webhookSecret: string;
}

/** POST /agents with the relay's admin key; anything but 201 throws (setup, not an assertion). */
export async function registerAgent(
  relay: { url: string; adminKey: string },
  name: string,
  fields: Record<string, unknown> = {},
  options: Pick<CallOptions, "timeoutMs" | "signal"> = {},
): Promise<RegisteredAgent> {
  const reply = await httpCall<RegisteredAgent>(relay.url, "POST", "/agents", { ...options, key: relay.adminKey, json: { name, ...fields } });
  if (reply.status !== 201) throw new Error(`register ${name}: ${reply.status} ${reply.text}`);
  const { apiKey, webhookSecret } = reply.body;
  return { name: reply.body.name, apiKey, webhookSecret };
}

// ---------------------------------------------------------------------------------------------
// Waiting

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** `promise`, or a failure naming `what` if it has not settled within `ms`. */
export async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

// ---------------------------------------------------------------------------------------------
// Processes

export interface LivingProcess {
  pid: number;
  pgid: number;
  command: string;
}

/** Live (non-zombie) processes whose command line contains every one of `parts`. */
export function livingProcesses(...parts: string[]): LivingProcess[] {
  const found: LivingProcess[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const command = readFileSync(`/proc/${entry}/cmdline`, "utf8").split("\0").join(" ").trim();
      if (!parts.every((part) => command.includes(part))) continue;
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      if (fields[0] === "Z") continue;
      found.push({ pid: Number(entry), pgid: Number(fields[2]), command });
    } catch {
      // the process ended while we looked
    }
  }
  return found;
}

/** Live processes of our toolchain (wrangler, workerd: binaries under node_modules) in these process groups. */
export function toolchainProcessesIn(pgids: Iterable<number>): LivingProcess[] {
  const groups = new Set(pgids);
  return livingProcesses(join(PROJECT_ROOT, "node_modules")).filter((p) => groups.has(p.pgid));
}

export function signalGroup(pgid: number | undefined, signal: NodeJS.Signals): void {
  if (pgid === undefined) return;
  try {
    process.kill(-pgid, signal);
  } catch {
    // the group is already gone
  }
}

/** SIGKILL to a whole process group (a child spawned detached: its pid is the group id). */
export function killGroup(pid: number | undefined): void {
  signalGroup(pid, "SIGKILL");
}

/** SIGKILL, by process id, to whatever of our toolchain is still alive in these process groups. */
export function killToolchainLeftovers(pgids: Iterable<number>): void {
  for (const leftover of toolchainProcessesIn(pgids)) {
    try {
      process.kill(leftover.pid, "SIGKILL");
    } catch {
      // already gone
    }
  }
}

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface CapturedProcess {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** stdout and stderr interleaved as they arrived. */
  output(): string;
  /** Settles when the process exits (its output may still be arriving from other holders of the pipes). */
  exited: Promise<Exit>;
}

/** Spawns with stdout and stderr captured (stdin ignored unless `options.stdio` says otherwise). */
export function spawnCaptured(command: string, args: string[], options: SpawnOptions = {}): CapturedProcess {
  const child = spawn(command, args, { stdio: ["ignore", "pipe", "pipe"], ...options });
  let stdout = "";
  let stderr = "";
  let output = "";
  child.stdout?.on("data", (chunk: Buffer) => {
    stdout += chunk.toString();
    output += chunk.toString();
  });
  child.stderr?.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
    output += chunk.toString();
  });
  const exited = new Promise<Exit>((done) => child.once("exit", (code, signal) => done({ code, signal })));
  return { child, stdout: () => stdout, stderr: () => stderr, output: () => output, exited };
}

// ---------------------------------------------------------------------------------------------
// Temporary directories

export interface TempDirs {
  /** A new empty directory under the system's temporary directory, named `<prefix>XXXXXX`. */
  make(prefix: string): string;
  /** Removes every directory made (for afterAll). */
  removeAll(): void;
}

/** The temporary directories of one test file. */
export function tempDirs(): TempDirs {
  const made: string[] = [];
  return {
    make(prefix) {
      const dir = mkdtempSync(join(tmpdir(), prefix));
      made.push(dir);
      return dir;
    },
    removeAll() {
      for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
    },
  };
}

// ---------------------------------------------------------------------------------------------
// A local relay on a temporary state directory

export interface TestRelayOptions {
  /** Prefix of the temporary state directory's name. */
  prefix: string;
  vars?: Record<string, string>;
  /** Default: a random `adm_...` key. */
  adminKey?: string;
  startTimeoutMs?: number;
}

export interface TestRelay {
  stateDir: string;
  port: number;
  url: string;
  adminKey: string;
  /** Starts a relay (again) on the same port, state directory, admin key and variables. */
  start(): Promise<LocalRelay>;
  /** Every relay started, in order. */
  started: LocalRelay[];
  /** The relay started last. */
  readonly relay: LocalRelay;
  /** Stops every relay started, ends what is left of their process groups, removes the state directory. */
  cleanup(): Promise<void>;
}

/** A state directory, a port and an admin key for a relay; nothing is started yet. */
export async function prepareTestRelay(options: TestRelayOptions): Promise<TestRelay> {
  const stateDir = mkdtempSync(join(tmpdir(), options.prefix));
  const port = await freePort();
  const adminKey = options.adminKey ?? randomAdminKey();
  const started: LocalRelay[] = [];
  return {
    stateDir,
    port,
    url: `http://127.0.0.1:${port}`,
    adminKey,
    started,
    get relay() {
      const last = started.at(-1);
      if (!last) throw new Error("no relay started yet");
      return last;
    },
    async start() {
      const relay = await startLocalRelay({
        port,
        stateDir,
        adminKey,
        ...(options.vars ? { vars: options.vars } : {}),
        ...(options.startTimeoutMs ? { startTimeoutMs: options.startTimeoutMs } : {}),
      });
      started.push(relay);
      return relay;
    },
    async cleanup() {
      for (const relay of started) await relay.stop();
      // Anything still alive from the relays' process groups (workerd included) is ours: end it by id.
      killToolchainLeftovers(started.map((relay) => relay.pid));
      rmSync(stateDir, { recursive: true, force: true });
    },
  };
}

/** prepareTestRelay, then start. */
export async function startTestRelay(options: TestRelayOptions): Promise<TestRelay> {
  const testRelay = await prepareTestRelay(options);
  try {
    await testRelay.start();
  } catch (error) {
    await testRelay.cleanup();
    throw error;
  }
  return testRelay;
}

// ---------------------------------------------------------------------------------------------
// The webhook receiver's control API (test/support/receiver.ts)

/** How the receiver answers deliveries to `box`: `responses` in turn, then `otherwise`. */
export async function scriptReceiver(receiver: Receiver, box: string, otherwise: ScriptedResponse, responses: ScriptedResponse[] = []): Promise<void> {
  const response = await fetch(`http://127.0.0.1:${receiver.port}/_script/${box}`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ responses, otherwise }),
    signal: AbortSignal.timeout(10_000),
  });
  if (!response.ok) throw new Error(`script ${box}: ${response.status}`);
}

/** Every delivery the receiver got for `box`, in arrival order. */
export async function receivedLog(receiver: Receiver, box: string): Promise<Received[]> {
  const response = await fetch(`http://127.0.0.1:${receiver.port}/_log/${box}`, { signal: AbortSignal.timeout(10_000) });
  return (await response.json()) as Received[];
}
