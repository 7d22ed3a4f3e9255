// Signed key changes (SPEC §12), on the client's side: signing one's own change with the current
// signing key, and deciding from a peer's key history whether its current keys succeed the keys
// pinned for it by changes each signed with the previous signing key. Only such a chain counts:
// the relay (or its admin) can rewrite a record and its history, but cannot sign for the agent.

import nacl from "tweetnacl";
import { decodeBase64, encodeBase64 } from "../protocol/base64.js";
import { canonicalJson } from "../protocol/canonical.js";
import { keyChangeStatement, type KeyHistoryEntry } from "../protocol/envelope.js";

/** An agent's two public keys, as the directory, the key history and a pin hold them. */
export interface PublicKeys {
  /** X25519, base64: what messages to the agent are encrypted to. */
  publicKey: string | null;
  /** Ed25519, base64: what the agent's signatures are checked with. */
  signingKey: string | null;
}

const encoder = new TextEncoder();

export function sameKeys(a: PublicKeys, b: PublicKeys): boolean {
  return a.publicKey === b.publicKey && a.signingKey === b.signingKey;
}

/** The statement's exact bytes: canonical JSON (RFC 8785) of keyChangeStatement. */
function statementBytes(name: string, next: PublicKeys): Uint8Array {
  return encoder.encode(canonicalJson(keyChangeStatement(name, next.publicKey, next.signingKey)));
}

/** The keyChangeSignature of `name` (its registered spelling) changing to `next`, by its current Ed25519 secret key (64 bytes, base64). */
export function signKeyChange(name: string, next: PublicKeys, signingSecretKey: string): string {
  const secret = decodeBase64(signingSecretKey);
  if (secret === null || secret.length !== 64) throw new Error("signingSecretKey: expected 64 bytes of standard base64");
  return encodeBase64(nacl.sign.detached(statementBytes(name, next), secret));
}

/** The Ed25519 public key of a secret key (tweetnacl's secret key is seed ‖ public key), or null when it is not one. */
export function signingKeyOf(signingSecretKey: string): string | null {
  const secret = decodeBase64(signingSecretKey);
  return secret !== null && secret.length === 64 ? encodeBase64(secret.subarray(32)) : null;
}

/** Whether history entry `next` was made by the agent itself, signed with the signing key of the entry before it. */
function signedStep(name: string, before: KeyHistoryEntry, next: KeyHistoryEntry): boolean {
  if (next.by !== "agent" || next.signature === undefined || before.signingKey === null) return false;
  const signature = decodeBase64(next.signature);
  const key = decodeBase64(before.signingKey);
  if (signature === null || signature.length !== 64 || key === null || key.length !== 32) return false;
  return nacl.sign.detached.verify(statementBytes(name, next), signature, key);
}

/**
 * Whether the history of `name` (oldest first) leads from the `pinned` keys to the `current` ones
 * through changes each signed by the previous signing key. Any step made by the admin, unsigned,
 * badly signed, or signed for other keys or another name breaks the chain; so does a history
 * that does not hold the pinned keys (the name was registered again).
 */
export function isSignedSuccession(name: string, history: readonly KeyHistoryEntry[], pinned: PublicKeys, current: PublicKeys): boolean {
  for (let start = history.length - 1; start >= 0; start--) {
    if (!sameKeys(history[start]!, pinned)) continue;
    for (let step = start + 1; step < history.length && signedStep(name, history[step - 1]!, history[step]!); step++) {
      if (sameKeys(history[step]!, current)) return true;
    }
  }
  return false;
}
