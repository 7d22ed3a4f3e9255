// Wire types of the HTTP API (SPEC §4). Types only: validation lives in the Worker, so the
// client can import these without pulling in the relay.

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

export type MessageType = "request" | "response" | "notification";
export const MESSAGE_TYPES: readonly MessageType[] = ["request", "response", "notification"];

/** `to` as the sender wrote it: one name, several, or "broadcast". */
export type Recipients = string | string[];

/** One recipient's sealed part of an encrypted multicast (SPEC §4.1 `payloads`). */
export interface SealedPart {
  payload: string;
  nonce: string;
  signature?: string;
}

/** The body of POST /messages. */
export interface SendRequest {
  to: Recipients;
  type: MessageType;
  encrypted: boolean;
  payload?: string | { [key: string]: JsonValue };
  payloads?: Record<string, SealedPart>;
  topic?: string;
  correlationId?: string;
  replyTo?: string;
  nonce?: string;
  signature?: string;
  id?: string;
  sentAt?: string;
  ttl?: number;
}

/** A stored message: what the sender sent, plus `id`, `from`, `to` and the inbox's `ts`. */
export interface Envelope {
  id: string;
  from: string;
  to: Recipients;
  ts: string;
  type: MessageType;
  encrypted: boolean;
  payload: string | { [key: string]: JsonValue };
  topic?: string;
  correlationId?: string;
  replyTo?: string;
  nonce?: string;
  signature?: string;
  sentAt?: string;
  ttl?: number;
}

export interface RecipientReceipt {
  name: string;
  ts: string;
}

export interface RejectedRecipient {
  name: string;
  code: "INBOX_FULL" | "CONFLICT" | "UNKNOWN_RECIPIENT";
}

/** 201 (or 200 for an idempotent replay) of POST /messages. */
export interface SendResponse {
  id: string;
  ts: string;
  recipients: RecipientReceipt[];
  rejected?: RejectedRecipient[];
  /** Broadcast only: the fan-out runs after the answer. */
  broadcast?: { status: "queued" };
}

/** 200 of GET /messages. */
export interface MessagePage<M = Envelope> {
  messages: M[];
  count: number;
  /** Equals `oldestTs` (compatibility with the original ClawTalk). */
  cursor: string | null;
  oldestTs: string | null;
  newestTs: string | null;
  hasMore: boolean;
}

/** What every caller may see of an agent. */
export interface AgentPublic {
  name: string;
  owner: string | null;
  capabilities: string[];
  publicKey: string | null;
  signingKey: string | null;
  online: boolean;
  lastSeen: string | null;
  webhook: boolean;
}

/** `GET /agents/me` and answers to the agent itself or the admin. */
export interface AgentPrivate extends AgentPublic {
  createdAt: string;
  webhookUrl: string | null;
  webhookDisabled: string | null;
  deleteOnDelivery: boolean;
}

/** 201 of POST /agents and POST /register. */
export interface Registration {
  name: string;
  apiKey: string;
  webhookSecret: string;
}

/** Metadata the admin feed shows of a stored message; never the payload of an encrypted one. */
export interface FeedItem {
  id: string;
  from: string;
  to: string;
  ts: string;
  type: MessageType;
  topic: string | null;
  encrypted: boolean;
  bytes: number;
  preview?: string;
  /** This copy came from a broadcast (`to` is still the one recipient it was stored for). */
  broadcast?: true;
}

export interface Invite {
  code: string;
  label: string | null;
  maxUses: number;
  uses: number;
  createdAt: string;
  expiresAt: string | null;
}

export interface AuditEntry {
  seq: number;
  messageId: string;
  direction: "sent" | "received";
  from: string;
  to: Recipients;
  topic: string | null;
  correlationId: string | null;
  payloadSha256: string;
  ts: string;
  loggedBy: string;
  loggedAt: string;
}

/** Body of POST /agents (and of POST /register, with `invite`). */
export interface RegisterRequest {
  name: string;
  owner?: string;
  publicKey?: string;
  signingKey?: string;
  capabilities?: string[];
  webhookUrl?: string;
}

/** Body of PATCH /agents/:name. `webhookUrl: null` clears the webhook; other nulls change nothing. */
export interface AgentPatch {
  webhookUrl?: string | null;
  capabilities?: string[];
  publicKey?: string;
  signingKey?: string;
  deleteOnDelivery?: boolean;
  owner?: string;
}

/** Body of POST /invites. */
export interface InviteRequest {
  label?: string;
  maxUses?: number;
  expiresInHours?: number;
}

/** Body of POST /audit. */
export interface AuditRequest {
  messageId: string;
  direction: "sent" | "received";
  from: string;
  to: Recipients;
  topic?: string;
  correlationId?: string;
  payload: JsonValue;
  ts: string;
}

/** One webhook attempt, as listed by GET /webhooks/deliveries (newest first). */
export interface WebhookAttempt {
  at: string;
  agent: string;
  /** The message delivered; null for a test event. */
  messageId: string | null;
  webhookId: string;
  attempt: number;
  /** HTTP status, or null when no answer came (timeout, connection error). */
  status: number | null;
  latencyMs: number;
  error: string | null;
  outcome: "delivered" | "retrying" | "failed" | "disabled" | "test";
}
