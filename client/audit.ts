// Audit entries on the client side (SPEC §13): what an agent posts about a message it sent or
// received, and how the operator reads them back, opening sealed payloads with the secret key that
// never leaves the operator's machine.

import type { AuditEntry, AuditRequest, JsonValue } from "../protocol/envelope.js";
import { openAuditPayload } from "./crypto.js";

/** An entry to post: the payload in plaintext; the client seals it when the relay publishes an audit key. */
export type AuditInput = Omit<AuditRequest, "sealed">;

/** Filters of GET /audit (times are ISO-8601; `before` takes the previous page's cursor). */
export interface AuditQuery {
  since?: string;
  before?: string;
  from?: string;
  to?: string;
  topic?: string;
  limit?: number;
}

export interface OpenedAuditEntry extends AuditEntry {
  /** The readable payload: the plaintext one, or the sealed one opened with the operator's key. */
  plaintext?: JsonValue;
  /** Why there is no plaintext: sealed and no key was given, or the key does not open it. */
  problem?: "sealed" | "decrypt-failed";
}

export function auditQueryString(query: AuditQuery): string {
  const params = new URLSearchParams();
  for (const key of ["since", "before", "from", "to", "topic", "limit"] as const) {
    const value = query[key];
    if (value !== undefined) params.set(key, String(value));
  }
  return params.size > 0 ? `?${params}` : "";
}

/** An entry with its payload readable where possible; a payload that does not open is flagged, never thrown. */
export function openAuditEntry(entry: AuditEntry, auditSecretKey?: string): OpenedAuditEntry {
  if (!entry.sealed) return { ...entry, plaintext: entry.payload };
  if (auditSecretKey === undefined) return { ...entry, problem: "sealed" };
  const plaintext = typeof entry.payload === "string" ? openAuditPayload(entry.payload, auditSecretKey) : null;
  return plaintext === null ? { ...entry, problem: "decrypt-failed" } : { ...entry, plaintext };
}
