// The operator's side of the audit log (SPEC §13): `clawtalk keygen --audit` makes the key pair
// the relay seals entries to (the relay gets only the public half, as AUDIT_PUBLIC_KEY), and
// `clawtalk audit` lists entries with the admin key, opening sealed ones here with the secret key,
// which never leaves this machine.

import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { decodeBase64 } from "../protocol/base64.js";
import { openAuditEntry, type AuditQuery, type OpenedAuditEntry } from "./audit.js";
import { agentFilesDir, ensureAgentFilesDir } from "./agent-files.js";
import { generateAuditKeys } from "./crypto.js";
import { adminClient, env, UsageError, warn, writeSecretJson, type Args } from "./cli-config.js";
import { payloadText, printFields, printJson, printTable, truncate } from "./cli-output.js";

/** The operator's audit key pair, by default beside the agents' key files, never in the working tree. */
export const defaultAuditKeyFile = (): string => join(agentFilesDir(), "audit-key.json");

/** `keygen --audit`: the operator's X25519 key pair, into a file readable by its owner only. */
export async function auditKeygenCommand(args: Args): Promise<number> {
  const path = args.string("out") ?? defaultAuditKeyFile();
  if (args.string("out") === undefined) ensureAgentFilesDir();
  if (existsSync(path) && !args.flag("force")) throw new UsageError(`${path} exists; pass --force to replace it (entries sealed to its key can then no longer be read)`);
  const keys = generateAuditKeys();
  writeSecretJson(path, keys, { exclusive: !args.flag("force") });
  warn(`wrote ${path} (mode 0600): keep it secret; give the relay only the public key, as AUDIT_PUBLIC_KEY`);
  if (args.flag("json")) printJson({ file: path, publicKey: keys.publicKey });
  else printFields({ publicKey: keys.publicKey });
  return 0;
}

/** The secret key of --secret-key-file (or CLAWTALK_AUDIT_KEY_FILE), as `keygen --audit` wrote it. */
function auditSecretKey(args: Args): string | undefined {
  const path = args.string("secret-key-file") ?? env("CLAWTALK_AUDIT_KEY_FILE") ?? (existsSync(defaultAuditKeyFile()) ? defaultAuditKeyFile() : undefined);
  if (path === undefined) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, "utf8"));
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? "not JSON";
    throw new UsageError(`cannot read the audit key file ${path}: ${reason} (make one with: clawtalk keygen --audit)`);
  }
  const secretKey = typeof parsed === "object" && parsed !== null ? (parsed as { secretKey?: unknown }).secretKey : undefined;
  if (typeof secretKey !== "string" || decodeBase64(secretKey)?.length !== 32) {
    throw new UsageError(`${path} has no secretKey of 32 bytes of base64 (make one with: clawtalk keygen --audit)`);
  }
  return secretKey;
}

/** `audit`: one page of the log, newest first, sealed entries opened with the operator's secret key. */
export async function auditCommand(args: Args): Promise<number> {
  const secretKey = auditSecretKey(args);
  const query: AuditQuery = {};
  for (const key of ["from", "to", "topic", "since", "before"] as const) {
    const value = args.string(key);
    if (value !== undefined) query[key] = value;
  }
  const limit = args.int("limit", 1);
  if (limit !== undefined) query.limit = limit;
  const page = await adminClient(args).auditLog(query);
  const entries = page.entries.map((entry) => openAuditEntry(entry, secretKey));
  if (args.flag("json")) {
    printJson({ entries, cursor: page.cursor, hasMore: page.hasMore });
  } else if (entries.length === 0) {
    warn("no audit entries");
  } else {
    printAuditEntries(entries);
  }
  const sealed = entries.filter((e) => e.problem === "sealed").length;
  const unreadable = entries.filter((e) => e.problem === "decrypt-failed").length;
  if (sealed > 0) warn(`${sealed} sealed ${sealed === 1 ? "entry" : "entries"}: pass --secret-key-file F (from clawtalk keygen --audit) to read them`);
  if (unreadable > 0) warn(`${unreadable} sealed ${unreadable === 1 ? "entry does" : "entries do"} not open with this secret key`);
  if (page.hasMore) warn(`more entries: add --before ${page.cursor}`);
  return 0;
}

/** What agents wrote reaches the terminal without its control characters (no escape sequences). */
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g;

function printAuditEntries(entries: OpenedAuditEntry[]): void {
  const text = (entry: OpenedAuditEntry) =>
    entry.problem === "sealed"
      ? "(sealed)"
      : entry.problem === "decrypt-failed"
        ? "(cannot decrypt)"
        : payloadText(entry.plaintext).replace(CONTROL, "\ufffd");
  const rows = entries.map((entry) => [
    entry.loggedAt,
    entry.direction,
    entry.from,
    Array.isArray(entry.to) ? entry.to.join(",") : entry.to,
    entry.topic ?? "-",
    entry.sealed ? "🔒" : "",
    truncate(text(entry), 80),
  ]);
  printTable(["loggedAt", "direction", "from", "to", "topic", "", "payload"], rows);
}
