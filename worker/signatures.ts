// Signature checks for the remote MCP endpoint (SPEC §11.3): the relay holds no private keys, but
// a signature needs only the sender's public signing key, so messages read through /mcp are
// verified here as the SDK verifies them (SPEC §5: the v2 form, then the original client's forms),
// with Web Crypto's Ed25519. Signing keys come from the Directory, cached briefly per isolate and
// asked again once when a signature does not match (the sender may have just changed keys).

import { decodeBase64 } from "../protocol/base64.js";
import type { Envelope } from "../protocol/envelope.js";
import { nameKey } from "../protocol/names.js";
import { legacySigningInput, signingInput } from "../protocol/signing.js";
import { directoryStub } from "../durable-objects/stubs.js";

const KEY_KEPT_MS = 30_000;
const MAX_KEYS = 5_000;
const keys = new Map<string, { signingKey: string | null; until: number }>();
const encoder = new TextEncoder();

async function signingKeyOf(env: Env, from: string, fresh: boolean): Promise<string | null> {
  const key = nameKey(from);
  const hit = keys.get(key);
  if (!fresh && hit && hit.until > Date.now()) return hit.signingKey;
  const record = await directoryStub(env).get(key);
  const signingKey = record?.signingKey ?? null;
  keys.delete(key);
  if (keys.size >= MAX_KEYS) keys.delete(keys.keys().next().value!);
  keys.set(key, { signingKey, until: Date.now() + KEY_KEPT_MS });
  return signingKey;
}

async function matches(envelope: Envelope, signingKey: string): Promise<boolean> {
  const signature = decodeBase64(envelope.signature ?? "");
  const raw = decodeBase64(signingKey);
  if (signature === null || signature.length !== 64 || raw === null || raw.length !== 32) return false;
  const key = await crypto.subtle.importKey("raw", raw, { name: "Ed25519" }, false, ["verify"]);
  for (const input of [signingInput(envelope), legacySigningInput(envelope, true), legacySigningInput(envelope, false)]) {
    if (await crypto.subtle.verify({ name: "Ed25519" }, key, signature, encoder.encode(input))) return true;
  }
  return false;
}

/** Whether an envelope's signature matches its sender's registered signing key; problems as the SDK names them. */
export async function checkSignature(env: Env, envelope: Envelope): Promise<{ verified: boolean; problems: string[] }> {
  if (envelope.signature === undefined) return { verified: false, problems: [] };
  let signingKey = await signingKeyOf(env, envelope.from, false);
  if (signingKey !== null && (await matches(envelope, signingKey))) return { verified: true, problems: [] };
  signingKey = await signingKeyOf(env, envelope.from, true);
  if (signingKey !== null && (await matches(envelope, signingKey))) return { verified: true, problems: [] };
  return { verified: false, problems: [signingKey === null ? "unknown-sender" : "bad-signature"] };
}
