// Agents on chosen shards, for tests of the merged views (test/shards): names are hashed to shards
// by the relay's own function, so a test can put an agent in every shard.

import { env } from "cloudflare:workers";
import { readLimits } from "../../protocol/limits.js";
import { shardOf } from "../../durable-objects/stubs.js";
import { ADMIN_KEY, call, uniqueName, type TestAgent } from "./relay.js";

export const limits = readLimits(env);

/** Registers an agent whose name falls in shard `index` of `count`. */
export async function registerInShard(prefix: string, index: number, count: number, fields: Record<string, unknown> = {}): Promise<TestAgent> {
  let name = uniqueName(prefix);
  while (shardOf(name, count) !== index) name = uniqueName(prefix);
  const reply = await call<TestAgent>("POST", "/agents", { key: ADMIN_KEY, json: { name, ...fields } });
  if (reply.status !== 201) throw new Error(`register ${name}: ${reply.status} ${reply.text}`);
  return reply.body;
}

/** One agent in each of `count` shards. */
export function onePerShard(prefix: string, count: number, fields: Record<string, unknown> = {}): Promise<TestAgent[]> {
  return Promise.all(Array.from({ length: count }, (_, i) => registerInShard(prefix, i, count, fields)));
}
