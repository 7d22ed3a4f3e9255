// verifyWebhook: checks a ClawTalk webhook delivery as a receiver (Standard Webhooks, SPEC §4.4)
// with Web Crypto only. Give it the raw body exactly as received, before any JSON parsing.

import { decodeBase64, encodeBase64 } from "../protocol/base64.js";

export type HeaderSource = Headers | Record<string, string | string[] | undefined>;

export interface VerifyOptions {
  /** Oldest and newest timestamp accepted, in seconds from now (default 300). */
  toleranceS?: number;
  /** For tests: the current time in ms. */
  now?: number;
}

function header(headers: HeaderSource, name: string): string | null {
  if (headers instanceof Headers) return headers.get(name);
  const found = Object.entries(headers).find(([key]) => key.toLowerCase() === name)?.[1];
  return Array.isArray(found) ? (found[0] ?? null) : (found ?? null);
}

/**
 * True when the delivery is signed by one of the secrets (`whsec_...`; pass both during a
 * rotation) and its timestamp is within the tolerance.
 */
export async function verifyWebhook(headers: HeaderSource, rawBody: string, secret: string | string[], options: VerifyOptions = {}): Promise<boolean> {
  const id = header(headers, "webhook-id");
  const timestamp = header(headers, "webhook-timestamp");
  const signatures = header(headers, "webhook-signature");
  if (!id || !timestamp || !signatures || !/^\d+$/.test(timestamp)) return false;
  const now = (options.now ?? Date.now()) / 1000;
  if (Math.abs(now - Number(timestamp)) > (options.toleranceS ?? 300)) return false;
  const given = signatures.split(" ").filter((s) => s.startsWith("v1,")).map((s) => s.slice(3));
  for (const key of Array.isArray(secret) ? secret : [secret]) {
    const expected = await hmac(key, `${id}.${timestamp}.${rawBody}`);
    if (expected !== null && given.some((candidate) => constantTimeEqual(candidate, expected))) return true;
  }
  return false;
}

async function hmac(secret: string, content: string): Promise<string | null> {
  const keyBytes = decodeBase64(secret.replace(/^whsec_/, ""));
  if (keyBytes === null) return null;
  const key = await crypto.subtle.importKey("raw", keyBytes, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  return encodeBase64(new Uint8Array(await crypto.subtle.sign("HMAC", key, new TextEncoder().encode(content))));
}

function constantTimeEqual(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}
