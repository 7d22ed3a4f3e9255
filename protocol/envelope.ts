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
  /** Replies between agents (SPEC §12): 0 without replyTo, else the replied-to message's depth + 1. */
  depth?: number;
  /** In answers to the recipient only: whether this copy had been delivered before this answer. */
  delivered?: boolean;
}

export interface RecipientReceipt {
  name: string;
  ts: string;
}

/** How a copy first reached its recipient (SPEC §11.1). */
export type DeliveryVia = "poll" | "webhook" | "mcp";
export const DELIVERY_VIAS: readonly DeliveryVia[] = ["poll", "webhook", "mcp"];

/** Where a stored copy is: stored → delivered → acked, or expired; rejected when it was never stored. */
export type DeliveryStatus = "stored" | "delivered" | "acked" | "expired" | "rejected";

/** The states a stored copy can be in (every one but `rejected`): what the admin feed shows of each item. */
export type CopyStatus = Exclude<DeliveryStatus, "rejected">;
export const COPY_STATUSES: readonly CopyStatus[] = ["stored", "delivered", "acked", "expired"];

/** One recipient's copy, as its sender sees it (GET /messages/:id/receipts). */
export interface DeliveryReceipt {
  name: string;
  status: DeliveryStatus;
  /** The copy's ts in the recipient's inbox (the send's time, for a rejected copy). */
  ts: string;
  deliveredAt?: string;
  via?: DeliveryVia;
  ackedAt?: string;
  /** A rejected copy's reason (INBOX_FULL, UNAVAILABLE, …). */
  code?: string;
}

/** 200 of GET /messages/:id/receipts: a row per recipient, or counts for a broadcast. */
export type Receipts =
  | { id: string; ts: string; recipients: DeliveryReceipt[] }
  | { id: string; ts: string; broadcast: { total: number; stored: number; delivered: number; acked: number; rejected: number } };

export interface RejectedRecipient {
  name: string;
  /** UNAVAILABLE: that inbox could not be reached; sending again with the same id stores only the missing copies. */
  code: "INBOX_FULL" | "CONFLICT" | "UNKNOWN_RECIPIENT" | "UNAVAILABLE" | "NOT_ACCEPTED";
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
/** Whom an agent accepts messages from (SPEC §12). */
export type ContactPolicy = "anyone" | "contacts";

export interface AgentPrivate extends AgentPublic {
  createdAt: string;
  webhookUrl: string | null;
  webhookDisabled: string | null;
  deleteOnDelivery: boolean;
  accept: ContactPolicy;
  /** With `accept: "contacts"`, the only senders accepted (names compared case-insensitively). */
  contacts: string[];
}

/** One entry of GET /agents/:name/keys, oldest first (SPEC §12). */
export interface KeyHistoryEntry {
  publicKey: string | null;
  signingKey: string | null;
  since: string;
  by: "registration" | "agent" | "admin";
  /** The agent's keyChangeSignature by its previous signing key, when it made the change itself. */
  signature?: string;
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
  /** UTF-8 bytes of the stored envelope. */
  bytes: number;
  preview?: string;
  /** This copy came from a broadcast (`to` is then the inbox that got it). */
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

/** One audit entry as the relay keeps it (SPEC §13): what the agent posted, plus the relay's fields. */
export interface AuditEntry {
  messageId: string;
  direction: "sent" | "received";
  from: string;
  to: Recipients;
  topic: string | null;
  correlationId: string | null;
  /** As posted: the plaintext, or (sealed) base64 of ephemeral key ‖ nonce ‖ box the relay cannot open. */
  payload: JsonValue;
  /** SHA-256 (hex) of the payload: its UTF-8 for a string, its RFC 8785 canonical JSON otherwise. */
  payloadSha256: string;
  sealed: boolean;
  ts: string;
  /** The agent that posted the entry (registered spelling). */
  loggedBy: string;
  /** The relay's time of logging: unique and strictly increasing across the log, so it is an exact cursor. */
  loggedAt: string;
}

/** GET /audit: newest first; `cursor` is the oldest `loggedAt` of the page (pass it as `before`). */
export interface AuditPage {
  entries: AuditEntry[];
  cursor: string | null;
  hasMore: boolean;
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
  /** Base64 Ed25519 signature by the previous signing key over keyChangeStatement(...) (SPEC §12). */
  keyChangeSignature?: string;
  deleteOnDelivery?: boolean;
  accept?: ContactPolicy;
  contacts?: string[];
  owner?: string;
}

/**
 * What an agent signs, with its current signing key, to change its keys (SPEC §12): the canonical
 * JSON (RFC 8785) of this object, with the keys it will have after the change (null for none).
 */
export function keyChangeStatement(name: string, publicKey: string | null, signingKey: string | null) {
  return { type: "clawtalk-key-change", name, publicKey, signingKey } as const;
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
  /** The payload is sealed to the relay's audit key (SPEC §13). */
  sealed?: boolean;
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
