// The relay's answers as zod schemas: GET /openapi.json describes every endpoint's answers with
// these (worker/openapi.ts), and the tests check real answers against them. The interfaces of
// envelope.ts stay the types the code builds answers with, so the SDK's published declarations
// need no zod; each schema is proven identical to its interface at compile time (wire-proofs.ts),
// so a field added, dropped or retyped on one side fails `tsc`.

import { z } from "zod";
import type { CopyStatus, DeliveryVia, Envelope, JsonValue } from "./envelope.js";
import { COPY_STATUSES, DELIVERY_VIAS, MESSAGE_TYPES } from "./envelope.js";
import { ERROR_STATUS, type ErrorCode } from "./errors.js";
import { parseIsoTime } from "./time.js";

/** A named shape: zod's registry keeps the id, and /openapi.json lists it under `components`. */
function named<T extends z.ZodType>(id: string, description: string, schema: T): T {
  return schema.meta({ id, description });
}

// ---- Fields ----

/** A time the relay assigned: ISO-8601 UTC with milliseconds. */
const relayTime = z.iso.datetime();
/** A time a client gave (sentAt, an audit entry's ts): ISO-8601 with a zone, kept as sent. */
const clientTime = z
  .string()
  .refine((text) => parseIsoTime(text) !== null)
  .meta({ format: "date-time" });
const count = z.int().nonnegative();
const jsonValue = z.custom<JsonValue>(() => true).meta({ description: "Any JSON value" });
const jsonObject = z.record(z.string(), jsonValue);
const recipients = z.union([z.string(), z.array(z.string())]).meta({ description: 'One name, several names, or "broadcast", as the sender wrote it' });
const messageType = z.enum(MESSAGE_TYPES as [Envelope["type"], ...Envelope["type"][]]);
const deliveryVia = z.enum(DELIVERY_VIAS as [DeliveryVia, ...DeliveryVia[]]);

// ---- Messages ----

export const sealedPart = named(
  "SealedPart",
  "One recipient's sealed part of an encrypted multicast",
  z.object({ payload: z.string(), nonce: z.string(), signature: z.string().optional() }),
);

export const envelope = named(
  "Envelope",
  "A stored message: what the sender sent, plus id, from, to and the inbox's ts",
  z.object({
    id: z.string(),
    from: z.string(),
    to: recipients,
    ts: relayTime,
    type: messageType,
    encrypted: z.boolean(),
    payload: z.union([z.string(), jsonObject]).meta({ description: "Text or a JSON object; base64 ciphertext when encrypted" }),
    topic: z.string().optional(),
    correlationId: z.string().optional(),
    replyTo: z.string().optional(),
    nonce: z.string().optional(),
    signature: z.string().optional(),
    sentAt: clientTime.optional(),
    ttl: z.int().optional(),
    depth: count.optional().meta({ description: "Replies deep (SPEC §12): 0 without replyTo, else the replied-to message's depth + 1" }),
    delivered: z.boolean().optional().meta({ description: "In answers to the recipient: whether this copy had been delivered before this answer" }),
  }),
);

export const recipientReceipt = named("RecipientReceipt", "A recipient whose inbox stored the message, with that inbox's ts", z.object({ name: z.string(), ts: relayTime }));

export const rejectedRecipient = named(
  "RejectedRecipient",
  "A recipient of a multicast whose inbox did not store the message (UNAVAILABLE: send again with the same id)",
  z.object({ name: z.string(), code: z.enum(["INBOX_FULL", "CONFLICT", "UNKNOWN_RECIPIENT", "UNAVAILABLE", "NOT_ACCEPTED"]) }),
);

export const sendResponse = named(
  "SendResponse",
  "The answer to a send: the id, the earliest ts, the recipients that stored it (a broadcast: queued)",
  z.object({
    id: z.string(),
    ts: relayTime,
    recipients: z.array(recipientReceipt),
    rejected: z.array(rejectedRecipient).optional(),
    broadcast: z.object({ status: z.literal("queued") }).optional(),
  }),
);

const pageFields = {
  count,
  cursor: relayTime.nullable().meta({ description: "Equals oldestTs (compatibility with the original ClawTalk)" }),
  oldestTs: relayTime.nullable(),
  newestTs: relayTime.nullable(),
  hasMore: z.boolean(),
};

export const messagePage = named("MessagePage", "A page of the caller's inbox", z.object({ messages: z.array(envelope), ...pageFields }));

export const feedItem = named(
  "FeedItem",
  "Metadata of a stored message, as the admin's feed shows it: never an encrypted payload, at most a 200-character preview",
  z.object({
    id: z.string(),
    from: z.string(),
    to: z.string(),
    ts: relayTime,
    type: messageType,
    topic: z.string().nullable(),
    encrypted: z.boolean(),
    bytes: count,
    preview: z.string().optional(),
    broadcast: z.literal(true).optional(),
  }),
);

export const feedEntry = feedItem.extend({
  seq: count.meta({ description: "The item's arrival in its feed shard (follow the feed with the page's lastSeq)" }),
  status: z
    .enum(COPY_STATUSES as [CopyStatus, ...CopyStatus[]])
    .meta({ description: "The copy's delivery state (SPEC §11.1) as its inbox last pushed it: it may lag the inbox by one feed push" }),
  via: deliveryVia.optional().meta({ description: "How the copy was first delivered, once it was" }),
  statusAt: relayTime.optional().meta({ description: "When the copy reached its status (absent while stored: see ts)" }),
});

/** A position per feed shard, whole numbers joined by _ (one number: shard 0, the one feed of earlier versions). */
export const FEED_CURSOR_PATTERN = /^\d{1,15}(_\d{1,15}){0,255}$/;

export const feedPage = named(
  "FeedPage",
  "A page of the admin's global feed (metadata only)",
  z.object({ messages: z.array(feedEntry), ...pageFields, lastSeq: z.string().regex(FEED_CURSOR_PATTERN).meta({ description: "The position in every feed shard after this page: pass it as afterSeq" }) }),
);

export const deliveryReceipt = named(
  "DeliveryReceipt",
  "One recipient's copy as its sender sees it: stored, delivered (when, how), acked, expired or rejected (code: why)",
  z.object({
    name: z.string(),
    status: z.enum(["stored", "delivered", "acked", "expired", "rejected"]),
    ts: relayTime.meta({ description: "The copy's ts in the recipient's inbox (the send's time, for a rejected copy)" }),
    deliveredAt: relayTime.optional(),
    via: deliveryVia.optional(),
    ackedAt: relayTime.optional(),
    code: z.string().optional(),
  }),
);

export const receipts = named(
  "Receipts",
  "The delivery state of a message the caller sent: a row per recipient, or counts for a broadcast",
  z.union([
    z.object({ id: z.string(), ts: relayTime, recipients: z.array(deliveryReceipt) }),
    z.object({
      id: z.string(),
      ts: relayTime,
      broadcast: z.object({ total: count, stored: count, delivered: count, acked: count, rejected: count }),
    }),
  ]),
);

export const ackResult = named("AckResult", "Which of the ids were deleted and which were not in the inbox", z.object({ deleted: z.array(z.string()), missing: z.array(z.string()) }));

export const channelCount = named("ChannelCount", "A topic with its message count and latest ts", z.object({ topic: z.string(), count, lastTs: relayTime }));

// ---- Agents ----

export const agentPublic = named(
  "AgentPublic",
  "What every caller may see of an agent",
  z.object({
    name: z.string(),
    owner: z.string().nullable(),
    capabilities: z.array(z.string()),
    publicKey: z.string().nullable(),
    signingKey: z.string().nullable(),
    online: z.boolean(),
    lastSeen: relayTime.nullable(),
    webhook: z.boolean(),
  }),
);

export const agentPrivate = named(
  "AgentPrivate",
  "An agent's record with its private settings, as the agent itself and the admin see it",
  agentPublic.extend({
    createdAt: relayTime,
    webhookUrl: z.string().nullable(),
    webhookDisabled: z.string().nullable(),
    deleteOnDelivery: z.boolean(),
    accept: z.enum(["anyone", "contacts"]).meta({ description: "Whom the agent accepts messages from (SPEC §12)" }),
    contacts: z.array(z.string()).meta({ description: 'With accept "contacts": the only senders accepted (case-insensitive; need not exist yet)' }),
  }),
);

export const keyHistoryEntry = named(
  "KeyHistoryEntry",
  "One set of keys an agent had, from `since` (SPEC §12); signature: the agent's keyChangeSignature by its previous signing key",
  z.object({
    publicKey: z.string().nullable(),
    signingKey: z.string().nullable(),
    since: relayTime,
    by: z.enum(["registration", "agent", "admin"]),
    signature: z.string().optional(),
  }),
);

export const agentUpdated = named(
  "AgentUpdated",
  "The updated record; webhookSecret when a new webhookUrl was set",
  agentPrivate.extend({ webhookSecret: z.string().optional() }),
);

export const registration = named("Registration", "A new agent's key and webhook secret, shown once", z.object({ name: z.string(), apiKey: z.string(), webhookSecret: z.string() }));

export const keyRotation = named("KeyRotation", "The agent's new API key; the old one is refused from now on", z.object({ name: z.string(), apiKey: z.string() }));

export const webhookSecretRotation = named(
  "WebhookSecretRotation",
  "The new webhook secret, and until when the old one keeps signing beside it",
  z.object({ webhookSecret: z.string(), previousSecretValidUntil: relayTime }),
);

export const webhookTestResult = named(
  "WebhookTestResult",
  "The outcome of a test event sent to the agent's webhook",
  z.object({ ok: z.boolean(), webhookId: z.string(), status: z.int().nullable(), latencyMs: z.number(), error: z.string().nullable() }),
);

export const invite = named(
  "Invite",
  "An invite code for POST /register",
  z.object({ code: z.string(), label: z.string().nullable(), maxUses: count, uses: count, createdAt: relayTime, expiresAt: relayTime.nullable() }),
);

// ---- Webhooks, audit, admin, system ----

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
export type ChannelCount = z.infer<typeof channelCount>;
