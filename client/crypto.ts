// End-to-end encryption and signatures (SPEC §5), with tweetnacl only:
// - encrypt: nacl.box (X25519 + XSalsa20-Poly1305) of utf8(JSON.stringify(plaintext)), 24-byte random nonce;
// - sign: Ed25519 detached signature over the RFC 8785 canonical JSON of
//   {v: 2, id, from, to, type, topic, correlationId, replyTo, sentAt, encrypted, payload, nonce};
// - verify also the original ClawTalk client's form (JSON.stringify of to, type, topic,
//   correlationId, ttl, encrypted, payload, nonce in that order), reported as legacy.
// - seal an audit payload to the operator's key (SPEC §13): base64(ephemeral public key ‖ nonce ‖
//   nacl.box(utf8(JSON.stringify(payload)), nonce, auditKey, ephemeralSecret)).
// Keys travel as standard base64: publicKey/privateKey 32 bytes, signingKey 32 bytes and
// signingSecretKey 64 bytes (tweetnacl's secret key: seed + public key).

import nacl from "tweetnacl";
import { decodeBase64, encodeBase64 } from "../protocol/base64.js";
import { SEALED_KEY_BYTES, SEALED_MIN_BYTES, SEALED_NONCE_BYTES } from "../protocol/audit.js";
import type { Envelope, JsonValue } from "../protocol/envelope.js";
import { legacySigningInput, signingInput, type SignedFields } from "../protocol/signing.js";

export { legacySigningInput, signingInput, type SignedFields };

export interface AgentKeys {
  /** X25519 public key: register it as `publicKey`. */
  publicKey: string;
  /** X25519 secret key: keep it. */
  privateKey: string;
  /** Ed25519 public key: register it as `signingKey`. */
  signingKey: string;
  /** Ed25519 secret key (64 bytes): keep it. */
  signingSecretKey: string;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

function bytes(base64: string, length: number, what: string): Uint8Array {
  const decoded = decodeBase64(base64);
  if (decoded === null || decoded.length !== length) throw new Error(`${what}: expected ${length} bytes of standard base64`);
  return decoded;
}

export function generateKeys(): AgentKeys {
  const box = nacl.box.keyPair();
  const sign = nacl.sign.keyPair();
  return {
    publicKey: encodeBase64(box.publicKey),
    privateKey: encodeBase64(box.secretKey),
    signingKey: encodeBase64(sign.publicKey),
    signingSecretKey: encodeBase64(sign.secretKey),
  };
}

/** Encrypts a JSON value for one recipient. `nonce` is for test vectors only: never reuse one. */
export function encrypt(
  plaintext: JsonValue,
  recipientPublicKey: string,
  senderPrivateKey: string,
  nonce: Uint8Array = nacl.randomBytes(nacl.box.nonceLength),
): { payload: string; nonce: string } {
  const sealed = nacl.box(
    encoder.encode(JSON.stringify(plaintext)),
    nonce,
    bytes(recipientPublicKey, 32, "recipient publicKey"),
    bytes(senderPrivateKey, 32, "privateKey"),
  );
  return { payload: encodeBase64(sealed), nonce: encodeBase64(nonce) };
}

/** The plaintext of an encrypted payload, or null when it does not open (tampered, wrong keys). */
export function decrypt(payload: string, nonce: string, senderPublicKey: string, recipientPrivateKey: string): JsonValue | null {
  const sealed = decodeBase64(payload);
  const nonceBytes = decodeBase64(nonce);
  if (sealed === null || nonceBytes === null || nonceBytes.length !== nacl.box.nonceLength) return null;
  const opened = nacl.box.open(sealed, nonceBytes, bytes(senderPublicKey, 32, "sender publicKey"), bytes(recipientPrivateKey, 32, "privateKey"));
  if (opened === null) return null;
  try {
    return JSON.parse(decoder.decode(opened)) as JsonValue;
  } catch {
    return null;
  }
}

export function sign(fields: SignedFields, signingSecretKey: string): string {
  return encodeBase64(nacl.sign.detached(encoder.encode(signingInput(fields)), bytes(signingSecretKey, 64, "signingSecretKey")));
}

export type SignatureCheck = "valid" | "legacy" | "invalid" | "unsigned";

/** Checks an envelope's signature against the sender's signing key (v2 form, then the legacy forms). */
export function verifySignature(envelope: Envelope, signingKey: string): SignatureCheck {
  if (envelope.signature === undefined) return "unsigned";
  const signature = decodeBase64(envelope.signature);
  const key = decodeBase64(signingKey);
  if (signature === null || signature.length !== 64 || key === null || key.length !== 32) return "invalid";
  const check = (input: string) => nacl.sign.detached.verify(encoder.encode(input), signature, key);
  if (check(signingInput(envelope))) return "valid";
  if (check(legacySigningInput(envelope, true)) || check(legacySigningInput(envelope, false))) return "legacy";
  return "invalid";
}

/** The operator's audit key pair: the relay gets `publicKey` (AUDIT_PUBLIC_KEY); `secretKey` never leaves the operator. */
export interface AuditKeys {
  publicKey: string;
  secretKey: string;
}

export function generateAuditKeys(): AuditKeys {
  const pair = nacl.box.keyPair();
  return { publicKey: encodeBase64(pair.publicKey), secretKey: encodeBase64(pair.secretKey) };
}

/** Seals a JSON value to the operator's audit key with a fresh ephemeral key pair (forgotten at once). */
export function sealAuditPayload(payload: JsonValue, auditPublicKey: string): string {
  const ephemeral = nacl.box.keyPair();
  const nonce = nacl.randomBytes(SEALED_NONCE_BYTES);
  const box = nacl.box(encoder.encode(JSON.stringify(payload)), nonce, bytes(auditPublicKey, SEALED_KEY_BYTES, "audit public key"), ephemeral.secretKey);
  const sealed = new Uint8Array(SEALED_KEY_BYTES + SEALED_NONCE_BYTES + box.length);
  sealed.set(ephemeral.publicKey, 0);
  sealed.set(nonce, SEALED_KEY_BYTES);
  sealed.set(box, SEALED_KEY_BYTES + SEALED_NONCE_BYTES);
  return encodeBase64(sealed);
}

/** The payload of a sealed audit entry, or null when it does not open with this secret key (another key, tampered, malformed). */
export function openAuditPayload(sealed: string, auditSecretKey: string): JsonValue | null {
  const data = decodeBase64(sealed);
  if (data === null || data.length < SEALED_MIN_BYTES) return null;
  const ephemeralKey = data.subarray(0, SEALED_KEY_BYTES);
  const nonce = data.subarray(SEALED_KEY_BYTES, SEALED_KEY_BYTES + SEALED_NONCE_BYTES);
  const opened = nacl.box.open(data.subarray(SEALED_KEY_BYTES + SEALED_NONCE_BYTES), nonce, ephemeralKey, bytes(auditSecretKey, SEALED_KEY_BYTES, "audit secret key"));
  if (opened === null) return null;
  try {
    return JSON.parse(decoder.decode(opened)) as JsonValue;
  } catch {
    return null;
  }
}
