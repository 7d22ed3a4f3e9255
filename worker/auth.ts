// Authentication: `Authorization: Bearer <key>`. The key is hashed once: that SHA-256 is compared
// with the admin key's in constant time (equal lengths by construction), and is the agent key's
// lookup hash. An agent key is found through the caches of identity.ts; the agent's own Inbox
// then confirms it is the current key (the key gate in durable-objects/inbox.ts).

import { failures, RelayError } from "../protocol/errors.js";
import { agentForKey } from "./identity.js";

export interface AdminCaller {
  role: "admin";
}

export interface AgentCaller {
  role: "agent";
  name: string;
  /** SHA-256 (hex) of the API key, which the agent's inbox checks. */
  keyHash: string;
}

export type Caller = AdminCaller | AgentCaller;

const AGENT_KEY = /^ct_[A-Za-z0-9_-]{43}$/;
const BEARER = /^Bearer +(\S+) *$/i;

export async function authenticate(request: Request, env: Env, ctx: ExecutionContext): Promise<Caller> {
  const header = request.headers.get("Authorization");
  if (header === null) throw new RelayError(failures.missingAuthorization);
  const key = BEARER.exec(header)?.[1];
  if (key === undefined || key.length > 512) throw new RelayError(failures.malformedAuthorization);
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(key));
  if (await isAdminDigest(digest, env)) return { role: "admin" };
  if (!AGENT_KEY.test(key)) throw new RelayError(failures.invalidKey);
  const keyHash = hex(digest);
  const name = await agentForKey(env, ctx, keyHash);
  if (name === null) throw new RelayError(failures.invalidKey);
  return { role: "agent", name, keyHash };
}

/** The admin key's digest, computed once per isolate (and again if the secret changes). */
let adminDigest: { key: string; digest: ArrayBuffer } | null = null;
let warnedNoAdminKey = false;

async function isAdminDigest(given: ArrayBuffer, env: Env): Promise<boolean> {
  const adminKey = typeof env.ADMIN_KEY === "string" ? env.ADMIN_KEY : "";
  if (adminKey === "") {
    if (!warnedNoAdminKey) console.warn("clawtalk: ADMIN_KEY is not set; admin routes are closed");
    warnedNoAdminKey = true;
    return false;
  }
  if (adminDigest?.key !== adminKey) {
    adminDigest = { key: adminKey, digest: await crypto.subtle.digest("SHA-256", new TextEncoder().encode(adminKey)) };
  }
  return crypto.subtle.timingSafeEqual(given, adminDigest.digest);
}

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));

function hex(digest: ArrayBuffer): string {
  let out = "";
  for (const byte of new Uint8Array(digest)) out += HEX[byte];
  return out;
}
