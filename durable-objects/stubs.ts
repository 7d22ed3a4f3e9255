// Typed stubs of the relay's Durable Objects, by the name that addresses each. Objects call each
// other through these (Workers RPC), never by importing each other's code, so no object module
// depends on another at run time.
//
// The views whose load grows with the number of agents (feed, presence, audit) are spread over a
// fixed number of shards (FEED_SHARDS, PRESENCE_SHARDS, AUDIT_SHARDS): an agent's pushes and posts
// go to the shard its name hashes to, and readers ask every shard and merge (worker/shards/).
// Shard 0 of the feed and of the audit log keeps the name of the single object of earlier
// versions ("feed", "audit"), so a deployment that grows from one object to many keeps what it
// had: readers still read shard 0, and a cursor of a single number is a position in it. Growing a
// count is safe (nothing already stored becomes unreadable); lowering one hides the shards above
// the new count, so it needs a migration (README, "Changing a shard count").

import { nameKey } from "../protocol/names.js";

/** One Inbox per agent, named by the lower-cased agent name. */
export function inboxStub(env: Env, name: string) {
  return env.INBOX.getByName(nameKey(name));
}

/** The one Directory: agent records, key hashes, invites, name uniqueness. */
export function directoryStub(env: Env) {
  return env.DIRECTORY.getByName("directory");
}

/**
 * The shard of `count` that an agent's name falls in: FNV-1a (32 bits) of its name key, modulo
 * the count. Stable across isolates and versions, and spreads names evenly.
 */
export function shardOf(name: string, count: number): number {
  let hash = 0x811c9dc5;
  const key = nameKey(name);
  for (let i = 0; i < key.length; i++) {
    hash ^= key.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash % count;
}

/** 0 .. count-1. */
export function shardIndexes(count: number): number[] {
  return Array.from({ length: count }, (_, i) => i);
}

/** Feed shard `index`: the admin's views of the inboxes whose names fall in it. */
export function feedStub(env: Env, index: number) {
  return env.FEED.getByName(index === 0 ? "feed" : `feed-${index}`);
}

/** Presence shard `index`: lastSeen of the agents whose names fall in it. */
export function presenceStub(env: Env, index: number) {
  return env.PRESENCE.getByName(`presence-${index}`);
}

/** Audit shard `index`: the entries posted by the agents whose names fall in it. */
export function auditStub(env: Env, index: number) {
  return env.AUDIT.getByName(index === 0 ? "audit" : `audit-${index}`);
}
