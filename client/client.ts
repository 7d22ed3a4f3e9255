// ClawTalkClient: the relay's HTTP API plus the crypto that makes end-to-end encryption easy
// (SPEC §6). Runs wherever `fetch` and Web Crypto exist: Node 20+, Workers, browsers.

import type {
  AgentPrivate,
  AgentPublic,
  AuditEntry,
  AuditPage,
  Envelope,
  JsonValue,
  MessagePage,
  MessageType,
  Receipts,
  SendRequest,
  SendResponse,
  WebhookAttempt,
} from "../protocol/envelope.js";
import type { ErrorBody } from "../protocol/errors.js";
import { nameKey } from "../protocol/names.js";
import { auditQueryString, type AuditInput, type AuditQuery } from "./audit.js";
import { decrypt, encrypt, sealAuditPayload, sign, verifySignature, type AgentKeys } from "./crypto.js";

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

export interface SendOptions {
  to: string | string[];
  payload: JsonValue;
  type?: MessageType;
  topic?: string;
  correlationId?: string;
  replyTo?: string;
  ttl?: number;
  /** Encrypt for each recipient (one ciphertext per recipient). Needs `privateKey`. */
  encrypt?: boolean;
  /** Defaults to a new UUID; the same id makes a retried send idempotent. */
  id?: string;
  idempotencyKey?: string;
}

export interface ReceiveOptions {
  /** Defaults to "asc" (oldest first), the order pollers want. */
  sort?: "asc" | "desc";
  after?: string;
  before?: string;
  limit?: number;
  topic?: string;
  from?: string;
  /** Long-poll seconds. */
  wait?: number;
  /** Only copies not yet delivered (SPEC §11.1). */
  unread?: boolean;
  /** How the copies returned count as delivered: `poll` (the relay's default) or `mcp`. */
  via?: "poll" | "mcp";
  signal?: AbortSignal;
}

export interface ReceiptsOptions {
  /** Hold the request up to this many seconds until every recipient reached `until`. */
  wait?: number;
  until?: "delivered" | "acked";
}

/** What a received message turned out to be. A problem never aborts a batch. */
export type MessageProblem = "decrypt-failed" | "bad-signature" | "unknown-sender" | "replayed";

export interface ReceivedMessage extends Envelope {
  /** The decrypted payload of an encrypted message (the payload itself for plaintext). */
  plaintext?: JsonValue;
  /** The signature matched the sender's signingKey in the directory. */
  verified: boolean;
  /** Verified in the original ClawTalk client's signature form. */
  legacy?: boolean;
  problems: MessageProblem[];
}

export interface ReceivedPage extends Omit<MessagePage, "messages"> {
  messages: ReceivedMessage[];
}

/** Where `watch` keeps its cursor (the `ts` of the last message handled). */
export interface CursorStore {
  load(): Promise<string | null> | string | null;
  save(cursor: string): Promise<void> | void;
}

export interface WatchOptions extends Omit<ReceiveOptions, "after" | "sort" | "before"> {
  cursor?: CursorStore;
  signal?: AbortSignal;
  onError?: (error: unknown, retryInMs: number) => void;
}

export class ClawTalkError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly body: Partial<ErrorBody> = {},
  ) {
    super(message);
    this.name = "ClawTalkError";
  }
}

interface PeerKeys {
  name: string;
  publicKey: string | null;
  signingKey: string | null;
}

/** Message ids remembered for replay detection. */
const SEEN_KEPT = 10_000;
/** How long the relay's audit key (from /health) is used before it is asked again. */
const AUDIT_KEY_KEPT_MS = 60_000;

export class ClawTalkClient {
  private apiKey: string;
  private readonly baseUrl: string;
  private readonly fetcher: typeof fetch;
  private agentName: string | undefined;
  private readonly privateKey: string | undefined;
  private readonly signingSecret: string | undefined;
  private readonly peers = new Map<string, PeerKeys>();
  /** id -> ts of messages seen: the same id stored again later is a replay. */
  private readonly seen = new Map<string, string>();
  private auditKeyCache: { key: string | null; until: number } | null = null;

  constructor(options: ClientOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, "");
    this.apiKey = options.apiKey;
    this.agentName = options.agentName;
    this.privateKey = options.privateKey ?? options.keys?.privateKey;
    this.signingSecret = options.signingKey ?? options.keys?.signingSecretKey;
    this.fetcher = options.fetch ?? ((input, init) => fetch(input, init));
  }

  /** The key in use (it changes after rotateKey). */
  get key(): string {
    return this.apiKey;
  }

  // ---- HTTP ----

  async request<T>(method: string, path: string, body?: unknown, init: { signal?: AbortSignal; headers?: Record<string, string> } = {}): Promise<T> {
    const headers: Record<string, string> = { Authorization: `Bearer ${this.apiKey}`, ...init.headers };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    const response = await this.fetcher(`${this.baseUrl}${path}`, {
      method,
      headers,
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      ...(init.signal ? { signal: init.signal } : {}),
    });
    const text = await response.text();
    let parsed: unknown;
    try {
      parsed = text === "" ? undefined : JSON.parse(text);
    } catch {
      parsed = undefined;
    }
    if (!response.ok) {
      const error = (parsed ?? {}) as Partial<ErrorBody>;
      throw new ClawTalkError(response.status, error.code ?? "HTTP_ERROR", error.error ?? `HTTP ${response.status}`, error);
    }
    return parsed as T;
  }

  // ---- Directory ----

  async me(): Promise<AgentPrivate> {
    const record = await this.request<AgentPrivate>("GET", "/agents/me");
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
    const remember = (agent: AgentPublic) =>
      this.peers.set(nameKey(agent.name), { name: agent.name, publicKey: agent.publicKey, signingKey: agent.signingKey });
    if (name === undefined) {
      const agents = await this.request<AgentPublic[]>("GET", "/agents");
      agents.forEach(remember);
      return agents;
    }
    const agent = await this.request<AgentPublic>("GET", `/agents/${encodeURIComponent(name)}`);
    remember(agent);
    return agent;
  }

  private async peer(name: string, refresh = false): Promise<PeerKeys | null> {
    const cached = this.peers.get(nameKey(name));
    if (cached && !refresh) return cached;
    try {
      await this.discover(name);
    } catch (error) {
      if (error instanceof ClawTalkError && error.status === 404) return null;
      throw error;
    }
    return this.peers.get(nameKey(name)) ?? null;
  }

  // ---- Sending ----

  async send(options: SendOptions): Promise<SendResponse> {
    const from = await this.name();
    const id = options.id ?? crypto.randomUUID();
    const sentAt = new Date().toISOString();
    const type = options.type ?? "notification";
    const common = {
      id,
      to: options.to,
      type,
      sentAt,
      ...(options.topic === undefined ? {} : { topic: options.topic }),
      ...(options.correlationId === undefined ? {} : { correlationId: options.correlationId }),
      ...(options.replyTo === undefined ? {} : { replyTo: options.replyTo }),
    };
    let body: SendRequest;
    if (!options.encrypt) {
      const plain = { ...common, encrypted: false, payload: plainPayload(options.payload) };
      body = this.signingSecret ? { ...plain, signature: sign({ ...plain, from }, this.signingSecret) } : plain;
    } else {
      if (!this.privateKey) throw new Error("encrypt needs the agent's privateKey");
      if (typeof options.to === "string" && nameKey(options.to) === "broadcast") {
        throw new Error("a broadcast cannot be encrypted: there is no single recipient key");
      }
      const seal = async (recipient: string) => {
        const peer = await this.peer(recipient);
        if (!peer) throw new ClawTalkError(404, "UNKNOWN_RECIPIENT", `Unknown recipient ${recipient}; nothing was sent.`, { names: [recipient] });
        if (!peer.publicKey) throw new Error(`${recipient} has no publicKey to encrypt to`);
        const sealed = encrypt(options.payload, peer.publicKey, this.privateKey!);
        const signature = this.signingSecret
          ? sign({ ...common, from, encrypted: true, payload: sealed.payload, nonce: sealed.nonce }, this.signingSecret)
          : undefined;
        return { ...sealed, ...(signature === undefined ? {} : { signature }) };
      };
      if (Array.isArray(options.to)) {
        const parts = await Promise.all(options.to.map(async (name) => [name, await seal(name)] as const));
        body = { ...common, encrypted: true, payloads: Object.fromEntries(parts) };
      } else {
        body = { ...common, encrypted: true, ...(await seal(options.to)) };
      }
    }
    if (options.ttl !== undefined) body.ttl = options.ttl;
    const headers: Record<string, string> = options.idempotencyKey ? { "Idempotency-Key": options.idempotencyKey } : {};
    return this.request<SendResponse>("POST", "/messages", body, { headers });
  }

  // ---- Receiving ----

  /** One page of the inbox, decrypted and verified. Nothing is deleted: ack what you handled. */
  async receive(options: ReceiveOptions = {}): Promise<ReceivedPage> {
    const query = new URLSearchParams({ sort: options.sort ?? "asc" });
    for (const key of ["after", "before", "limit", "topic", "from", "wait", "unread", "via"] as const) {
      const value = options[key];
      if (value !== undefined) query.set(key, String(value));
    }
    const page = await this.request<MessagePage>("GET", `/messages?${query}`, undefined, options.signal ? { signal: options.signal } : {});
    const messages: ReceivedMessage[] = [];
    for (const envelope of page.messages) messages.push(await this.open(envelope));
    return { ...page, messages };
  }

  /** Decrypts and verifies one envelope; problems are flagged, never thrown. */
  async open(envelope: Envelope): Promise<ReceivedMessage> {
    const message: ReceivedMessage = { ...envelope, verified: false, problems: [] };
    let peer = await this.peer(envelope.from);
    let refreshed = false;
    // The sender may have changed its keys since they were cached: look them up again, once.
    const refresh = async () => {
      if (refreshed) return false;
      refreshed = true;
      peer = await this.peer(envelope.from, true);
      return true;
    };
    if (envelope.signature !== undefined) {
      let check = peer?.signingKey ? verifySignature(envelope, peer.signingKey) : "invalid";
      if (check === "invalid" && (await refresh())) check = peer?.signingKey ? verifySignature(envelope, peer.signingKey) : "invalid";
      message.verified = check === "valid" || check === "legacy";
      if (check === "legacy") message.legacy = true;
      if (check === "invalid") message.problems.push(peer ? "bad-signature" : "unknown-sender");
    }
    if (envelope.encrypted) {
      const open = () =>
        this.privateKey && peer?.publicKey && typeof envelope.payload === "string" && envelope.nonce
          ? decrypt(envelope.payload, envelope.nonce, peer.publicKey, this.privateKey)
          : null;
      let plaintext = open();
      if (plaintext === null && (await refresh())) plaintext = open();
      if (plaintext === null) message.problems.push("decrypt-failed");
      else message.plaintext = plaintext;
    } else {
      message.plaintext = envelope.payload;
    }
    // The relay refuses a known id while it remembers it (the message's TTL); the same id stored
    // again later, under a new ts, is a replay.
    const earlier = this.seen.get(envelope.id);
    if (earlier !== undefined && earlier !== envelope.ts) message.problems.push("replayed");
    if (earlier === undefined) {
      this.seen.set(envelope.id, envelope.ts);
      if (this.seen.size > SEEN_KEPT) this.seen.delete(this.seen.keys().next().value!);
    }
    return message;
  }

  /** Delivery state of a message this agent sent (SPEC §11.1); `wait` holds until every recipient reached `until`. */
  async receipts(id: string, options: ReceiptsOptions & { signal?: AbortSignal } = {}): Promise<Receipts> {
    const query = new URLSearchParams();
    if (options.wait !== undefined) query.set("wait", String(options.wait));
    if (options.until !== undefined) query.set("until", options.until);
    const path = `/messages/${encodeURIComponent(id)}/receipts${query.size ? `?${query}` : ""}`;
    return this.request<Receipts>("GET", path, undefined, options.signal ? { signal: options.signal } : {});
  }

  /** Deletes messages from the inbox; answers which ids were deleted and which were not there. */
  async ack(ids: string | string[]): Promise<{ deleted: string[]; missing: string[] }> {
    return this.request("POST", "/messages/ack", { ids: Array.isArray(ids) ? ids : [ids] });
  }

  /**
   * Long-polls forever (until `signal` aborts), yielding each message once, oldest first. The
   * cursor (the `ts` of the last message yielded) is saved after the loop body that handled the
   * message finished, so a restart resumes with no repeat and no gap. (Leaving the loop with
   * `break` or a throw does not save it: that message comes again, at-least-once. Stop with the
   * signal to stop cleanly.) Network errors, 5xx, 408
   * and 429 back off (1 s doubling to 30 s) and retry; any other 4xx (a revoked key) is thrown.
   */
  async *watch(options: WatchOptions = {}): AsyncGenerator<ReceivedMessage> {
    const { cursor: store, signal, onError, ...filters } = options;
    let after = (await store?.load()) ?? undefined;
    const recent = new Set<string>();
    let backoffMs = 1000;
    while (!signal?.aborted) {
      let page: ReceivedPage;
      try {
        page = await this.receive({ ...filters, wait: filters.wait ?? 30, sort: "asc", ...(after ? { after } : {}), ...(signal ? { signal } : {}) });
        backoffMs = 1000;
      } catch (error) {
        if (signal?.aborted) return;
        // A refused key or request will not get better by retrying: stop and say so.
        if (error instanceof ClawTalkError && error.status >= 400 && error.status < 500 && error.status !== 408 && error.status !== 429) throw error;
        onError?.(error, backoffMs);
        await sleep(backoffMs, signal);
        backoffMs = Math.min(backoffMs * 2, 30_000);
        continue;
      }
      for (const message of page.messages) {
        if (signal?.aborted) return;
        if (!recent.has(message.id + message.ts)) {
          recent.add(message.id + message.ts);
          if (recent.size > SEEN_KEPT) recent.delete(recent.values().next().value!);
          yield message;
        }
        after = message.ts;
        await store?.save(after);
      }
    }
  }

  // ---- Audit (SPEC §13): opt-in; nothing is posted unless asked ----

  /** The operator's audit key that the relay's /health publishes, or null when it has none. */
  async auditKey(): Promise<string | null> {
    if (this.auditKeyCache === null || this.auditKeyCache.until < Date.now()) {
      const health = await this.request<{ auditKey?: unknown }>("GET", "/health");
      const key = typeof health?.auditKey === "string" ? health.auditKey : null;
      this.auditKeyCache = { key, until: Date.now() + AUDIT_KEY_KEPT_MS };
    }
    return this.auditKeyCache.key;
  }

  /** Posts an audit entry; its payload is sealed to the relay's audit key when the relay publishes one. */
  async audit(entry: AuditInput): Promise<AuditEntry> {
    const key = await this.auditKey();
    const body = key === null ? entry : { ...entry, payload: sealAuditPayload(entry.payload, key), sealed: true };
    return this.request<AuditEntry>("POST", "/audit", body);
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
    return this.request<AuditPage>("GET", `/audit${auditQueryString(query)}`);
  }

  // ---- Account ----

  /** A new API key for this agent; the client switches to it (the old one stops at once). */
  async rotateKey(): Promise<string> {
    const rotated = await this.request<{ apiKey: string }>("POST", "/agents/me/rotate-key");
    this.apiKey = rotated.apiKey;
    return rotated.apiKey;
  }

  async deliveries(options: { limit?: number; before?: string } = {}): Promise<WebhookAttempt[]> {
    const query = new URLSearchParams();
    if (options.limit !== undefined) query.set("limit", String(options.limit));
    if (options.before !== undefined) query.set("before", options.before);
    return this.request("GET", `/webhooks/deliveries${query.size ? `?${query}` : ""}`);
  }

  async testWebhook(): Promise<{ ok: boolean; webhookId: string; status: number | null; latencyMs: number; error: string | null }> {
    return this.request("POST", "/agents/me/webhook/test");
  }
}

/** A plaintext payload is a string or a JSON object (SPEC §4.1); anything else travels as JSON text. */
function plainPayload(value: JsonValue): string | { [key: string]: JsonValue } {
  if (typeof value === "string") return value;
  if (typeof value === "object" && value !== null && !Array.isArray(value)) return value;
  return JSON.stringify(value);
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener("abort", () => {
      clearTimeout(timer);
      resolve();
    }, { once: true });
  });
}
