// The inbox's message indexes (durable-objects/message-schema.ts): the topic index holds only
// messages that have a topic, and a topic filter still finds them through it.

import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { expect, it } from "vitest";
import { messageFilter } from "../../durable-objects/message-query.js";
import { inbox, register, send, textMessage } from "../support/relay.js";

it("a topic filter reads through the partial topic index, which holds only the messages with a topic", async () => {
  const bob = await register("idx_b");
  const alice = await register("idx_a");
  expect((await send(alice, textMessage(bob.name, "no topic"))).status).toBe(201);
  expect((await send(alice, textMessage(bob.name, "with topic", { topic: "news" }))).status).toBe(201);
  const filter = messageFilter({ topic: "news", limit: 10, sort: "desc" });
  const { plan, indexed } = await runInDurableObject(env.INBOX.getByName(bob.name.toLowerCase()), (_instance, state) => ({
    plan: state.storage.sql
      .exec<{ detail: string }>(`EXPLAIN QUERY PLAN SELECT * FROM messages WHERE expires_at > ? AND ${filter.sql} ORDER BY ts ${filter.order} LIMIT ?`, 0, ...filter.args, 11)
      .toArray()
      .map((r) => r.detail),
    indexed: state.storage.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM messages INDEXED BY messages_with_topic WHERE topic IS NOT NULL").one().n,
  }));
  expect(plan.join("; ")).toMatch(/USING INDEX messages_with_topic/);
  expect(indexed).toBe(1);
  const page = await inbox<{ messages: { payload: unknown }[] }>(bob, "topic=news");
  expect(page.body.messages.map((m) => m.payload)).toEqual(["with topic"]);
});
