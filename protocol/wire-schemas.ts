// The relay's answers as zod schemas: GET /openapi.json describes every endpoint's answers with
// these (worker/openapi.ts), and the tests check real answers against them. The interfaces of
// envelope.ts stay the types the code builds answers with, so the SDK's published declarations
// need no zod; each schema is proven identical to its interface at compile time (wire-proofs.ts),
// so a field added, dropped or retyped on one side fails `tsc`. Messages and agents are here; the
// rest in wire-schemas-system.ts, re-exported below so one module names every answer.

import { z } from "zod";
import type { CopyStatus } from "./envelope.js";
import { COPY_STATUSES } from "./envelope.js";
import { clientTime, count, deliveryVia, jsonObject, jsonValue, messageType, named, recipients, relayTime } from "./wire-fields.js";

export * from "./wire-schemas-system.js";

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

export type ChannelCount = z.infer<typeof channelCount>;
