// Starts and stops a local relay: `wrangler dev` on 127.0.0.1 with on-disk state, offline. Used by
// `npm start`, the Node-side tests and the benchmarks, so they all run the relay the same way.
//
// wrangler runs in a process group of its own, under scripts/relay-supervisor.mjs (the group's
// leader), and is stopped by signalling the whole group: signals sent to wrangler alone do not
// reach workerd, which would keep serving the port. The supervisor also stops the group when the
// process that started it ends for any reason (even a SIGKILL of that process's whole group), so
// no relay outlives its owner. A start on a port something already listens on fails at once.

import { spawn, type ChildProcess } from "node:child_process";
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { createServer, Socket } from "node:net";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const PROJECT_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");

/** Keeps wrangler off the network: no metrics, no update check, no Request.cf download. */
export const OFFLINE_ENV = {
  WRANGLER_SEND_METRICS: "false",
  WRANGLER_HIDE_BANNER: "true",
  CLOUDFLARE_CF_FETCH_ENABLED: "false",
  WRANGLER_SEND_ERROR_REPORTS: "false",
};

export interface LocalRelayOptions {
  port: number;
  stateDir: string;
  adminKey: string;
  /** Relay variables (limits, ALLOW_PRIVATE_WEBHOOKS, ...), written to the env file wrangler reads. */
  vars?: Record<string, string>;
  logLevel?: "debug" | "info" | "log" | "warn" | "error" | "none";
  /** Inherit the terminal (npm start), or capture output (tests, benchmarks). */
  stdio?: "inherit" | "pipe";
  startTimeoutMs?: number;
  /** Another wrangler configuration (the benchmark's empty baseline Worker). */
  configPath?: string;
  /** Path answering 200 once the Worker is up (default /health). */
  readyPath?: string;
}

export interface LocalRelay {
  url: string;
  /** wrangler's devtools port (CPU profiles, heap usage: bench/inspector.ts). */
  inspectorPort: number;
  adminKey: string;
  /** The supervisor's pid, which is also the relay's process group id. */
  pid: number;
  /** Output so far, when started with stdio "pipe". */
  output(): string;
  /** Clean shutdown (SIGINT to the process group), escalating to SIGKILL after 10 s; resolves once the group is empty and (if it was running) the port can be bound again. */
  stop(): Promise<void>;
  /** A crash: SIGKILL to the whole process group at once; resolves once the group is empty and (if it was running) the port can be bound again. */
  kill(): Promise<void>;
  /** The supervisor's exit: wrangler's exit status. */
  exited: Promise<number | null>;
}

export async function freePort(): Promise<number> {
  // Not a port from the kernel's ephemeral range (listen on port 0): the kernel hands a closed
  // port out again soon (7 times in 300 calls here), so a relay killed and restarted on its port
  // could find it taken by another process's next ephemeral socket. Below that range, a random
  // port that binds now, never the same one twice in this process (a relay's port and its
  // inspector's are chosen one after the other and bound later).
  const below = ephemeralLow();
  for (;;) {
    const port = PORT_FLOOR + Math.floor(Math.random() * (below - PORT_FLOOR));
    if (handedOut.has(port) || !(await bindable(port))) continue;
    handedOut.add(port);
    return port;
  }
}

const PORT_FLOOR = 20_000;
const handedOut = new Set<number>();

/** The first port of the kernel's ephemeral range (Linux; 32768 where it cannot be read). */
function ephemeralLow(): number {
  try {
    const low = Number(readFileSync("/proc/sys/net/ipv4/ip_local_port_range", "utf8").trim().split(/\s+/)[0]);
    return Number.isInteger(low) && low > PORT_FLOOR + 1000 ? low : 32_768;
  } catch {
    return 32_768;
  }
}

function bindable(port: number): Promise<boolean> {
  return new Promise((resolveBindable) => {
    const server = createServer();
    server.once("error", () => resolveBindable(false));
    server.listen({ port, host: "127.0.0.1", exclusive: true }, () => server.close(() => resolveBindable(true)));
  });
}

/** A start refused because something already listens on the port (an orphaned relay, say). */
export class AddressInUseError extends Error {
  constructor(readonly port: number) {
    super(`127.0.0.1:${port}: address already in use (is another relay running? stop it or choose another PORT)`);
  }
}

/**
 * Fails with AddressInUseError when 127.0.0.1:`port` cannot be bound. Checked before wrangler is
 * started: a relay left running there would answer /health as if it were the new one.
 */
export async function assertPortFree(port: number): Promise<void> {
  await new Promise<void>((resolvePort, reject) => {
    const server = createServer();
    server.once("error", (error: NodeJS.ErrnoException) => reject(error.code === "EADDRINUSE" ? new AddressInUseError(port) : error));
    server.listen({ port, host: "127.0.0.1", exclusive: true }, () => server.close(() => resolvePort()));
  });
}

const SUPERVISOR = join(PROJECT_ROOT, "scripts/relay-supervisor.mjs");

/** Whether a live (non-zombie) process is left in process group `pgid`. */
function groupAlive(pgid: number): boolean {
  let entries: string[];
  try {
    entries = readdirSync("/proc");
  } catch {
    // No /proc: ask the kernel (which also counts zombies).
    try {
      process.kill(-pgid, 0);
      return true;
    } catch {
      return false;
    }
  }
  return entries.some((entry) => {
    if (!/^\d+$/.test(entry)) return false;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const [state, , group] = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      return state !== "Z" && Number(group) === pgid;
    } catch {
      return false; // ended while we looked
    }
  });
}

/**
 * Resolves once the relay's process group is empty (at most 10 s): a SIGKILLed workerd can hold
 * the port a moment after its parents are gone, and a restart on the same port must find it free.
 */
async function untilGroupGone(pgid: number): Promise<void> {
  for (const until = Date.now() + 10_000; Date.now() < until && groupAlive(pgid); ) {
    await new Promise((resolveWait) => setTimeout(resolveWait, 25));
  }
}

/**
 * Resolves once 127.0.0.1:`port` can be bound again (at most 10 s). An empty process group is not
 * enough: a SIGKILLed workerd's listener can outlive the moment its group looks empty (most likely
 * a zombie leader whose threads are still ending), so a restart straight after a kill could find
 * the port "in use" (1 in 8 kills of a relay that had just answered requests, here; by the time
 * `ss` looked, the listener was gone).
 */
async function untilPortFree(port: number): Promise<void> {
  for (const until = Date.now() + 10_000; Date.now() < until && !(await bindable(port)); ) {
    await new Promise((resolveWait) => setTimeout(resolveWait, 25));
  }
}

export async function startLocalRelay(options: LocalRelayOptions): Promise<LocalRelay> {
  await assertPortFree(options.port);
  mkdirSync(options.stateDir, { recursive: true });
  const envFile = join(options.stateDir, "relay.env");
  const vars = { ALLOW_PRIVATE_WEBHOOKS: "true", ...options.vars, ADMIN_KEY: options.adminKey };
  writeFileSync(envFile, Object.entries(vars).map(([k, v]) => `${k}=${v}\n`).join(""), { mode: 0o600 });
  const inspectorPort = await freePort();
  const args = [
    "dev",
    "--ip", "127.0.0.1",
    "--port", String(options.port),
    "--persist-to", join(options.stateDir, "wrangler"),
    "--env-file", envFile,
    "--log-level", options.logLevel ?? "warn",
    "--show-interactive-dev-session=false",
    // Its own devtools port: the default (9229) clashes when several relays run at once.
    "--inspector-port", String(inspectorPort),
    ...(options.configPath ? ["--config", options.configPath] : []),
  ];
  // stdin is the pipe the supervisor watches: this process holds its only writing end, so it
  // closes when this process ends. Unreferenced, so it never keeps this process alive.
  const child: ChildProcess = spawn(process.execPath, [SUPERVISOR, join(PROJECT_ROOT, "node_modules/.bin/wrangler"), ...args], {
    cwd: PROJECT_ROOT,
    detached: true,
    stdio: options.stdio === "inherit" ? ["pipe", "inherit", "inherit"] : ["pipe", "pipe", "pipe"],
    env: { ...process.env, ...OFFLINE_ENV },
  });
  if (child.stdin instanceof Socket) child.stdin.unref();
  let output = "";
  child.stdout?.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on("data", (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((done) => child.once("exit", (code) => done(code)));
  let running = true;
  void exited.then(() => {
    running = false;
    child.stdin?.destroy();
  });
  const pid = child.pid!;
  const url = `http://127.0.0.1:${options.port}`;

  const signalGroup = (signal: NodeJS.Signals) => {
    try {
      process.kill(-pid, signal);
    } catch {
      // the group is already gone
    }
  };
  const relay: LocalRelay = {
    url,
    inspectorPort,
    adminKey: options.adminKey,
    pid,
    output: () => output,
    exited,
    // Only a relay that was running still holds the port: one stopped before may have been
    // restarted on it since (another LocalRelay), and waiting for that one would only time out.
    async stop() {
      const wasRunning = running;
      if (running) {
        signalGroup("SIGINT");
        const timer = setTimeout(() => signalGroup("SIGKILL"), 10_000);
        await exited;
        clearTimeout(timer);
        signalGroup("SIGKILL"); // anything of the group still alive (workerd)
      }
      await untilGroupGone(pid);
      if (wasRunning) await untilPortFree(options.port);
    },
    async kill() {
      const wasRunning = running;
      signalGroup("SIGKILL");
      await exited;
      await untilGroupGone(pid);
      if (wasRunning) await untilPortFree(options.port);
    },
  };

  const deadline = Date.now() + (options.startTimeoutMs ?? 60_000);
  while (Date.now() < deadline) {
    if (!running) throw new Error(`wrangler dev exited during start-up:\n${output}`);
    // Someone took the port after the check above: whatever answers there is not this relay.
    if (/address already in use|EADDRINUSE/i.test(output)) {
      await relay.kill();
      throw new AddressInUseError(options.port);
    }
    try {
      const response = await fetch(`${url}${options.readyPath ?? "/health"}`);
      if (response.ok) return relay;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  await relay.kill();
  throw new Error(`wrangler dev did not answer on ${url} within the start timeout:\n${output}`);
}
