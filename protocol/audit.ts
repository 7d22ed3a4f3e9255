// The sealed audit payload (SPEC §13): base64(ephemeral X25519 public key ‖ nonce ‖
// nacl.box(utf8(JSON.stringify(payload)), nonce, auditKey, ephemeralSecret)). The clients seal and
// open it; the relay checks only its shape, since it holds no key that opens it.

import { base64ByteLength } from "./base64.js";

export const SEALED_KEY_BYTES = 32;
export const SEALED_NONCE_BYTES = 24;
/** nacl.box adds a 16-byte Poly1305 tag; JSON text is never empty, so at least one byte follows it. */
export const SEALED_MIN_BYTES = SEALED_KEY_BYTES + SEALED_NONCE_BYTES + 16 + 1;

/** Why a value cannot be a sealed payload, or null when its shape is right. */
export function sealedPayloadProblem(payload: unknown): string | null {
  if (typeof payload !== "string") return "a sealed payload must be a base64 string";
  const bytes = base64ByteLength(payload);
  if (bytes === null) return "a sealed payload must be standard base64";
  if (bytes < SEALED_MIN_BYTES) {
    return `a sealed payload is at least ${SEALED_MIN_BYTES} bytes (ephemeral key ${SEALED_KEY_BYTES}, nonce ${SEALED_NONCE_BYTES}, box); this one is ${bytes}`;
  }
  return null;
}
