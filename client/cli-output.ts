// What the CLI prints on stdout: JSON for machines, aligned tables and `key: value` lines for people.

import type { ReceivedMessage } from "./client.js";
import type { AgentPrivate, AgentPublic, JsonValue, WebhookAttempt } from "../protocol/envelope.js";

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

export function printLines(lines: string[]): void {
  if (lines.length > 0) process.stdout.write(`${lines.join("\n")}\n`);
}

/** `key: value` lines, the values aligned. */
export function printFields(fields: Record<string, string | number | boolean | null | undefined>): void {
  const entries = Object.entries(fields).filter(([, value]) => value !== undefined);
  const width = Math.max(...entries.map(([key]) => key.length)) + 1;
  printLines(entries.map(([key, value]) => `${`${key}:`.padEnd(width)} ${value ?? "-"}`));
}

/** Terminal columns a string takes: emoji such as the lock are two wide. */
function displayWidth(text: string): number {
  let width = 0;
  for (const char of text) width += char.codePointAt(0)! >= 0x1f000 ? 2 : 1;
  return width;
}

function pad(text: string, width: number): string {
  return text + " ".repeat(Math.max(0, width - displayWidth(text)));
}

/** An aligned table with a header row; the last column is not padded. */
export function printTable(headers: string[], rows: string[][]): void {
  const widths = headers.map((header, column) => Math.max(displayWidth(header), ...rows.map((row) => displayWidth(row[column] ?? ""))));
  const line = (cells: string[]) => cells.map((cell, column) => (column === cells.length - 1 ? cell : pad(cell, widths[column]!))).join("  ");
  printLines([line(headers), ...rows.map(line)]);
}

/** One line of at most `max` characters: whitespace (newlines included) collapsed, the rest cut with "…". */
export function truncate(text: string, max: number): string {
  const flat = text.replace(/\s+/g, " ").trim();
  const chars = [...flat];
  return chars.length <= max ? flat : `${chars.slice(0, Math.max(1, max - 1)).join("")}…`;
}

/** A payload as one piece of text: a string as it is, anything else as JSON. */
export function payloadText(value: JsonValue | undefined): string {
  if (value === undefined) return "";
  return typeof value === "string" ? value : JSON.stringify(value);
}

/** The marks column of the inbox: a lock for an encrypted message, then the signature's verdict. */
function marks(message: ReceivedMessage): string {
  const parts: string[] = [];
  if (message.encrypted) parts.push("🔒");
  if (message.problems.length > 0) parts.push(`! ${message.problems.join(",")}`);
  else if (message.verified) parts.push("✓ verified");
  return parts.join(" ");
}

export function printInbox(messages: ReceivedMessage[]): void {
  const rows = messages.map((message) => [
    message.id,
    message.ts,
    message.from,
    message.topic ?? "-",
    message.type,
    message.delivered === undefined ? "-" : message.delivered ? "yes" : "no",
    marks(message),
    message.plaintext === undefined ? "(cannot decrypt)" : payloadText(message.plaintext),
  ]);
  // The text takes what is left of a terminal line; piped output gets a fixed width.
  const used = rows.reduce((most, row) => Math.max(most, row.slice(0, -1).reduce((sum, cell) => sum + displayWidth(cell) + 2, 0)), 0);
  const room = process.stdout.isTTY ? Math.max(20, process.stdout.columns - used) : 80;
  for (const row of rows) row[row.length - 1] = truncate(row[row.length - 1]!, room);
  // seen: whether the copy had been delivered (to any reader, or the webhook) before this listing.
  printTable(["id", "ts", "from", "topic", "type", "seen", "", "text"], rows);
}

/** An agent's own record (whoami, update). */
export function printRecord(me: AgentPrivate): void {
  printFields({
    name: me.name,
    owner: me.owner,
    capabilities: me.capabilities.join(", ") || "-",
    publicKey: me.publicKey,
    signingKey: me.signingKey,
    webhookUrl: me.webhookUrl,
    webhookDisabled: me.webhookDisabled ?? undefined,
    deleteOnDelivery: me.deleteOnDelivery,
    online: me.online,
    lastSeen: me.lastSeen,
    createdAt: me.createdAt,
  });
}

export function printAgents(agents: AgentPublic[]): void {
  const keys = (agent: AgentPublic) => [agent.publicKey ? "encrypt" : "", agent.signingKey ? "sign" : ""].filter(Boolean).join("+") || "-";
  printTable(
    ["name", "online", "lastSeen", "webhook", "keys"],
    agents.map((agent) => [agent.name, agent.online ? "yes" : "no", agent.lastSeen ?? "-", agent.webhook ? "yes" : "no", keys(agent)]),
  );
}

export function printDeliveries(attempts: WebhookAttempt[]): void {
  printTable(
    ["at", "message", "attempt", "status", "latency", "outcome", "error"],
    attempts.map((attempt) => [
      attempt.at,
      attempt.messageId ?? "(test)",
      String(attempt.attempt),
      attempt.status === null ? "-" : String(attempt.status),
      `${attempt.latencyMs} ms`,
      attempt.outcome,
      attempt.error ?? "",
    ]),
  );
}
