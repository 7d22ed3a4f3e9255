// Messages (SPEC §4.1, §4.2, §11.1): send (send.ts), receive, read one, delete, ack, receipts;
// channels.

import { z } from "zod";
import type { MessagePage } from "../../protocol/envelope.js";
import { nameKey } from "../../protocol/names.js";
import { failures, RelayError, unwrap } from "../../protocol/errors.js";
import { isoTime } from "../../protocol/time.js";
import { ackResult, channelCount, envelope, feedPage, messagePage, receipts } from "../../protocol/wire-schemas.js";
import type { Page } from "../../durable-objects/message-log.js";
import type { MessageQuery } from "../../durable-objects/message-query.js";
import { inboxStub } from "../../durable-objects/stubs.js";
import type { AgentCaller } from "../auth.js";
import { json } from "../http.js";
import { choiceParam, messageQuery, nameParam, queryParams, routeParams, viaParam, waitParam } from "../query.js";
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
async function listInbox(c: RouteContext, caller: AgentCaller, query: MessageQuery & { wait: number }, via: "poll" | "mcp") {
  try {
    return await inboxStub(c.env, caller.name).list(caller.keyHash, query, query.wait, via);
  } catch (error) {
    const reset = error instanceof Error && ("durableObjectReset" in error || "retryable" in error);
    if (query.wait > 0 && reset) return { messages: [], hasMore: false, oldestTs: null, newestTs: null };
    throw error;
  }
}

/**
 * One page of the agent's own inbox for these query parameters (SPEC §4.2): GET /messages and
 * the MCP tools check_inbox / wait_for_message (worker/mcp-backend.ts). Envelopes as stored JSON.
 */
export async function inboxPage(c: RouteContext, caller: AgentCaller, params: URLSearchParams): Promise<Page> {
  return unwrap(await listInbox(c, caller, messageQuery(params, c.limits), viaParam(params)));
}

async function receive(c: RouteContext<"agent-or-admin">): Promise<Response> {
  if (c.caller.role === "admin") {
    // The global feed, merged over its shards (worker/shards/feed.ts).
    const query = messageQuery(c.url.searchParams, c.limits);
    for (const agentOnly of ["unread", "via"]) {
      if (c.url.searchParams.has(agentOnly)) throw new RelayError(failures.badRequest(`${agentOnly}: only for an agent's own inbox (the admin feed shows each item's delivery state but is not filtered by it).`));
    }
    const afterSeq = c.url.searchParams.get("afterSeq");
    const { wait, ...filters } = query;
    return json(await readFeed(c.env, c.limits, filters, afterSeq === null ? undefined : parseFeedCursor(afterSeq, c.limits.feedShards), wait));
  }
  const page = await inboxPage(c, c.caller, c.url.searchParams);
  // Envelopes arrive as stored JSON; splice them in rather than parse and re-serialize.
  const fields = JSON.stringify(pageFields(page.messages.length, page.oldestTs, page.newestTs, page.hasMore)).slice(1);
  return new Response(`{"messages":[${page.messages.join(",")}],${fields}`, {
    headers: { "Content-Type": "application/json; charset=utf-8" },
  });
}

/** Deletes messages from the agent's own inbox: POST /messages/ack and the MCP tool ack_messages. */
export async function ackMessages(c: RouteContext, caller: AgentCaller, ids: string[]): Promise<{ deleted: string[]; missing: string[] }> {
  return unwrap(await inboxStub(c.env, caller.name).remove(caller.keyHash, [...new Set(ids)]));
}

/**
 * The receipts of a message the agent sent (SPEC §11.1), `wait` and `until` from `params`:
 * GET /messages/:id/receipts and the MCP tool message_status.
 */
export async function senderReceipts(c: RouteContext, caller: AgentCaller, id: string, params: URLSearchParams) {
  const wait = waitParam(params, c.limits);
  const until = choiceParam(params, "until", ["delivered", "acked"] as const, "delivered");
  return unwrap(await inboxStub(c.env, caller.name).receipts(caller.keyHash, id.length <= 128 ? id : "", wait, until));
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
      operationId: "listMessages",
      summary: "Receive: the caller's inbox (agent) or the global metadata feed (admin)",
      access: "agent-or-admin",
      keyCheck: "handler",
      query: [
        queryParams.sort,
        queryParams.after,
        queryParams.since,
        queryParams.before,
        queryParams.limit,
        queryParams.topic,
        queryParams.from,
        queryParams.wait,
        routeParams.unread,
        routeParams.via,
        routeParams.afterSeq,
      ],
      // The feed page first: it needs lastSeq, so an agent's page falls through to its own
      // schema, while an empty admin page would match messagePage too and lose its lastSeq.
      answers: { 200: { description: "An agent gets a page of its inbox; the admin a page of the global feed", json: z.union([feedPage, messagePage]) } },
      fails: ["BAD_REQUEST"],
      handle: receive,
    }),
  },
  "/messages/ack": {
    POST: endpoint({
      operationId: "ackMessages",
      summary: "Delete several messages from the caller's inbox",
      access: "agent",
      answers: { 200: { description: "What was deleted, and the ids that were not in the inbox", json: ackResult } },
      keyCheck: "handler",
      body: bodies.ack,
      async handle(c) {
        return json(await ackMessages(c, c.caller, c.body.ids));
      },
    }),
  },
  "/messages/:id": {
    GET: endpoint({
      operationId: "getMessage",
      summary: "One message from the caller's inbox",
      access: "agent",
      query: [routeParams.via],
      answers: { 200: { description: "The stored envelope", json: envelope } },
      fails: ["BAD_REQUEST", "NOT_FOUND"],
      keyCheck: "handler",
      async handle(c) {
        const found = unwrap(await inboxStub(c.env, c.caller.name).get(c.caller.keyHash, messageId(c), viaParam(c.url.searchParams)));
        return new Response(found, { headers: { "Content-Type": "application/json; charset=utf-8" } });
      },
    }),
    DELETE: endpoint({
      operationId: "deleteMessage",
      summary: "Delete (ack) one message from the caller's inbox",
      access: "agent",
      answers: { 204: { description: "Deleted" } },
      fails: ["NOT_FOUND"],
      keyCheck: "handler",
      async handle(c) {
        const done = unwrap(await inboxStub(c.env, c.caller.name).remove(c.caller.keyHash, [messageId(c)]));
        if (done.deleted.length === 0) throw new RelayError(failures.noSuchMessage);
        return new Response(null, { status: 204 });
      },
    }),
  },
  "/messages/:id/receipts": {
    GET: endpoint({
      operationId: "getReceipts",
      summary: "Delivery state of each copy of a message the caller sent (`wait`, `until`); the admin names the sender with `from`",
      access: "agent-or-admin",
      keyCheck: "handler",
      query: [routeParams.receiptsWait, routeParams.until, routeParams.sender],
      answers: { 200: { description: "A row per recipient, or counts for a broadcast", json: receipts } },
      fails: ["BAD_REQUEST", "NOT_FOUND"],
      async handle(c) {
        const params = c.url.searchParams;
        if (c.caller.role === "agent") return json(await senderReceipts(c, c.caller, messageId(c), params));
        const wait = waitParam(params, c.limits);
        const until = choiceParam(params, "until", ["delivered", "acked"] as const, "delivered");
        // The relay keeps receipts in the sender's inbox: the admin says whose message it is.
        const from = nameParam(params, "from");
        if (from === undefined) throw new RelayError(failures.badRequest("from: required with the admin key, the name of the message's sender."));
        return json(unwrap(await inboxStub(c.env, nameKey(from)).receipts(null, messageId(c), wait, until)));
      },
    }),
  },
  "/channels": {
    GET: endpoint({
      operationId: "listChannels",
      summary: "Topics, most recent first: the caller's inbox (agent) or all (admin)",
      access: "agent-or-admin",
      query: [routeParams.detail],
      answers: { 200: { description: "Topic names; for the admin with detail=true, topics with counts", json: z.union([z.array(z.string()), z.array(channelCount)]) } },
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
