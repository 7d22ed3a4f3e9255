// The relay's answers about webhooks, the audit log, the admin views and the relay itself, as zod
// schemas (the messages' and agents' are in wire-schemas.ts, which re-exports these).

import { z } from "zod";
import { ERROR_STATUS, type ErrorCode } from "./errors.js";
import { clientTime, count, jsonObject, jsonValue, named, recipients, relayTime } from "./wire-fields.js";

export const webhookAttempt = named(
  "WebhookAttempt",
  "One webhook attempt",
  z.object({
    at: relayTime,
    agent: z.string(),
    messageId: z.string().nullable().meta({ description: "null for a test event" }),
    webhookId: z.string(),
    attempt: count,
    status: z.int().nullable().meta({ description: "HTTP status; null when no answer came" }),
    latencyMs: z.number(),
    error: z.string().nullable(),
    outcome: z.enum(["delivered", "retrying", "failed", "disabled", "test"]),
  }),
);

export const auditEntry = named(
  "AuditEntry",
  "An audit entry as the relay keeps it: what the agent posted, plus payloadSha256, loggedBy and loggedAt",
  z.object({
    messageId: z.string(),
    direction: z.enum(["sent", "received"]),
    from: z.string(),
    to: recipients,
    topic: z.string().nullable(),
    correlationId: z.string().nullable(),
    payload: jsonValue.meta({ description: "As posted; sealed: base64 of ephemeral key, nonce and box" }),
    payloadSha256: z.string(),
    sealed: z.boolean(),
    ts: clientTime,
    loggedBy: z.string(),
    loggedAt: relayTime,
  }),
);

/** An audit page's cursor: its oldest loggedAt, then ~<shard> when entries of that millisecond remain in lower shards. */
export const AUDIT_CURSOR_PATTERN = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z(~\d{1,3})?$/;

export const auditPage = named(
  "AuditPage",
  "Audit entries, newest first; pass cursor as before for the next page",
  z.object({ entries: z.array(auditEntry), cursor: z.string().regex(AUDIT_CURSOR_PATTERN).nullable(), hasMore: z.boolean() }),
);

export const deletedCount = named("DeletedCount", "How many entries were deleted", z.object({ deleted: count }));

export const minuteStats = named(
  "MinuteStats",
  "One minute: messages stored, left out of the feed by sampling, deliveries measured and their latency",
  z.object({ minute: relayTime, stored: count, sampledOut: count, delivered: count, latencyP50Ms: z.number().nullable(), latencyP95Ms: z.number().nullable() }),
);

export const webhookHealth = named(
  "WebhookHealth",
  "An agent's latest webhook attempt and the failures since its last delivery",
  z.object({ agent: z.string(), lastAt: relayTime, lastOutcome: webhookAttempt.shape.outcome, lastStatus: z.int().nullable(), failuresInRow: count }),
);

export const agentBacklog = named(
  "AgentBacklog",
  "An agent holding copies it has not been handed yet: the ts of the oldest, as its inbox last pushed it (reportedAt)",
  z.object({ agent: z.string(), oldestUndeliveredTs: relayTime, reportedAt: relayTime }),
);

/** Requests that reached one shared object since it was loaded (its count restarts then). */
const objectLoad = z.object({ shard: count, requests: count, since: relayTime });

export const adminStats = named(
  "AdminStats",
  "Throughput and delivery latency per minute, webhook health and undelivered backlog per agent, and the load on each shared object",
  z.object({
    generatedAt: relayTime,
    perMinute: z.array(minuteStats),
    webhooks: z.array(webhookHealth),
    feedPushWaitMs: count.meta({ description: "How long inboxes are now told to wait between feed pushes: how far behind the feed may be" }),
    backlog: z
      .array(agentBacklog)
      .meta({ description: "The agents with something undelivered, oldest first (at most 100): the ones that stopped reading" }),
    objects: z.object({ directory: objectLoad.omit({ shard: true }), feed: z.array(objectLoad.extend({ pushWaitMs: count })), presence: z.array(objectLoad), audit: z.array(objectLoad) }),
  }),
);

export const health = named(
  "Health",
  "Liveness, agent count (may lag 5 s) and version; auditKey when audit entries are sealed",
  z.object({ status: z.literal("ok"), ts: relayTime, agents: count, version: z.string(), auditKey: z.string().optional() }),
);

export const openApiDocument = named(
  "OpenApiDocument",
  "An OpenAPI 3.1 document",
  z.looseObject({ openapi: z.string(), info: z.looseObject({ title: z.string(), version: z.string() }), paths: z.record(z.string(), jsonObject) }),
);

export const errorBody = named(
  "Error",
  "Every error: a sentence for people and a code for programs (names: the recipients concerned; retryAfter: seconds)",
  z.object({
    error: z.string(),
    code: z.enum(Object.keys(ERROR_STATUS) as [ErrorCode, ...ErrorCode[]]),
    names: z.array(z.string()).optional(),
    retryAfter: z.int().optional(),
    requestId: z.string().optional(),
  }),
);

export type Health = z.infer<typeof health>;
export type AdminStats = z.infer<typeof adminStats>;
