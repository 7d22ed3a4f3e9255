// The Directory's agent rows: the table (with its migration steps), the statements over whole rows
// and names, the columns a patch changes, and the two views of a row — the record the Worker shows
// (minus secrets) and the config pushed to the agent's inbox.

import type { AgentPatch, ContactPolicy } from "../protocol/envelope.js";
import { lookalikeForm } from "../protocol/names.js";
import type { AgentConfig } from "./agent-config.js";
import { newWebhookSecret } from "./credentials.js";

/** An agent as the Directory knows it, minus secrets. */
export interface AgentRecord {
  name: string;
  owner: string | null;
  capabilities: string[];
  publicKey: string | null;
  signingKey: string | null;
  webhookUrl: string | null;
  webhookDisabled: string | null;
  deleteOnDelivery: boolean;
  accept: ContactPolicy;
  contacts: string[];
  createdAt: number;
  lastSeen: number | null;
}


export const AGENT_STEPS = [
  `CREATE TABLE IF NOT EXISTS agents (
  key TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  owner TEXT,
  public_key TEXT,
  signing_key TEXT,
  capabilities TEXT NOT NULL,
  webhook_url TEXT,
  webhook_secret TEXT NOT NULL,
  previous_secret TEXT,
  previous_secret_until INTEGER,
  webhook_disabled TEXT,
  delete_on_delivery INTEGER NOT NULL DEFAULT 0,
  key_hash TEXT NOT NULL UNIQUE,
  created_at INTEGER NOT NULL,
  last_seen INTEGER,
  version INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS state (
  key TEXT PRIMARY KEY,
  value INTEGER NOT NULL
);`,
  // 1: safety between agents (SPEC §12): the contact policy, the look-alike form of the name
  // (filled in for earlier agents when the Directory starts), and every key change.
  `ALTER TABLE agents ADD COLUMN accept TEXT NOT NULL DEFAULT 'anyone';
   ALTER TABLE agents ADD COLUMN contacts TEXT NOT NULL DEFAULT '[]';
   ALTER TABLE agents ADD COLUMN lookalike TEXT;
   CREATE INDEX IF NOT EXISTS agents_by_lookalike ON agents(lookalike);
   CREATE TABLE IF NOT EXISTS key_history (
     seq INTEGER PRIMARY KEY AUTOINCREMENT,
     agent TEXT NOT NULL,
     public_key TEXT,
     signing_key TEXT,
     since INTEGER NOT NULL,
     by TEXT NOT NULL,
     signature TEXT
   );
   CREATE INDEX IF NOT EXISTS key_history_by_agent ON key_history(agent, seq);`,
];

export type Row = Record<string, SqlStorageValue>;

/** Agents registered before the look-alike column existed get their look-alike form. */
export function backfillLookalikes(sql: SqlStorage): void {
  for (const row of sql.exec<{ key: string; name: string }>("SELECT key, name FROM agents WHERE lookalike IS NULL").toArray()) {
    sql.exec("UPDATE agents SET lookalike = ? WHERE key = ?", lookalikeForm(row.name), row.key);
  }
}

/** Registered spellings of those name keys that exist. */
export function namesOf(sql: SqlStorage, keys: string[]): Record<string, string> {
  const found: Record<string, string> = {};
  // Bound parameters per statement are limited (100); look names up in chunks.
  for (let i = 0; i < keys.length; i += 90) {
    const chunk = keys.slice(i, i + 90);
    const rows = sql.exec<{ key: string; name: string }>(`SELECT key, name FROM agents WHERE key IN (${chunk.map(() => "?").join(",")})`, ...chunk);
    for (const row of rows) found[row.key] = row.name;
  }
  return found;
}

/** The columns a patch changes in `row`, with their new values, and the new webhook secret if any. */
export function patchColumns(row: Row, patch: AgentPatch): { changes: Record<string, SqlStorageValue>; webhookSecret?: string } {
  const changes: Record<string, SqlStorageValue> = {};
  const set = (column: string, value: SqlStorageValue) => void (changes[column] = value);
  let webhookSecret: string | undefined;
  if (patch.webhookUrl !== undefined && patch.webhookUrl === row.webhook_url && row.webhook_disabled !== null) {
    set("webhook_disabled", null); // setting the same URL again turns a disabled webhook back on
  } else if (patch.webhookUrl !== undefined && patch.webhookUrl !== row.webhook_url) {
    set("webhook_url", patch.webhookUrl);
    set("webhook_disabled", null);
    if (patch.webhookUrl !== null) {
      // A new endpoint gets a new secret, with no overlap: the old endpoint keeps the old one.
      webhookSecret = newWebhookSecret();
      set("webhook_secret", webhookSecret);
      set("previous_secret", null);
      set("previous_secret_until", null);
    }
  }
  if (patch.capabilities !== undefined) set("capabilities", JSON.stringify(patch.capabilities));
  if (patch.publicKey !== undefined) set("public_key", patch.publicKey);
  if (patch.signingKey !== undefined) set("signing_key", patch.signingKey);
  if (patch.deleteOnDelivery !== undefined) set("delete_on_delivery", patch.deleteOnDelivery ? 1 : 0);
  if (patch.accept !== undefined) set("accept", patch.accept);
  if (patch.contacts !== undefined) set("contacts", JSON.stringify(patch.contacts));
  if (patch.owner !== undefined) set("owner", patch.owner);
  return webhookSecret === undefined ? { changes } : { changes, webhookSecret };
}

/** Puts back a row as it was read (a removal that could not finish). */
export function insertRow(sql: SqlStorage, row: Row): void {
  const columns = Object.keys(row);
  sql.exec(`INSERT INTO agents (${columns.join(", ")}) VALUES (${columns.map(() => "?").join(", ")})`, ...columns.map((column) => row[column]!));
}

/** The Directory's change sequence, one step on: every record change is stamped with it. */
export function nextVersion(sql: SqlStorage): number {
  return sql
    .exec<{ value: number }>("INSERT INTO state (key, value) VALUES ('version', 1) ON CONFLICT(key) DO UPDATE SET value = value + 1 RETURNING value")
    .one().value;
}

export function toRecord(row: Row): AgentRecord {
  return {
    name: row.name as string,
    owner: (row.owner as string | null) ?? null,
    capabilities: JSON.parse(row.capabilities as string) as string[],
    publicKey: (row.public_key as string | null) ?? null,
    signingKey: (row.signing_key as string | null) ?? null,
    webhookUrl: (row.webhook_url as string | null) ?? null,
    webhookDisabled: (row.webhook_disabled as string | null) ?? null,
    deleteOnDelivery: row.delete_on_delivery === 1,
    accept: row.accept as ContactPolicy,
    contacts: JSON.parse(row.contacts as string) as string[],
    createdAt: row.created_at as number,
    lastSeen: (row.last_seen as number | null) ?? null,
  };
}

export function toConfig(row: Row): AgentConfig {
  return {
    version: row.version as number,
    name: row.name as string,
    keyHash: row.key_hash as string,
    webhookUrl: (row.webhook_url as string | null) ?? null,
    webhookSecret: row.webhook_secret as string,
    // The inbox decides per delivery whether the overlap still lasts (agent-config.ts).
    previousSecret: (row.previous_secret as string | null) ?? null,
    previousSecretUntil: (row.previous_secret_until as number | null) ?? null,
    webhookDisabled: (row.webhook_disabled as string | null) ?? null,
    deleteOnDelivery: row.delete_on_delivery === 1,
    accept: row.accept as ContactPolicy,
    // The inbox compares senders with these name keys.
    contacts: (JSON.parse(row.contacts as string) as string[]).map((name) => name.toLowerCase()),
  };
}
