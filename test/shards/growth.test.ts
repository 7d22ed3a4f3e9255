// Growing a shard count on a live deployment: what was stored under fewer shards stays readable.
// Here this project's three shards meet what a relay of one shard (every earlier version: the
// objects "feed", "audit" and "presence-0") left behind — items, counts, entries and lastSeen of
// agents whose names now fall in other shards — written straight into shard 0 as that relay did.

import { env } from "cloudflare:workers";
import { expect, it, vi } from "vitest";
import type { EarlierFeedBatch } from "../../durable-objects/feed-batch.js";
import type { AgentPublic, AuditEntry, AuditPage, FeedItem } from "../../protocol/envelope.js";
import { ADMIN_KEY, call, inbox } from "../support/relay.js";
import { limits, registerInShard } from "../support/shards.js";

it("keeps the feed, channel counts, audit entries and presence that one shard held readable after growing to three", async () => {
  const agent = await registerInShard("grown", 2, 3);
  const key = agent.name.toLowerCase();
  const topic = `grown.${crypto.randomUUID().slice(0, 8)}`;
  const ts = new Date().toISOString();
  const item: FeedItem = { id: crypto.randomUUID(), from: "someone", to: agent.name, ts, type: "notification", topic, encrypted: false, bytes: 10, preview: "old" };
  // As the relay of one shard pushed it: before delivery states (no `states`, no `agent`).
  const batch: EarlierFeedBatch = { items: [item], dropped: 0, topics: new Map([[topic, { count: 5, lastTs: Date.parse(ts) }]]), perMinute: new Map(), attempts: [], latencies: [] };
  await env.FEED.getByName("feed").record(batch);
  const old: Omit<AuditEntry, "loggedAt"> = {
    messageId: crypto.randomUUID(), direction: "sent", from: agent.name, to: "bob", topic, correlationId: null,
    payload: "old", payloadSha256: "0".repeat(64), sealed: false, ts, loggedBy: agent.name,
  };
  expect(await env.AUDIT.getByName("audit").append(old, key, limits.auditMaxEntries)).toEqual(expect.any(String));
  const seenBefore = Date.now(); // after the registration: older times belong to an earlier agent of the name
  await env.PRESENCE.getByName("presence-0").record(key, seenBefore);

  // Presence (before the agent's first request): the old shard's lastSeen shows, and the agent's own shard takes over once it pushes.
  const listed = async () => (await call<AgentPublic[]>("GET", "/agents", { key: ADMIN_KEY })).body.find((a) => a.name === agent.name)!;
  expect(Date.parse((await listed()).lastSeen!)).toBe(seenBefore);
  expect((await inbox(agent)).status).toBe(200);
  await vi.waitFor(async () => expect(Date.parse((await listed()).lastSeen!)).toBeGreaterThan(seenBefore), { timeout: 10_000, interval: 50 });

  // The feed item, by time and by a cursor of one number (a position in shard 0, as earlier versions gave).
  const byTime = await call<{ messages: FeedItem[] }>("GET", `/messages?topic=${topic}`, { key: ADMIN_KEY });
  expect(byTime.body.messages.map((m) => m.id)).toEqual([item.id]);
  const byArrival = await call<{ messages: FeedItem[] }>("GET", `/messages?afterSeq=0&topic=${topic}`, { key: ADMIN_KEY });
  expect(byArrival.body.messages.map((m) => m.id)).toEqual([item.id]);
  const channels = (await call<{ topic: string; count: number }[]>("GET", "/channels?detail=true", { key: ADMIN_KEY })).body;
  expect(channels.find((ch) => ch.topic === topic)?.count).toBe(5);

  // The audit entry, walked together with the agent's new ones (in shard 2).
  const fresh = await call<AuditEntry>("POST", "/audit", { key: agent.apiKey, json: { ...old, messageId: crypto.randomUUID(), payloadSha256: undefined, correlationId: undefined, sealed: undefined, loggedBy: undefined } });
  expect(fresh.status, fresh.text).toBe(201);
  const log = await call<AuditPage>("GET", `/audit?topic=${topic}`, { key: ADMIN_KEY });
  expect(log.body.entries.map((e) => e.messageId)).toEqual([fresh.body.messageId, old.messageId]);

});
