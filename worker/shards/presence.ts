// Presence over its shards (durable-objects/presence.ts): lastSeen of one agent from its shard, of
// every agent from all shards at once. An agent's lastSeen is the newest of what its shards and
// the Directory's own column hold: the Directory kept presence before the shards existed, and a
// shard may still hold it from before the count grew. A time from before the record was created
// belongs to an earlier agent of that name, and is not shown.

import type { Limits } from "../../protocol/limits.js";
import type { AgentRecord } from "../../durable-objects/agent-rows.js";
import { presenceStub, shardIndexes, shardOf } from "../../durable-objects/stubs.js";

/** lastSeen of every agent any shard knows, by name key. */
export async function allPresence(env: Env, limits: Limits): Promise<Map<string, number>> {
  const shards = await Promise.all(shardIndexes(limits.presenceShards).map((i) => presenceStub(env, i).all()));
  const seen = new Map<string, number>();
  for (const { agent, at } of shards.flat()) seen.set(agent, Math.max(at, seen.get(agent) ?? 0));
  return seen;
}

/** lastSeen of one agent (name key), from its shard. */
export function presenceOf(env: Env, limits: Limits, agent: string): Promise<number | null> {
  return presenceStub(env, shardOf(agent, limits.presenceShards)).lastSeen(agent);
}

/** The record's lastSeen given what the presence shards hold for it. */
export function lastSeenOf(record: AgentRecord, fromShards: number | null | undefined): number | null {
  const shards = fromShards !== null && fromShards !== undefined && fromShards >= record.createdAt ? fromShards : null;
  if (record.lastSeen === null) return shards;
  return shards === null ? record.lastSeen : Math.max(shards, record.lastSeen);
}

/** After a removal: the agent's shard forgets it (a new agent of that name starts unseen). */
export function forgetPresence(env: Env, limits: Limits, agent: string): Promise<void> {
  return presenceStub(env, shardOf(agent, limits.presenceShards)).forget(agent);
}
