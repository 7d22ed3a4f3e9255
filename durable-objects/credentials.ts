// API keys and webhook secrets. A key is shown once; only its SHA-256 is stored anywhere.

import { encodeBase64 } from "../protocol/base64.js";
import { sha256Hex } from "../protocol/digest.js";
import { API_KEY_PREFIX, WEBHOOK_SECRET_PREFIX } from "../protocol/names.js";

function randomBytes(n: number): Uint8Array {
  return crypto.getRandomValues(new Uint8Array(n));
}

function base64url(bytes: Uint8Array): string {
  return encodeBase64(bytes).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/** `ct_` + 256 random bits, base64url, and its hash. */
export async function newApiKey(): Promise<{ apiKey: string; keyHash: string }> {
  const apiKey = API_KEY_PREFIX + base64url(randomBytes(32));
  return { apiKey, keyHash: await sha256Hex(apiKey) };
}

/** A Standard Webhooks secret: `whsec_` + base64 of 32 random bytes. */
export function newWebhookSecret(): string {
  return WEBHOOK_SECRET_PREFIX + encodeBase64(randomBytes(32));
}

export function newInviteCode(): string {
  return "inv_" + base64url(randomBytes(16));
}
