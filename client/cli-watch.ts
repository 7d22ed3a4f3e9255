// `clawtalk watch --exec CMD`: hands each new message to a command, acks it once the command
// succeeded, and keeps a cursor file so a restart neither repeats nor skips a message.
//
// The message reaches CMD only as JSON on its stdin. It is never put on a command line or in the
// environment: whatever a sender writes ("$(rm -rf ~)", backquotes, quotes) stays data.

import { spawn } from "node:child_process";
import { existsSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { ClawTalkError, type CursorStore, type ReceivedMessage } from "./client.js";
import { agentCursorFile, ensureAgentFilesDir } from "./agent-files.js";
import { agentSession, describeFailure, UsageError, warn, type Args } from "./cli-config.js";

/** A failing CMD is tried this many more times before its message is left in the inbox. */
const RETRIES = 3;
const RETRY_BASE_MS = 500;
const DEFAULT_WAIT_S = 30;

export async function watchCommand(args: Args): Promise<number> {
  const exec = args.required("exec");
  const wait = args.int("wait") ?? DEFAULT_WAIT_S;
  const { client } = agentSession(args, { waitSeconds: wait });
  // Also checks the key now: a bad key is an error, not a retry loop.
  const me = await client.me();
  // By default beside the key files (agent-files.ts), not in the current directory.
  const givenCursorFile = args.string("cursor-file");
  const cursorFile = givenCursorFile ?? agentCursorFile(me.name);
  if (givenCursorFile === undefined) ensureAgentFilesDir();
  const cursor = fileCursor(cursorFile);
  cursor.load(); // a corrupt cursor file is a usage error before anything runs

  const stop = new AbortController();
  const onSignal = () => stop.abort();
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  let fatal: unknown;
  const topic = args.string("topic");
  const from = args.string("from");
  warn(`watching the inbox of ${me.name} (cursor file ${cursorFile}); stop with Ctrl-C`);
  try {
    for await (const message of client.watch({
      cursor,
      signal: stop.signal,
      wait,
      ...(topic === undefined ? {} : { topic }),
      ...(from === undefined ? {} : { from }),
      onError(error, retryInMs) {
        if (isPermanent(error)) {
          fatal = error;
          stop.abort();
        } else {
          warn(`${describeFailure(error).line}; retrying in ${Math.round(retryInMs / 1000)} s`);
        }
      },
    })) {
      const handled = await runCommand(exec, message, stop.signal);
      // Stopped before the message was handled: leave the cursor before it, so a restart runs it.
      // Leaving the loop early keeps the SDK from saving the cursor past this message.
      if (handled === "stopped") break;
      if (handled === "failed") {
        warn(`"${exec}" failed ${RETRIES + 1} times for message ${message.id}; left in the inbox, moving on`);
        continue;
      }
      if (!args.flag("no-ack") && !(await ackUntilDone(client.ack.bind(client), message.id, stop.signal))) break;
      // Continuing lets the SDK save this message's ts as the cursor before it fetches more.
    }
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
  if (fatal !== undefined) throw fatal;
  return 0;
}

/** Errors retrying cannot fix: a revoked key, a bad filter. */
function isPermanent(error: unknown): boolean {
  return error instanceof ClawTalkError && error.status >= 400 && error.status < 500 && error.status !== 408 && error.status !== 429;
}

/** Runs CMD for one message, retrying a failure with a growing pause. */
async function runCommand(exec: string, message: ReceivedMessage, signal: AbortSignal): Promise<"ok" | "failed" | "stopped"> {
  const input = `${JSON.stringify(message)}\n`;
  for (let attempt = 0; attempt <= RETRIES; attempt++) {
    if (attempt > 0) {
      await sleep(RETRY_BASE_MS * 2 ** (attempt - 1), signal);
      if (signal.aborted) return "stopped";
    }
    const outcome = await runOnce(exec, input);
    if (outcome === 0) return "ok";
    warn(`"${exec}" ${outcome} for message ${message.id}${attempt < RETRIES ? "; retrying" : ""}`);
    if (signal.aborted) return "stopped";
  }
  return "failed";
}

/** 0 when CMD exited 0, else a description of how it failed. */
function runOnce(exec: string, input: string): Promise<0 | string> {
  return new Promise((resolve) => {
    // The command line is CMD alone; the environment is the watcher's own.
    const child = spawn("/bin/sh", ["-c", exec], { stdio: ["pipe", "inherit", "inherit"] });
    child.once("error", (error) => resolve(`could not start (${error.message})`));
    child.once("close", (code, signal) => resolve(code === 0 ? 0 : signal ? `was killed by ${signal}` : `exited ${code}`));
    child.stdin.on("error", () => {
      // CMD may exit without reading its stdin (EPIPE): its exit status decides.
    });
    child.stdin.end(input);
  });
}

/** Acks until the relay confirms; false when stopped first (the message is then handled again). */
async function ackUntilDone(ack: (id: string) => Promise<unknown>, id: string, signal: AbortSignal): Promise<boolean> {
  for (let pauseMs = 1000; ; pauseMs = Math.min(pauseMs * 2, 30_000)) {
    try {
      await ack(id);
      return true;
    } catch (error) {
      const { line } = describeFailure(error);
      if (isPermanent(error)) throw error;
      warn(`ack of ${id} failed: ${line}; retrying in ${pauseMs / 1000} s`);
    }
    await sleep(pauseMs, signal);
    if (signal.aborted) return false;
  }
}

/** The cursor as a file holding one timestamp (mode 0600), replaced atomically on each save. */
function fileCursor(path: string): CursorStore {
  return {
    load() {
      if (!existsSync(path)) return null;
      const text = readFileSync(path, "utf8").trim();
      if (text === "") return null;
      if (Number.isNaN(Date.parse(text))) throw new UsageError(`cursor file ${path} does not hold a timestamp`);
      return text;
    },
    save(ts) {
      const temporary = `${path}.${process.pid}.tmp`;
      writeFileSync(temporary, `${ts}\n`, { mode: 0o600 });
      renameSync(temporary, path);
    },
  };
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
    function done() {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    }
  });
}
