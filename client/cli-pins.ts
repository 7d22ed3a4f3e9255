// The pin store of the CLI and the MCP server (SPEC §12): a JSON file beside the key file — for
// NAME.json, NAME.pins.json — mapping each peer's lower-case name to the keys pinned for it and
// when. Mode 0600, replaced atomically on every change; read afresh on every look-up, so a pin
// changed by another process (`clawtalk trust NAME` beside a running MCP server) takes effect.
// Deleting the file trusts every peer's current keys again on first use.

import { existsSync, readFileSync } from "node:fs";
import { writeSecretJson } from "./agent-files.js";
import type { PinnedKeys, PinStore } from "./pins.js";

interface PinEntry extends PinnedKeys {
  pinnedAt: string;
}

/** The pins file of a key file: FILE.json → FILE.pins.json, any other name → NAME.pins.json. */
export function pinsFileFor(keyFilePath: string): string {
  return `${keyFilePath.endsWith(".json") ? keyFilePath.slice(0, -".json".length) : keyFilePath}.pins.json`;
}

const isKey = (value: unknown): value is string | null => value === null || typeof value === "string";

function isPinEntry(value: unknown): value is PinEntry {
  if (typeof value !== "object" || value === null) return false;
  const entry = value as Record<string, unknown>;
  return isKey(entry.publicKey) && isKey(entry.signingKey) && typeof entry.pinnedAt === "string";
}

/** The pins of the file (none when it does not exist yet); a Map, so no name can reach Object.prototype. */
function readPins(path: string): Map<string, PinEntry> {
  if (!existsSync(path)) return new Map();
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, "utf8"));
  } catch (error) {
    throw new Error(`pins file ${path} is not readable JSON (${error instanceof Error ? error.message : String(error)}); fix it, or delete it to trust every agent's current keys again`);
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) throw new Error(`pins file ${path} must hold a JSON object`);
  const pins = new Map<string, PinEntry>();
  for (const [name, entry] of Object.entries(parsed)) {
    if (!isPinEntry(entry)) throw new Error(`pins file ${path}: the entry of ${name} is not {publicKey, signingKey, pinnedAt}`);
    pins.set(name, entry);
  }
  return pins;
}

/** A PinStore on the file at `path` (made on the first pin). */
export function filePins(path: string): PinStore {
  return {
    get(name) {
      const entry = readPins(path).get(name);
      return entry === undefined ? null : { publicKey: entry.publicKey, signingKey: entry.signingKey };
    },
    set(name, keys) {
      const pins = readPins(path);
      pins.set(name, { publicKey: keys.publicKey, signingKey: keys.signingKey, pinnedAt: new Date().toISOString() });
      writeSecretJson(path, Object.fromEntries(pins));
    },
  };
}
