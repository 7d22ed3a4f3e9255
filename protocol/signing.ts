// What a message signature is made over (SPEC §5): the v2 form (RFC 8785 canonical JSON) and the
// original ClawTalk client's form. Pure, so the SDK (which signs and verifies with tweetnacl) and
// the relay's remote MCP endpoint (which verifies with Web Crypto) use the same bytes.

import { canonicalJson } from "./canonical.js";
import type { Envelope } from "./envelope.js";

/** The fields a v2 signature covers. `id` and `sentAt` are chosen by the sender and sent along. */
export type SignedFields = Pick<Envelope, "id" | "from" | "to" | "type" | "encrypted" | "payload"> &
  Partial<Pick<Envelope, "topic" | "correlationId" | "replyTo" | "sentAt" | "nonce">>;

/** The exact bytes a v2 signature is made over (RFC 8785 canonical JSON; absent fields left out). */
export function signingInput(fields: SignedFields): string {
  const { id, from, to, type, topic, correlationId, replyTo, sentAt, encrypted, payload, nonce } = fields;
  return canonicalJson({ v: 2, id, from, to, type, topic, correlationId, replyTo, sentAt, encrypted, payload, nonce });
}

/** The original ClawTalk client's signing input, with or without `ttl`. */
export function legacySigningInput(envelope: Envelope, withTtl: boolean): string {
  const { to, type, topic, correlationId, ttl, encrypted, payload, nonce } = envelope;
  return JSON.stringify({ to, type, topic, correlationId, ttl: withTtl ? ttl : undefined, encrypted, payload, nonce });
}
