// Where the CLI keeps an agent's files when no path is given: one per-user directory,
// $XDG_CONFIG_HOME/clawtalk or else ~/.config/clawtalk, never the current directory (often a
// repository, where a private key would show up in `git status` and could be committed).
// The directory is made with mode 0700; what the CLI writes in it is 0600.
//
//   <dir>/<name>.json     the key file of agent <name> (keys, then name, API key, relay URL)
//   <dir>/<name>.cursor   `watch`'s cursor for agent <name>
//   <dir>/<name>.pins.json  the keys agent <name> pinned for its peers (cli-pins.ts)
//
// <name> is lower-cased, as names are unique case-insensitively (`--agent Alice` is alice.json).

import { chmodSync, existsSync, mkdirSync, readdirSync, renameSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { isAbsolute, join } from "node:path";
import { NAME_PATTERN, nameKey } from "../protocol/names.js";

const KEY_FILE_SUFFIX = ".json";
const CURSOR_SUFFIX = ".cursor";

/** The directory, whether or not it exists yet. */
export function agentFilesDir(): string {
  const xdg = process.env.XDG_CONFIG_HOME;
  // The XDG Base Directory spec: a relative value is invalid and must be ignored.
  const base = xdg !== undefined && isAbsolute(xdg) ? xdg : join(homedir(), ".config");
  return join(base, "clawtalk");
}

/** Creates the directory (mode 0700) if it is missing, and answers its path. */
export function ensureAgentFilesDir(): string {
  const dir = agentFilesDir();
  if (!existsSync(dir)) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    chmodSync(dir, 0o700); // mkdir's mode passes through the umask; be exact
  }
  return dir;
}

/** A name usable as a file name here: the agent-name grammar, so never a path. */
export function checkAgentFileName(name: string, what: string): string {
  if (!NAME_PATTERN.test(name)) throw new Error(`${what} must be 2-32 characters of A-Z a-z 0-9 _ -, not "${name}"`);
  return nameKey(name);
}

export function agentKeyFile(name: string): string {
  return join(agentFilesDir(), `${checkAgentFileName(name, "the agent name")}${KEY_FILE_SUFFIX}`);
}

export function agentCursorFile(name: string): string {
  return join(agentFilesDir(), `${checkAgentFileName(name, "the agent name")}${CURSOR_SUFFIX}`);
}

/** The agents that have a key file in the directory, by file name, sorted. */
export function agentsWithKeyFiles(): string[] {
  const dir = agentFilesDir();
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((file) => file.endsWith(KEY_FILE_SUFFIX))
    .map((file) => file.slice(0, -KEY_FILE_SUFFIX.length))
    .filter((name) => NAME_PATTERN.test(name))
    .sort();
}

/**
 * A JSON file readable by its owner only (key files, pins, the operator's audit key file). It is
 * written to a temporary file and renamed, so a crash never leaves half a file; `exclusive`
 * refuses to replace an existing one.
 */
export function writeSecretJson(path: string, data: object, options: { exclusive?: boolean } = {}): void {
  const text = `${JSON.stringify(data, null, 2)}\n`;
  if (options.exclusive) {
    writeFileSync(path, text, { mode: 0o600, flag: "wx" });
    return;
  }
  const temporary = `${path}.${process.pid}.tmp`;
  writeFileSync(temporary, text, { mode: 0o600 });
  chmodSync(temporary, 0o600); // the umask may have narrowed it further, never widened it; be exact
  renameSync(temporary, path);
}
