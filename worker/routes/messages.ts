// Messages (SPEC §4.1, §4.2): send (send.ts), receive, read one, delete, ack; channels.

import type { MessagePage } from "../../protocol/envelope.js";
import { failures, RelayError, unwrap } from "../../protocol/errors.js";
import { isoTime } from "../../protocol/time.js";
import type { MessageQuery } from "../../durable-objects/message-query.js";
import { inboxStub } from "../../durable-objects/stubs.js";
import type { AgentCaller } from "../auth.js";
import { json } from "../http.js";
import { messageQuery } from "../query.js";
import { endpoint, type RouteContext, type RouteTable } from "../router.js";
import { bodies } from "../schemas.js";
import { parseFeedCursor, readFeed } from "../shards/feed.js";
import { readChannels } from "../shards/stats.js";
import { sendEndpoint } from "./send.js";

/** The page fields beside `messages` (SPEC §4.2); `cursor` is `oldestTs` for compatibility. */
function pageFields(count: number, oldest: number | null, newest: number | null, hasMore: boolean): Omit<MessagePage, "messages"> {
  const oldestTs = oldest === null ? null : isoTime(oldest);
  return { count, cursor: oldestTs, oldestTs, newestTs: newest === null ? null : isoTime(newest), hasMore };
}

/**
 * A long-poll cut short by a redeploy or restart of the inbox object answers an empty page; the
 * client polls again (SPEC §4.2).
 */
async function listInbox(c: RouteContext, caller: AgentCaller, query: MessageQuery & { wait: number }) {
  try {
    return await inboxStub(c.env, caller.name).list(caller.keyHash, query, query.wait);
  } catch (error) {
    const reset = error instanceof Error && ("durableObjectReset" in error || "retryable" in error);
    if (query.wait > 0 && reset) return { messages: [], hasMore: false, oldestTs: null, newestTs: null };
    throw error;
  }
}

async function receive(c: RouteContext<"agent-or-admin">): Promise<Response> {
  const query = messageQuery(c.url.searchParams, c.limits);
  if (c.caller.role === "admin") {
    // The global feed, merged over its shards (worker/shards/feed.ts).
    const afterSeq = c.url.searchParams.get("afterSeq");
    const { wait, ...filters } = query;
    return json(await readFeed(c.env, c.limits, filters, afterSeq === null ? undefined : parseFeedCursor(afterSeq, c.limits.feedShards), wait));
  }
  const page = unwrap(await listInbox(c, c.caller, query));
  // Envelopes arrive as stored JSON; splice them in rather than parse and re-serialize.
  const fields = JSON.stringify(pageFields(page.messages.length, page.oldestTs, page.newestTs, page.hasMore)).slice(1);
  return new Response(`{"messages":[${page.messages.join(",")}],${fields}`, {
    headers: { "Content-Type": "application/json; charset=utf-8" },
  });
}

/** The id in the path; the Inbox answers 404 for anything it does not hold (after checking the key). */
function messageId(c: RouteContext): string {
  const id = c.params.id ?? "";
  return id.length <= 128 ? id : "";
}

export const messageRoutes: RouteTable = {
  "/messages": {
    POST: sendEndpoint,
    GET: endpoint({
      summary: "Receive: the caller's inbox (agent) or the global metadata feed (admin)",
      access: "agent-or-admin",
      keyCheck: "handler",
      handle: receive,
    }),
  },
  "/messages/ack": {
    POST: endpoint({
      summary: "Delete several messages from the caller's inbox",
      access: "agent",
      keyCheck: "handler",
      body: bodies.ack,
      async handle(c) {
        const ids = [...new Set(c.body.ids)];
        return json(unwrap(await inboxStub(c.env, c.caller.name).remove(c.caller.keyHash, ids)));
      },
    }),
  },
  "/messages/:id": {
    GET: endpoint({
      summary: "One message from the caller's inbox",
      access: "agent",
      keyCheck: "handler",
      async handle(c) {
        const found = unwrap(await inboxStub(c.env, c.caller.name).get(c.caller.keyHash, messageId(c)));
        return new Response(found, { headers: { "Content-Type": "application/json; charset=utf-8" } });
      },
    }),
    DELETE: endpoint({
      summary: "Delete (ack) one message from the caller's inbox",
      access: "agent",
      keyCheck: "handler",
      async handle(c) {
        const done = unwrap(await inboxStub(c.env, c.caller.name).remove(c.caller.keyHash, [messageId(c)]));
        if (done.deleted.length === 0) throw new RelayError(failures.noSuchMessage);
        return new Response(null, { status: 204 });
      },
    }),
  },
  "/channels": {
    GET: endpoint({
      summary: "Topics, most recent first: the caller's inbox (agent) or all (admin)",
      access: "agent-or-admin",
      keyCheck: "handler",
      async handle(c) {
        if (c.caller.role === "admin") {
          const channels = await readChannels(c.env, c.limits);
          return json(c.url.searchParams.get("detail") === "true" ? channels : channels.map((ch) => ch.topic));
        }
        return json(unwrap(await inboxStub(c.env, c.caller.name).channels(c.caller.keyHash)));
      },
    }),
  },
};
