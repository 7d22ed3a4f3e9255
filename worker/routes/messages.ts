// Messages (SPEC §4.1, §4.2): send, receive, read one, delete, ack; channels.

import type { MessagePage } from "../../protocol/envelope.js";
import { RelayError, unwrap } from "../../protocol/errors.js";
import { isoTime } from "../../protocol/time.js";
import { feedStub } from "../../durable-objects/feed.js";
import { inboxStub } from "../../durable-objects/inbox.js";
import type { MessageQuery } from "../../durable-objects/inbox-store.js";
import { json } from "../http.js";
import { messageQuery } from "../query.js";
import { agentCaller, type RouteContext, type RouteTable } from "../router.js";
import { parseAck } from "../schemas.js";
import { send } from "../send.js";

/** The page fields beside `messages` (SPEC §4.2); `cursor` is `oldestTs` for compatibility. */
function pageFields(count: number, oldest: number | null, newest: number | null, hasMore: boolean): Omit<MessagePage, "messages"> {
  const oldestTs = oldest === null ? null : isoTime(oldest);
  return { count, cursor: oldestTs, oldestTs, newestTs: newest === null ? null : isoTime(newest), hasMore };
}

/**
 * A long-poll cut short by a redeploy or restart of the inbox object answers an empty page; the
 * client polls again (SPEC §4.2).
 */
async function listInbox(c: RouteContext, name: string, keyHash: string, query: MessageQuery & { wait: number }) {
  const stub = inboxStub(c.env, name);
  try {
    return await stub.list(keyHash, query, query.wait);
  } catch (error) {
    const reset = error instanceof Error && ("durableObjectReset" in error || "retryable" in error);
    if (query.wait > 0 && reset) return { messages: [], hasMore: false, oldestTs: null, newestTs: null };
    throw error;
  }
}

async function receive(c: RouteContext): Promise<Response> {
  const query = messageQuery(c.url.searchParams, c.limits);
  if (c.caller?.role === "admin") {
    const afterSeq = c.url.searchParams.get("afterSeq");
    if (afterSeq !== null && !/^\d{1,15}$/.test(afterSeq)) throw new RelayError("BAD_REQUEST", "afterSeq: expected a whole number.");
    const page = await feedStub(c.env).query(afterSeq === null ? query : { ...query, afterSeq: Number(afterSeq) }, query.wait);
    return json({ messages: page.items, ...pageFields(page.items.length, page.oldestTs, page.newestTs, page.hasMore), lastSeq: page.lastSeq });
  }
  const caller = agentCaller(c);
  const page = unwrap(await listInbox(c, caller.name, caller.keyHash, query));
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
    POST: { summary: "Send a message (direct, multicast or broadcast)", access: "agent", inboxChecksKey: true, body: true, handle: send },
    GET: {
      summary: "Receive: the caller's inbox (agent) or the global metadata feed (admin)",
      access: "agent-or-admin",
      inboxChecksKey: true,
      handle: receive,
    },
  },
  "/messages/ack": {
    POST: {
      summary: "Delete several messages from the caller's inbox",
      access: "agent",
      inboxChecksKey: true,
      body: true,
      async handle(c) {
        const caller = agentCaller(c);
        const ids = [...new Set(parseAck(c.limits, c.body).ids)];
        return json(unwrap(await inboxStub(c.env, caller.name).remove(caller.keyHash, ids)));
      },
    },
  },
  "/messages/:id": {
    GET: {
      summary: "One message from the caller's inbox",
      access: "agent",
      inboxChecksKey: true,
      async handle(c) {
        const caller = agentCaller(c);
        const found = unwrap(await inboxStub(c.env, caller.name).get(caller.keyHash, messageId(c)));
        return new Response(found, { headers: { "Content-Type": "application/json; charset=utf-8" } });
      },
    },
    DELETE: {
      summary: "Delete (ack) one message from the caller's inbox",
      access: "agent",
      inboxChecksKey: true,
      async handle(c) {
        const caller = agentCaller(c);
        const done = unwrap(await inboxStub(c.env, caller.name).remove(caller.keyHash, [messageId(c)]));
        if (done.deleted.length === 0) throw new RelayError("NOT_FOUND", "No message with this id in your inbox.");
        return new Response(null, { status: 204 });
      },
    },
  },
  "/channels": {
    GET: {
      summary: "Topics, most recent first: the caller's inbox (agent) or all (admin)",
      access: "agent-or-admin",
      inboxChecksKey: true,
      async handle(c) {
        if (c.caller?.role === "admin") {
          const channels = await feedStub(c.env).channels();
          return json(c.url.searchParams.get("detail") === "true" ? channels : channels.map((ch) => ch.topic));
        }
        const caller = agentCaller(c);
        return json(unwrap(await inboxStub(c.env, caller.name).channels(caller.keyHash)));
      },
    },
  },
};
