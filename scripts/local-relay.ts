// Starts and stops a local relay: `wrangler dev` on 127.0.0.1 with on-disk state, offline. Used by
// `npm start`, the Node-side tests and the benchmarks, so they all run the relay the same way.
//
// wrangler runs in its own process group (detached), and is stopped by signalling the whole
// group: signals sent to wrangler alone do not reach workerd, which would keep serving the port.

import { spawn, type ChildProcess } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
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
  pid: number;
  /** Output so far, when started with stdio "pipe". */
  output(): string;
  /** Clean shutdown (SIGINT to the process group), escalating to SIGKILL after 10 s. */
  stop(): Promise<void>;
  /** A crash: SIGKILL to the whole process group at once. */
  kill(): Promise<void>;
  exited: Promise<number | null>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => (typeof address === "object" && address ? resolvePort(address.port) : reject(new Error("no port"))));
    });
  });
}

export async function startLocalRelay(options: LocalRelayOptions): Promise<LocalRelay> {
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
  const child: ChildProcess = spawn(join(PROJECT_ROOT, "node_modules/.bin/wrangler"), args, {
    cwd: PROJECT_ROOT,
    detached: true,
    stdio: options.stdio === "inherit" ? ["ignore", "inherit", "inherit"] : ["ignore", "pipe", "pipe"],
    env: { ...process.env, ...OFFLINE_ENV },
  });
  let output = "";
  child.stdout?.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on("data", (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((done) => child.once("exit", (code) => done(code)));
  let running = true;
  void exited.then(() => (running = false));
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
    async stop() {
      if (!running) return;
      signalGroup("SIGINT");
      const timer = setTimeout(() => signalGroup("SIGKILL"), 10_000);
      await exited;
      clearTimeout(timer);
      signalGroup("SIGKILL"); // anything of the group still alive (workerd)
    },
    async kill() {
      signalGroup("SIGKILL");
      await exited;
    },
  };

  const deadline = Date.now() + (options.startTimeoutMs ?? 60_000);
  while (Date.now() < deadline) {
    if (!running) throw new Error(`wrangler dev exited during start-up:\n${output}`);
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
