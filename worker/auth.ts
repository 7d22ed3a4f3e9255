// Authentication: `Authorization: Bearer <key>`. The admin key is compared in constant time (both
// sides hashed first, so lengths match too). An agent key is looked up by its SHA-256 through the
// caches of identity.ts; the agent's Inbox then confirms it is the current key (router.ts).

import { RelayError } from "../protocol/errors.js";
import { sha256Hex } from "../protocol/digest.js";
import { agentForKey } from "./identity.js";

export type Caller =
  | { role: "admin" }
  | { role: "agent"; name: string; keyHash: string; lastSeen?: number };

const AGENT_KEY = /^ct_[A-Za-z0-9_-]{43}$/;
const BEARER = /^Bearer +(\S+) *$/i;

export async function authenticate(request: Request, env: Env, ctx: ExecutionContext): Promise<Caller> {
  const header = request.headers.get("Authorization");
  if (header === null) throw new RelayError("UNAUTHORIZED", "Missing Authorization header; send Authorization: Bearer <key>.");
  const key = BEARER.exec(header)?.[1];
  if (key === undefined || key.length > 512) {
    throw new RelayError("UNAUTHORIZED", "Malformed Authorization header; send Authorization: Bearer <key>.");
  }
  if (await isAdminKey(key, env)) return { role: "admin" };
  if (!AGENT_KEY.test(key)) throw new RelayError("UNAUTHORIZED", "Invalid API key.");
  const keyHash = await sha256Hex(key);
  const name = await agentForKey(env, ctx, keyHash);
  if (name === null) throw new RelayError("UNAUTHORIZED", "Invalid API key.");
  return { role: "agent", name, keyHash };
}

let warnedNoAdminKey = false;

async function isAdminKey(key: string, env: Env): Promise<boolean> {
  const adminKey = typeof env.ADMIN_KEY === "string" ? env.ADMIN_KEY : "";
  if (adminKey === "") {
    if (!warnedNoAdminKey) console.warn("clawtalk: ADMIN_KEY is not set; admin routes are closed");
    warnedNoAdminKey = true;
    return false;
  }
  const encoder = new TextEncoder();
  if (adminDigest?.key !== adminKey) adminDigest = { key: adminKey, digest: await crypto.subtle.digest("SHA-256", encoder.encode(adminKey)) };
  const given = await crypto.subtle.digest("SHA-256", encoder.encode(key));
  return crypto.subtle.timingSafeEqual(given, adminDigest.digest);
}

/** The admin key's digest, computed once per isolate. */
let adminDigest: { key: string; digest: ArrayBuffer } | null = null;
