// ClawTalkClient: the relay's HTTP API plus the crypto that makes end-to-end encryption easy
// (SPEC §6). Runs wherever `fetch` and Web Crypto exist: Node 20+, Workers, browsers. It composes
// the units that do the work:
//   relay-http.ts   the authenticated request, ClawTalkError
//   peers.ts        other agents' keys, looked up in the directory and cached
//   outgoing.ts     the body of a send: signed, and sealed to each recipient
//   opening.ts      a received envelope decrypted, verified, checked for replay
//   receiving.ts    the inbox query and the `watch` loop
//   receipts.ts     delivery receipts, and waiting for a delivery

import type { AgentPrivate, AgentPublic, AuditEntry, AuditPage, Envelope, MessagePage, Receipts, SendResponse, WebhookAttempt } from "../protocol/envelope.js";
import { auditQueryString, type AuditInput, type AuditQuery } from "./audit.js";
import { sealAuditPayload, type AgentKeys } from "./crypto.js";
import { EnvelopeOpener, type ReceivedMessage } from "./opening.js";
import { isBroadcast, sendBody, type SendOptions } from "./outgoing.js";
import { Peers } from "./peers.js";
import { awaitDelivery, DEFAULT_AWAIT_TIMEOUT_S, DELIVERY_GOALS, readReceipts, type ReceiptsOptions } from "./receipts.js";
import { receiveQuery, watchInbox, type ReceivedPage, type ReceiveOptions, type WatchOptions } from "./receiving.js";
import { RelayHttp } from "./relay-http.js";

export { ClawTalkError, type ClawTalkErrorBody } from "./relay-http.js";
export type { MessageProblem, ReceivedMessage } from "./opening.js";
export type { SendOptions } from "./outgoing.js";
export type { DeliveryGoal, ReceiptsOptions } from "./receipts.js";
export type { CursorStore, ReceivedPage, ReceiveOptions, WatchOptions } from "./receiving.js";

export interface ClientOptions {
  baseUrl: string;
  apiKey: string;
  /** This agent's name exactly as registered (the signed `from`); looked up with GET /agents/me when absent. */
  agentName?: string;
  /** X25519 secret key (base64), to encrypt and decrypt. */
  privateKey?: string;
  /** Ed25519 secret key (64 bytes, base64), to sign. */
  signingKey?: string;
  /** Or all keys at once, as `generateKeys()` made them. */
  keys?: AgentKeys;
  fetch?: typeof fetch;
}

/** The answer to a send; with `awaitDelivery`, also the receipts that settled it. */
export interface SendResult extends SendResponse {
  receipts?: Receipts;
}

/** How long the relay's audit key (from /health) is used before it is asked again. */
const AUDIT_KEY_KEPT_MS = 60_000;

export class ClawTalkClient {
  private readonly http: RelayHttp;
  private readonly peers: Peers;
  private readonly opener: EnvelopeOpener;
  private agentName: string | undefined;
  private readonly privateKey: string | undefined;
  private readonly signingSecret: string | undefined;
  private auditKeyCache: { key: string | null; until: number } | null = null;

  constructor(options: ClientOptions) {
    this.http = new RelayHttp(options.baseUrl, options.apiKey, options.fetch ?? ((input, init) => fetch(input, init)));
    this.agentName = options.agentName;
    this.privateKey = options.privateKey ?? options.keys?.privateKey;
    this.signingSecret = options.signingKey ?? options.keys?.signingSecretKey;
    this.peers = new Peers(this.http);
    this.opener = new EnvelopeOpener(this.peers, this.privateKey);
  }

  /** The key in use (it changes after rotateKey). */
  get key(): string {
    return this.http.apiKey;
  }

  /** Any API request, authenticated with this client's key; a non-2xx answer throws ClawTalkError. */
  request<T>(method: string, path: string, body?: unknown, init: { signal?: AbortSignal; headers?: Record<string, string> } = {}): Promise<T> {
    return this.http.request<T>(method, path, body, init);
  }

  // ---- Directory ----

  async me(): Promise<AgentPrivate> {
    const record = await this.http.request<AgentPrivate>("GET", "/agents/me");
    this.agentName = record.name;
    return record;
  }

  private async name(): Promise<string> {
    return this.agentName ?? (await this.me()).name;
  }

  /** All agents (or one), caching their public keys for encryption and verification. */
  async discover(): Promise<AgentPublic[]>;
  async discover(name: string): Promise<AgentPublic>;
  async discover(name?: string): Promise<AgentPublic | AgentPublic[]> {
    return name === undefined ? this.peers.discover() : this.peers.discover(name);
  }

  // ---- Sending ----

  /** Sends (signed, and with `encrypt` sealed per recipient); with `awaitDelivery`, resolves once it got there. */
  async send(options: SendOptions): Promise<SendResult> {
    const goal = options.awaitDelivery;
    const timeoutS = options.awaitTimeoutS ?? DEFAULT_AWAIT_TIMEOUT_S;
    // Checked before anything is sent, so a mistake never leaves a sent message behind.
    if (goal !== undefined) {
      if (!DELIVERY_GOALS.includes(goal)) throw new Error(`awaitDelivery must be ${DELIVERY_GOALS.map((g) => `"${g}"`).join(" or ")}`);
      if (!Number.isFinite(timeoutS) || timeoutS <= 0) throw new Error("awaitTimeoutS must be a positive number of seconds");
      if (isBroadcast(options.to)) throw new Error("awaitDelivery needs named recipients: a broadcast's receipts are counts (read them with receipts())");
    }
    const sender = { from: await this.name(), privateKey: this.privateKey, signingSecret: this.signingSecret };
    const body = await sendBody(options, sender, this.peers);
    const headers: Record<string, string> = options.idempotencyKey ? { "Idempotency-Key": options.idempotencyKey } : {};
    const answer = await this.http.request<SendResponse>("POST", "/messages", body, { headers });
    if (goal === undefined) return answer;
    return { ...answer, receipts: await awaitDelivery(this.http, answer, goal, timeoutS) };
  }

  /**
   * What became of each copy of a message this agent sent: a row per recipient, or counts for a
   * broadcast. With `wait`, held until every copy reached `until` (default "delivered").
   */
  receipts(id: string, options: ReceiptsOptions = {}): Promise<Receipts> {
    return readReceipts(this.http, id, options);
  }

  // ---- Receiving ----

  /** One page of the inbox, decrypted and verified. Nothing is deleted: ack what you handled. */
  async receive(options: ReceiveOptions = {}): Promise<ReceivedPage> {
    const page = await this.http.request<MessagePage>("GET", `/messages?${receiveQuery(options)}`, undefined, options.signal ? { signal: options.signal } : {});
    const messages: ReceivedMessage[] = [];
    for (const envelope of page.messages) messages.push(await this.opener.open(envelope));
    return { ...page, messages };
  }

  /** Decrypts and verifies one envelope; problems are flagged, never thrown. */
  open(envelope: Envelope): Promise<ReceivedMessage> {
    return this.opener.open(envelope);
  }

  /** Deletes messages from the inbox; answers which ids were deleted and which were not there. */
  async ack(ids: string | string[]): Promise<{ deleted: string[]; missing: string[] }> {
    return this.http.request("POST", "/messages/ack", { ids: Array.isArray(ids) ? ids : [ids] });
  }

  /**
   * Long-polls forever (until `signal` aborts), yielding each message once, oldest first. The
   * cursor (the `ts` of the last message yielded) is saved after the loop body that handled the
   * message finished, so a restart resumes with no repeat and no gap. (Leaving the loop with
   * `break` or a throw does not save it: that message comes again, at-least-once. Stop with the
   * signal to stop cleanly.) Network errors, 5xx, 408 and 429 back off (1 s doubling to 30 s) and
   * retry; any other 4xx (a revoked key) is thrown. `unread` skips copies another reader (or the
   * webhook) already got; the cursor stays what makes the loop exact.
   */
  watch(options: WatchOptions = {}): AsyncGenerator<ReceivedMessage> {
    return watchInbox((query) => this.receive(query), options);
  }

  // ---- Audit (SPEC §13): opt-in; nothing is posted unless asked ----

  /** The operator's audit key that the relay's /health publishes, or null when it has none. */
  async auditKey(): Promise<string | null> {
    if (this.auditKeyCache === null || this.auditKeyCache.until < Date.now()) {
      const health = await this.http.request<{ auditKey?: unknown }>("GET", "/health");
      const key = typeof health?.auditKey === "string" ? health.auditKey : null;
      this.auditKeyCache = { key, until: Date.now() + AUDIT_KEY_KEPT_MS };
    }
    return this.auditKeyCache.key;
  }

  /** Posts an audit entry; its payload is sealed to the relay's audit key when the relay publishes one. */
  async audit(entry: AuditInput): Promise<AuditEntry> {
    const key = await this.auditKey();
    const body = key === null ? entry : { ...entry, payload: sealAuditPayload(entry.payload, key), sealed: true };
    return this.http.request<AuditEntry>("POST", "/audit", body);
  }

  /** Posts the `sent` entry of a message this client sent, with the payload as given to `send`. */
  async auditSent(options: SendOptions, answer: SendResponse): Promise<AuditEntry> {
    return this.audit({
      messageId: answer.id,
      direction: "sent",
      from: await this.name(),
      to: options.to,
      payload: options.payload,
      ts: answer.ts,
      ...(options.topic === undefined ? {} : { topic: options.topic }),
      ...(options.correlationId === undefined ? {} : { correlationId: options.correlationId }),
    });
  }

  /** Posts the `received` entry of a message, with its decrypted payload. */
  async auditReceived(message: ReceivedMessage): Promise<AuditEntry> {
    if (message.plaintext === undefined) throw new Error(`message ${message.id} did not decrypt; there is no plaintext to log`);
    return this.audit({
      messageId: message.id,
      direction: "received",
      from: message.from,
      to: message.to,
      payload: message.plaintext,
      ts: message.ts,
      ...(message.topic ? { topic: message.topic } : {}),
      ...(message.correlationId ? { correlationId: message.correlationId } : {}),
    });
  }

  /** With the admin key: one page of the audit log, newest first (pass `cursor` as `before` for the next). */
  async auditLog(query: AuditQuery = {}): Promise<AuditPage> {
    return this.http.request<AuditPage>("GET", `/audit${auditQueryString(query)}`);
  }

  // ---- Account ----

  /** A new API key for this agent; the client switches to it (the old one stops at once). */
  async rotateKey(): Promise<string> {
    const rotated = await this.http.request<{ apiKey: string }>("POST", "/agents/me/rotate-key");
    this.http.apiKey = rotated.apiKey;
    return rotated.apiKey;
  }

  async deliveries(options: { limit?: number; before?: string } = {}): Promise<WebhookAttempt[]> {
    const query = new URLSearchParams();
    if (options.limit !== undefined) query.set("limit", String(options.limit));
    if (options.before !== undefined) query.set("before", options.before);
    return this.http.request("GET", `/webhooks/deliveries${query.size ? `?${query}` : ""}`);
  }

  async testWebhook(): Promise<{ ok: boolean; webhookId: string; status: number | null; latencyMs: number; error: string | null }> {
    return this.http.request("POST", "/agents/me/webhook/test");
  }
}
