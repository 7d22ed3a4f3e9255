// The CLI's shared plumbing: parsed arguments, configuration (flags > environment > key file >
// defaults), the key file, the SDK client, and turning any failure into one line and an exit code.

import { existsSync, readFileSync } from "node:fs";
import { agentFilesDir, agentKeyFile, agentsWithKeyFiles, checkAgentFileName, writeSecretJson } from "./agent-files.js";
import { filePins, pinsFileFor } from "./cli-pins.js";
import { ClawTalkClient, ClawTalkError } from "./client.js";
import type { AgentKeys } from "./crypto.js";

export { writeSecretJson } from "./agent-files.js";

export const DEFAULT_URL = "http://127.0.0.1:8787";
/** Where older versions put the key file by default; only named in a hint now. */
const OLD_DEFAULT_KEY_FILE = "clawtalk-key.json";
/** Every request gets this long beyond its long-poll wait before it counts as a network failure. */
const REQUEST_TIMEOUT_MS = 30_000;

/** A mistake in how the CLI was called or configured: exit 1. */
export class UsageError extends Error {
  override name = "UsageError";
}

// ---- Arguments ----

type OptionValue = string | boolean | undefined;

/** The values parseArgs produced for one command, with typed accessors. */
export class Args {
  constructor(
    private readonly values: Readonly<Record<string, OptionValue>>,
    readonly positionals: readonly string[],
  ) {}

  string(name: string): string | undefined {
    const value = this.values[name];
    return typeof value === "string" ? value : undefined;
  }

  required(name: string): string {
    const value = this.string(name);
    if (value === undefined || value === "") throw new UsageError(`--${name} is required`);
    return value;
  }

  flag(name: string): boolean {
    return this.values[name] === true;
  }

  int(name: string, min = 0): number | undefined {
    const value = this.string(name);
    if (value === undefined) return undefined;
    if (!/^\d+$/.test(value) || Number(value) < min) throw new UsageError(`--${name} must be a whole number of at least ${min}, not "${value}"`);
    return Number(value);
  }

  /** A comma-separated list: "a, b,c" -> ["a", "b", "c"]. */
  list(name: string): string[] | undefined {
    const value = this.string(name);
    if (value === undefined) return undefined;
    const items = value.split(",").map((item) => item.trim()).filter((item) => item !== "");
    if (items.length === 0) throw new UsageError(`--${name} needs at least one value`);
    return items;
  }
}

/** An environment variable, with "" counting as unset. */
export function env(name: string): string | undefined {
  const value = process.env[name];
  return value === undefined || value === "" ? undefined : value;
}

// ---- The key file ----

/** The key file: the agent's secret keys, and after `register` its name, API key and relay URL. */
export interface KeyFile extends AgentKeys {
  name?: string;
  apiKey?: string;
  url?: string;
}

export interface LoadedKeyFile {
  path: string;
  data: KeyFile;
}

/** The key file a command uses, and whether the user named it (then it must exist, except for register). */
export interface KeyFileChoice {
  path: string;
  explicit: boolean;
  /** In the per-user directory (agent-files.ts), which is created on first use. */
  inAgentDir: boolean;
}

/**
 * Which key file: --key-file, --agent NAME (NAME.json in the per-user directory),
 * CLAWTALK_KEY_FILE, then for `register NAME` that NAME, else CLAWTALK_AGENT, else the only key
 * file in the per-user directory (`soleAgent`). Undefined when none applies.
 */
export function keyFilePath(args: Args, options: { registerName?: string; soleAgent?: boolean } = {}): KeyFileChoice | undefined {
  const file = args.string("key-file");
  const agent = args.string("agent");
  if (file !== undefined && agent !== undefined) throw new UsageError("give --key-file or --agent, not both");
  const inDir = (name: string, what: string): KeyFileChoice => {
    try {
      checkAgentFileName(name, what);
    } catch (error) {
      throw new UsageError(messageOf(error));
    }
    return { path: agentKeyFile(name), explicit: true, inAgentDir: true };
  };
  if (file !== undefined) return { path: file, explicit: true, inAgentDir: false };
  if (agent !== undefined) return inDir(agent, "--agent");
  const envFile = env("CLAWTALK_KEY_FILE");
  if (envFile !== undefined) return { path: envFile, explicit: true, inAgentDir: false };
  if (options.registerName !== undefined) return inDir(options.registerName, "NAME");
  const envAgent = env("CLAWTALK_AGENT");
  if (envAgent !== undefined) return inDir(envAgent, "CLAWTALK_AGENT");
  if (!options.soleAgent) return undefined;
  const agents = agentsWithKeyFiles();
  if (agents.length > 1) throw new UsageError(`${agentFilesDir()} holds several agents (${agents.join(", ")}): pass --agent NAME`);
  return agents.length === 1 ? { path: agentKeyFile(agents[0]!), explicit: false, inAgentDir: true } : undefined;
}

/**
 * The key file in use, if any: a named one must exist; else, with `soleAgent`, the only one of
 * the per-user directory when there is one.
 */
export function loadKeyFile(args: Args, options: { soleAgent: boolean }): LoadedKeyFile | undefined {
  const choice = keyFilePath(args, options);
  if (choice === undefined) return undefined;
  if (!existsSync(choice.path)) {
    if (!choice.explicit) return undefined;
    const hint = choice.inAgentDir ? `register the agent (clawtalk register NAME) or make keys with: clawtalk keygen --out ${choice.path}` : `create one with: clawtalk keygen --out ${choice.path}`;
    throw new UsageError(`key file ${choice.path} does not exist (${hint})`);
  }
  return readKeyFile(choice.path);
}

/** Reads and checks a key file. */
export function readKeyFile(path: string): LoadedKeyFile {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, "utf8"));
  } catch (error) {
    throw new UsageError(`key file ${path} is not readable JSON: ${oneLine(messageOf(error))}`);
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) throw new UsageError(`key file ${path} must hold a JSON object`);
  const fields = parsed as Record<string, unknown>;
  for (const key of ["publicKey", "privateKey", "signingKey", "signingSecretKey"]) {
    if (typeof fields[key] !== "string") throw new UsageError(`key file ${path} has no ${key} (create one with: clawtalk keygen)`);
  }
  for (const key of ["name", "apiKey", "url"]) {
    if (fields[key] !== undefined && typeof fields[key] !== "string") throw new UsageError(`key file ${path}: ${key} must be a string`);
  }
  return { path, data: fields as unknown as KeyFile };
}

/**
 * Writes the key file readable by its owner only. It is written to a temporary file and renamed,
 * so a crash never leaves half a key file; `exclusive` refuses to replace an existing one.
 */
export function writeKeyFile(path: string, data: KeyFile, options: { exclusive?: boolean } = {}): void {
  writeSecretJson(path, data, options);
}

// ---- Connecting ----

/** The relay URL: --url, CLAWTALK_URL, the key file's url, or the local default. */
export function relayUrl(args: Args, keyFile?: LoadedKeyFile): string {
  const url = args.string("url") ?? env("CLAWTALK_URL") ?? keyFile?.data.url ?? DEFAULT_URL;
  if (!URL.canParse(url) || !/^https?:$/.test(new URL(url).protocol)) throw new UsageError(`relay URL "${url}" is not an http(s) URL`);
  currentUrl = url;
  return url;
}

/** fetch with a deadline, so a dead relay is an error rather than a hang. */
export function fetchWithTimeout(extraMs = 0): typeof fetch {
  return (input, init) => {
    const timeout = AbortSignal.timeout(REQUEST_TIMEOUT_MS + extraMs);
    const signal = init?.signal ? AbortSignal.any([init.signal, timeout]) : timeout;
    return fetch(input, { ...init, signal });
  };
}

export interface AgentSession {
  client: ClawTalkClient;
  keyFile: LoadedKeyFile | undefined;
  /** The API key came from the key file (not from --api-key or CLAWTALK_API_KEY). */
  apiKeyFromFile: boolean;
}

/** A client acting as the agent: API key from --api-key, CLAWTALK_API_KEY or the key file. */
export function agentSession(args: Args, options: { waitSeconds?: number } = {}): AgentSession {
  const given = args.string("api-key") ?? env("CLAWTALK_API_KEY");
  // An API key given without a key file may be any agent's: the directory's only key file is
  // then not assumed to be that agent's.
  const keyFile = loadKeyFile(args, { soleAgent: given === undefined });
  const apiKey = given ?? keyFile?.data.apiKey;
  if (apiKey === undefined) {
    // Older versions read ./clawtalk-key.json by default; say so rather than leave its owner puzzled.
    const old = existsSync(OLD_DEFAULT_KEY_FILE) ? ` (./${OLD_DEFAULT_KEY_FILE} is no longer read by default: pass --key-file ${OLD_DEFAULT_KEY_FILE})` : "";
    throw new UsageError(`no API key: pass --agent NAME, set CLAWTALK_API_KEY or pass --api-key, or register first (clawtalk register NAME)${old}`);
  }
  const apiKeyFromFile = given === undefined;
  const client = new ClawTalkClient({
    baseUrl: relayUrl(args, keyFile),
    apiKey,
    // The file's name belongs to the file's API key; with another key the SDK asks the relay.
    ...(apiKeyFromFile && keyFile?.data.name ? { agentName: keyFile.data.name } : {}),
    // Pins beside the key file; without one, each run trusts the keys it sees first.
    ...(keyFile ? { keys: keyFile.data, pins: filePins(pinsFileFor(keyFile.path)) } : {}),
    fetch: fetchWithTimeout((options.waitSeconds ?? 0) * 1000),
  });
  return { client, keyFile, apiKeyFromFile };
}

/** A client holding the admin key (--admin-key or CLAWTALK_ADMIN_KEY), for `register` and `audit`. */
export function adminClient(args: Args, keyFile?: LoadedKeyFile): ClawTalkClient {
  return new ClawTalkClient({ baseUrl: relayUrl(args, keyFile), apiKey: adminKey(args), fetch: fetchWithTimeout() });
}

/** --admin-key or CLAWTALK_ADMIN_KEY; a usage error without. */
export function adminKey(args: Args): string {
  const key = args.string("admin-key") ?? env("CLAWTALK_ADMIN_KEY");
  if (key === undefined) throw new UsageError("no admin key: set CLAWTALK_ADMIN_KEY or pass --admin-key");
  return key;
}

// ---- Failures ----

/** The relay URL of this run, for network error messages. */
let currentUrl = DEFAULT_URL;

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

export function oneLine(text: string): string {
  return text.replace(/\s+/g, " ").trim();
}

/**
 * The exit code and the one line to print for a failure: 2 for what the relay answered or the
 * network did, 1 for everything on this side (usage, configuration, local files).
 */
export function describeFailure(error: unknown): { exitCode: 1 | 2; line: string } {
  if (error instanceof ClawTalkError) {
    const retry = typeof error.body.retryAfter === "number" ? `; retry after ${error.body.retryAfter} s` : "";
    return { exitCode: 2, line: `${oneLine(error.message)}${retry} (${error.code})` };
  }
  if (error instanceof Error && error.name === "TimeoutError") {
    return { exitCode: 2, line: `the relay at ${currentUrl} did not answer in time (TIMEOUT)` };
  }
  if (error instanceof TypeError && error.message === "fetch failed") {
    const cause = error.cause instanceof Error ? `: ${error.cause.message}` : "";
    return { exitCode: 2, line: `cannot reach the relay at ${currentUrl}${oneLine(cause)} (NETWORK_ERROR)` };
  }
  return { exitCode: 1, line: oneLine(messageOf(error)) };
}

/** Writes a one-line warning or error to stderr. */
export function warn(line: string): void {
  process.stderr.write(`clawtalk: ${line}\n`);
}
