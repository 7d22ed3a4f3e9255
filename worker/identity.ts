// Who holds an API key, and which names exist: the hot-path lookups, answered from an
// in-isolate cache, then Workers KV (a global read cache), then the Directory.
//
// Both mappings are safe to cache: a key hash belongs to one agent forever (a rotated key's
// hash simply stops being accepted by the agent's Inbox, which checks the current hash on
// every request), and a stale "name exists" is caught by the recipient Inbox, which answers
// "unknown" once the agent is gone. Unknown names are never cached, so a name registered a
// moment ago is found at once (read-your-writes).

import { nameKey } from "../protocol/names.js";
import { directoryStub } from "../durable-objects/stubs.js";

class ExpiringCache<V> {
  private readonly entries = new Map<string, { value: V; until: number }>();
  constructor(private readonly maxEntries: number, private readonly ttlMs: number) {}

  get(key: string): V | undefined {
    const hit = this.entries.get(key);
    if (hit === undefined) return undefined;
    if (hit.until > Date.now()) return hit.value;
    this.entries.delete(key);
    return undefined;
  }

  set(key: string, value: V): void {
    this.entries.delete(key);
    if (this.entries.size >= this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
    this.entries.set(key, { value, until: Date.now() + this.ttlMs });
  }

  delete(key: string): void {
    this.entries.delete(key);
  }
}

/** key hash -> registered name, or null for a hash no agent holds (keys are random, so that stays true). */
const keys = new ExpiringCache<string | null>(20_000, 5 * 60_000);
/** name key -> registered spelling. */
const names = new ExpiringCache<string>(20_000, 60_000);

/** KV edge caching of a read, in seconds (KV's minimum is 30). */
const KV_CACHE_TTL_S = 300;

const kvKey = (keyHash: string) => `key:${keyHash}`;
const kvName = (key: string) => `name:${key}`;

export async function agentForKey(env: Env, ctx: ExecutionContext, keyHash: string): Promise<string | null> {
  const cached = keys.get(keyHash);
  if (cached !== undefined) return cached;
  let name = await env.IDENTITY.get(kvKey(keyHash), { cacheTtl: KV_CACHE_TTL_S });
  if (name === null) {
    name = await directoryStub(env).authenticate(keyHash);
    if (name !== null) ctx.waitUntil(env.IDENTITY.put(kvKey(keyHash), name));
  }
  keys.set(keyHash, name);
  return name;
}

/** Registered spellings of the names that exist, by name key. */
export async function resolveNames(env: Env, ctx: ExecutionContext, wanted: string[]): Promise<Map<string, string>> {
  const found = new Map<string, string>();
  let missing: string[] = [];
  for (const key of wanted.map(nameKey)) {
    const hit = names.get(key);
    if (hit === undefined) missing.push(key);
    else found.set(key, hit);
  }
  if (missing.length > 0) {
    const fromKv = await Promise.all(missing.map((key) => env.IDENTITY.get(kvName(key), { cacheTtl: KV_CACHE_TTL_S })));
    missing = missing.filter((key, i) => {
      const name = fromKv[i];
      if (name === null || name === undefined) return true;
      found.set(key, name);
      names.set(key, name);
      return false;
    });
  }
  if (missing.length > 0) {
    const fromDirectory = await directoryStub(env).resolve(missing);
    for (const [key, name] of Object.entries(fromDirectory)) {
      found.set(key, name);
      names.set(key, name);
      ctx.waitUntil(env.IDENTITY.put(kvName(key), name));
    }
  }
  return found;
}

/** After a registration or key rotation: the new key works at once, here and through KV. */
export async function rememberAgent(env: Env, keyHash: string, name: string): Promise<void> {
  keys.set(keyHash, name);
  names.set(nameKey(name), name);
  await Promise.all([env.IDENTITY.put(kvKey(keyHash), name), env.IDENTITY.put(kvName(nameKey(name)), name)]);
}

/** After a rotation or removal: drop what this isolate and KV know of the old key (and name). */
export async function forgetKey(env: Env, keyHash: string): Promise<void> {
  keys.delete(keyHash);
  await env.IDENTITY.delete(kvKey(keyHash));
}

export async function forgetName(env: Env, name: string): Promise<void> {
  names.delete(nameKey(name));
  await env.IDENTITY.delete(kvName(nameKey(name)));
}
