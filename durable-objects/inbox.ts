// The Inbox: one Durable Object per agent, addressed by the agent's name key. It owns that
// agent's messages (order, storage, cache, expiry), and is also the agent's session: it holds
// the hash of the current API key, so a rotated or revoked key stops at once on every request
// the agent makes (each one passes through here), and it keeps the agent's send rate limit,
// presence and outgoing broadcasts.
//
// Platform guarantees relied on: a Durable Object is single-threaded, and while it runs
// synchronous SQL no other event interleaves, so read-check-write sequences below need no locks.
// Output gates hold every response until the writes made before it are durable, so an answered
// send is on disk. The alarm runs at least once; its work queue lives in storage (expiry times,
// fan-out jobs), never in the alarm itself.

import { DurableObject } from "cloudflare:workers";
import type { Envelope, FeedItem, WebhookAttempt } from "../protocol/envelope.js";
import { failure, type Failure } from "../protocol/errors.js";
import { readLimits, type Limits } from "../protocol/limits.js";
import { nameKey } from "../protocol/names.js";
import { isoTime } from "../protocol/time.js";
import { directoryStub } from "./directory.js";
import { FeedCollector } from "./feed-batch.js";
import { feedStub } from "./feed.js";
import { InboxStore, matchesQuery, type KnownId, type MessageQuery, type StoredMessage } from "./inbox-store.js";
import { RecentMessages } from "./recent-messages.js";
import { SendAllowance } from "./send-allowance.js";
import { WebhookSender, type TestOutcome } from "./webhook-sender.js";

/** What the Directory tells an inbox about its agent; pushed on every change of the record. */
export interface AgentConfig {
  /** The Directory's change sequence: an inbox keeps only the newest config. */
  version: number;
  name: string;
  keyHash: string;
  webhookUrl: string | null;
  /** Current secret first; the previous one while a rotation's overlap lasts. */
  webhookSecrets: string[];
  previousSecretUntil: number | null;
  webhookDisabled: string | null;
  deleteOnDelivery: boolean;
}

/** One copy of a message for one inbox. */
export interface Delivery {
  envelope: Omit<Envelope, "ts">;
  bodyHash: string;
  ttlS: number;
  /** `<sender key>:<Idempotency-Key>` when the sender used that header. */
  idempotencyKey?: string;
}

export type DeliveryResult =
  | { status: "stored" | "duplicate"; id: string; ts: number }
  | { status: "conflict" | "full" | "unknown" };

export interface PageResult {
  /** Envelopes as stored JSON, in the requested order. */
  messages: string[];
  hasMore: boolean;
  oldestTs: number | null;
  newestTs: number | null;
}

export interface BroadcastRequest {
  delivery: Delivery;
  expiresAt: number;
}

/** A long-poll held in this inbox until a matching message arrives or its wait ends. */
interface Waiter {
  query: MessageQuery;
  wake: () => void;
}

/** Long-polls held per inbox; a new one beyond this answers the oldest (empty) at once. */
const MAX_WAITERS = 100;

/** Newest messages read into memory when the inbox is first read after waking. */
const WARM_MESSAGES = 200;

export class InboxObject extends DurableObject<Env> {
  private readonly limits: Limits;
  private store!: InboxStore;
  private webhooks!: WebhookSender;
  private config: AgentConfig | null;
  private lastTs: number;
  private count: number;
  private recent = new RecentMessages();
  private warm = false;
  private feed: FeedCollector;
  private feedDueAt: number | null = null;
  private lastSeen: number | null = null;
  private presencePushedAt = 0;
  private presenceDueAt: number | null = null;
  private alarmAt: number | null = null;
  private allowance!: SendAllowance;
  private readonly waiters = new Set<Waiter>();
  /** Set when an alarm task failed, so the next alarm retries it soon. */
  private retryAt: number | null = null;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.limits = readLimits(env);
    this.feed = new FeedCollector(this.limits.feedBatchMax);
    this.openStorage();
    const config = this.store.getState("config");
    this.config = config === null ? null : (JSON.parse(config) as AgentConfig);
    this.lastTs = this.store.lastTs();
    this.count = this.store.countMessages();
    void ctx.blockConcurrencyWhile(async () => {
      this.alarmAt = await ctx.storage.getAlarm();
    });
  }

  private openStorage(): void {
    this.store = new InboxStore(this.ctx.storage.sql);
    this.allowance = new SendAllowance(this.store, this.limits);
    this.webhooks = new WebhookSender(this.ctx.storage.sql, this.limits, {
      config: () => this.config,
      message: (ts) => this.store.byTs(ts, Date.now()),
      deleteDelivered: (id) => this.deleteMessages([id]),
      disable: async (reason) => {
        if (this.config === null) return;
        this.saveConfig({ ...this.config, webhookDisabled: reason });
        await directoryStub(this.env).disableWebhook(nameKey(this.config.name), reason);
      },
      recorded: (attempt) => {
        this.feed.addAttempt(attempt);
        void this.scheduleFeedFlush();
      },
      delivered: (latencyMs) => this.feed.addLatency(latencyMs),
    });
  }

  // ---- Record (called by the Directory) ----

  async configure(config: AgentConfig): Promise<void> {
    const newest = Math.max(this.config?.version ?? 0, Number(this.store.getState("retired") ?? 0));
    if (config.version <= newest) return;
    this.saveConfig(config);
    if (config.webhookUrl === null) this.webhooks.queue.clear();
  }

  private saveConfig(config: AgentConfig): void {
    this.store.setState("config", JSON.stringify(config));
    this.config = config;
  }

  /** Removes the agent's inbox entirely: messages, ids, jobs, settings, alarm. */
  async destroy(version: number): Promise<void> {
    await this.ctx.storage.deleteAlarm();
    await this.ctx.storage.deleteAll();
    this.openStorage();
    this.store.setState("retired", String(version));
    this.config = null;
    this.lastTs = 0;
    this.count = 0;
    this.recent = new RecentMessages();
    this.warm = false;
    this.feed = new FeedCollector(this.limits.feedBatchMax);
    this.feedDueAt = this.presenceDueAt = this.alarmAt = this.lastSeen = null;
    for (const waiter of [...this.waiters]) waiter.wake();
  }

  // ---- The agent's session: every authenticated request of this agent starts here ----

  /** Checks the caller's key and marks the agent seen. */
  async touch(keyHash: string): Promise<{ name: string; lastSeen: number } | Failure> {
    const denied = await this.session(keyHash);
    if (denied) return denied;
    return { name: this.config!.name, lastSeen: this.lastSeen! };
  }

  /**
   * Sends one message from this agent: takes the send allowance, stores a copy in each
   * recipient's inbox, and gives the allowance back when nothing new was stored.
   */
  async send(keyHash: string, copies: { name: string; delivery: Delivery }[]): Promise<DeliveryResult[] | Failure> {
    const denied = (await this.session(keyHash)) ?? (await this.allowance.reserve("message"));
    if (denied) return denied;
    let stored = false;
    try {
      const results = await Promise.all(copies.map(({ name, delivery }) => inboxStub(this.env, name).deliver(delivery)));
      stored = results.some((result) => result.status === "stored");
      return results;
    } finally {
      this.allowance.settle("message", stored);
    }
  }

  /**
   * Records a broadcast from this agent; the alarm fans it out. A replay of a recorded broadcast
   * (same id or Idempotency-Key) answers the original without counting against the limits.
   */
  async broadcast(keyHash: string, request: BroadcastRequest): Promise<{ replay: boolean; known: KnownId } | Failure> {
    const denied = await this.session(keyHash);
    if (denied) return denied;
    const { delivery } = request;
    const known = this.store.knownFanout(delivery.envelope.id, delivery.idempotencyKey);
    if (known) {
      return known.bodyHash === delivery.bodyHash
        ? { replay: true, known }
        : failure("CONFLICT", "A different message was already sent with this id or Idempotency-Key.");
    }
    const refused = await this.allowance.reserve("broadcast");
    if (refused) return refused;
    this.allowance.settle("broadcast", true);
    const ts = Date.now();
    this.store.addFanout({
      id: delivery.envelope.id,
      idempotencyKey: delivery.idempotencyKey ?? null,
      bodyHash: delivery.bodyHash,
      ts,
      delivery: JSON.stringify(delivery),
      cursor: "",
      expiresAt: request.expiresAt,
    });
    await this.armAlarm(Date.now());
    return { replay: false, known: { id: delivery.envelope.id, ts, bodyHash: delivery.bodyHash } };
  }

  // ---- Receiving: called by the Worker for a sender, or by a sender's fan-out ----

  async deliver(delivery: Delivery): Promise<DeliveryResult> {
    if (this.config === null) return { status: "unknown" };
    const now = Date.now();
    const { envelope, bodyHash, idempotencyKey } = delivery;
    // A client-chosen id (or Idempotency-Key) seen before: same content is a replay, other content a conflict.
    const byId = this.store.knownId(envelope.id, now);
    if (byId.purged !== null) {
      this.count--;
      this.recent.remove(new Set([byId.purged]));
    }
    const known = (idempotencyKey === undefined ? null : this.store.byIdempotencyKey(idempotencyKey, now)) ?? byId.known;
    if (known) {
      return known.bodyHash === bodyHash ? { status: "duplicate", id: known.id, ts: known.ts } : { status: "conflict" };
    }
    if (this.count >= this.limits.inboxMax) {
      this.expire(now);
      if (this.count >= this.limits.inboxMax) return { status: "full" };
    }
    // Strictly increasing even within one millisecond, and across restarts (see InboxStore.lastTs).
    const ts = Math.max(now, this.lastTs + 1);
    const { id, from, to, ...rest } = envelope;
    const message: StoredMessage = {
      ts,
      id,
      sender: nameKey(from),
      topic: envelope.topic ?? null,
      bodyHash,
      expiresAt: ts + delivery.ttlS * 1000,
      json: JSON.stringify({ id, from, to, ts: isoTime(ts), ...rest }),
    };
    const webhook = this.config.webhookUrl !== null && this.config.webhookDisabled === null;
    this.ctx.storage.transactionSync(() => {
      this.store.insert(message);
      if (idempotencyKey !== undefined) this.store.rememberIdempotencyKey(idempotencyKey, { id, ts, bodyHash }, message.expiresAt);
      // Queued with the message, in one transaction: a stored message's delivery cannot be lost.
      if (webhook) this.webhooks.queue.enqueue(ts, id, now);
    });
    this.lastTs = ts;
    this.count++;
    this.recent.add(message);
    for (const waiter of this.waiters) if (matchesQuery(message, waiter.query, now)) waiter.wake();
    await this.collectForFeed(message, envelope);
    await this.armAlarm(webhook ? now : message.expiresAt);
    return { status: "stored", id, ts };
  }

  // ---- Reading the agent's own inbox ----

  /**
   * A page of the inbox. With `waitS` > 0 and nothing matching, the request is held here until a
   * matching message is stored or the wait ends. Held requests are only promises in memory, so
   * they never block sends or other reads of this inbox.
   */
  async list(keyHash: string, query: MessageQuery, waitS = 0): Promise<PageResult | Failure> {
    const denied = await this.session(keyHash);
    if (denied) return denied;
    const page = this.page(query, Date.now());
    if (page.messages.length > 0 || waitS <= 0) return page;
    await this.waitForMatch(query, waitS * 1000);
    if (this.config === null) return page; // removed while waiting
    const now = Date.now();
    this.lastSeen = now; // a waiting agent is online
    const woken = this.page(query, now);
    if (woken.newestTs !== null) {
      this.feed.addLatency(now - woken.newestTs);
      await this.scheduleFeedFlush();
    }
    return woken;
  }

  async get(keyHash: string, id: string): Promise<string | Failure> {
    const denied = await this.session(keyHash);
    if (denied) return denied;
    const now = Date.now();
    const cached = this.recent.byId(id, now);
    const message = cached === undefined ? this.store.byId(id, now) : cached;
    return message ? message.json : failure("NOT_FOUND", "No message with this id in your inbox.");
  }

  async remove(keyHash: string, ids: string[]): Promise<{ deleted: string[]; missing: string[] } | Failure> {
    const denied = await this.session(keyHash);
    if (denied) return denied;
    const deleted = this.deleteMessages(ids);
    return { deleted: ids.filter((id) => deleted.has(id)), missing: ids.filter((id) => !deleted.has(id)) };
  }

  /** Deletes messages (keeping their ids remembered); answers the ids that were there. */
  private deleteMessages(ids: string[]): Set<string> {
    const gone = this.ctx.storage.transactionSync(() => this.store.deleteIds(ids, Date.now()));
    this.count -= gone.length;
    this.recent.remove(new Set(gone.map((m) => m.ts)));
    return new Set(gone.map((m) => m.id));
  }

  // ---- Webhooks ----

  /** Sends a signed test event to the agent's webhook now (the caller was checked by the Worker). */
  async testWebhook(): Promise<TestOutcome | Failure> {
    if (this.config === null) return failure("NOT_FOUND", "No such agent.");
    return (await this.webhooks.test()) ?? failure("NOT_FOUND", "This agent has no webhookUrl; set one with PATCH first.");
  }

  /** The agent's own webhook attempt log, newest first. */
  async deliveries(keyHash: string, limit: number, before?: number): Promise<WebhookAttempt[] | Failure> {
    const denied = await this.session(keyHash);
    if (denied) return denied;
    return this.webhooks.queue.attempts(limit, before);
  }

  async channels(keyHash: string): Promise<string[] | Failure> {
    const denied = await this.session(keyHash);
    if (denied) return denied;
    return this.store.channels();
  }

  private waitForMatch(query: MessageQuery, ms: number): Promise<void> {
    if (this.waiters.size >= MAX_WAITERS) this.waiters.values().next().value!.wake();
    return new Promise((resolve) => {
      const waiter: Waiter = {
        query,
        wake: () => {
          clearTimeout(timer);
          this.waiters.delete(waiter);
          resolve();
        },
      };
      const timer = setTimeout(waiter.wake, ms);
      this.waiters.add(waiter);
    });
  }

  // ---- Alarm: expiry, fan-out, presence and feed pushes ----

  override async alarm(): Promise<void> {
    this.alarmAt = null;
    const now = Date.now();
    this.expire(now);
    this.store.trimChannels();
    await this.step("webhooks", () => this.webhooks.run());
    await this.step("fan-out", () => this.fanOut());
    if (this.presenceDueAt !== null && this.presenceDueAt <= now) await this.step("presence", () => this.pushPresence(now));
    if (this.feedDueAt !== null && this.feedDueAt <= now) await this.step("feed", () => this.flushFeed());
    await this.armNextAlarm();
  }

  /** Runs one alarm task; a failure is logged (never a payload) and retried at the next alarm. */
  private async step(task: string, run: () => Promise<void>): Promise<void> {
    try {
      await run();
    } catch (error) {
      console.error(`inbox alarm: ${task} failed: ${error instanceof Error ? error.message : "unknown error"}`);
      this.retryAt = Date.now() + 1000;
    }
  }

  private async armNextAlarm(): Promise<void> {
    const candidates = [
      this.store.nextExpiry(),
      this.store.nextFanout() ? Date.now() : null,
      this.webhooks.nextDue(),
      this.presenceDueAt,
      this.feedDueAt,
      this.retryAt,
    ].filter((at): at is number => at !== null);
    this.retryAt = null;
    if (candidates.length > 0) await this.armAlarm(Math.min(...candidates));
  }

  /** Sets the alarm to `at` unless it is already set earlier. */
  private async armAlarm(at: number): Promise<void> {
    if (this.alarmAt !== null && this.alarmAt <= at) return;
    this.alarmAt = at;
    await this.ctx.storage.setAlarm(at);
  }

  private expire(now: number): void {
    // Rows about to go may hold the largest ts ever assigned: keep it as the floor.
    const due = this.store.nextExpiry();
    if (due !== null && due <= now) this.store.setState("ts_floor", String(this.lastTs));
    const gone = this.store.purgeExpired(now);
    if (gone.length === 0) return;
    this.count -= gone.length;
    this.recent.remove(new Set(gone));
  }

  /** One bounded batch of the oldest pending broadcast: one Directory page, then one call per inbox. */
  private async fanOut(): Promise<void> {
    const job = this.store.nextFanout();
    if (!job) return;
    const delivery = JSON.parse(job.delivery) as Delivery;
    const page = await directoryStub(this.env).namesAfter(job.cursor, this.limits.fanoutBatch);
    const sender = nameKey(delivery.envelope.from);
    const targets = page.keys.filter((key) => key !== sender);
    const results = await Promise.allSettled(targets.map((key) => inboxStub(this.env, key).deliver(delivery)));
    // Deliveries are idempotent by id, so a failed batch is simply repeated.
    if (results.some((r) => r.status === "rejected")) throw new Error("a fan-out delivery failed");
    this.store.advanceFanout(job.id, page.keys.at(-1) ?? job.cursor, page.done);
  }

  // ---- Presence and admin views ----

  private async session(keyHash: string): Promise<Failure | null> {
    if (this.config === null || this.config.keyHash !== keyHash) return failure("UNAUTHORIZED");
    const now = Date.now();
    this.lastSeen = now;
    if (this.presenceDueAt === null) {
      // At once when the last push is over an interval old, else at the end of the interval.
      this.presenceDueAt = Math.max(now, this.presencePushedAt + this.limits.presencePushS * 1000);
      await this.armAlarm(this.presenceDueAt);
    }
    return null;
  }

  private async pushPresence(now: number): Promise<void> {
    this.presenceDueAt = null;
    if (this.config === null || this.lastSeen === null) return;
    this.presencePushedAt = now;
    await directoryStub(this.env).recordPresence(nameKey(this.config.name), this.lastSeen);
  }

  private async collectForFeed(message: StoredMessage, envelope: Delivery["envelope"]): Promise<void> {
    const item: FeedItem = {
      id: message.id,
      from: envelope.from,
      to: this.config!.name,
      ts: isoTime(message.ts),
      type: envelope.type,
      topic: message.topic,
      encrypted: envelope.encrypted,
      bytes: message.json.length,
    };
    if (!envelope.encrypted) item.preview = preview(envelope.payload);
    if (typeof envelope.to === "string" && nameKey(envelope.to) === "broadcast") item.broadcast = true;
    this.feed.add(item, message.ts);
    await this.scheduleFeedFlush();
  }

  private async scheduleFeedFlush(): Promise<void> {
    if (this.feedDueAt !== null) return;
    this.feedDueAt = Date.now() + this.limits.feedFlushMs;
    await this.armAlarm(this.feedDueAt);
  }

  private async flushFeed(): Promise<void> {
    this.feedDueAt = null;
    if (this.feed.size === 0) return;
    await feedStub(this.env).record(this.feed.take());
  }

  private page(query: MessageQuery, now: number): PageResult {
    if (!this.warm) {
      const newest = this.store.newest(WARM_MESSAGES, now);
      this.recent.load(newest, newest.length < WARM_MESSAGES);
      this.warm = true;
    }
    const rows = this.recent.query(query, now) ?? this.store.query(query, now);
    const page = rows.slice(0, query.limit);
    const times = page.map((m) => m.ts);
    return {
      messages: page.map((m) => m.json),
      hasMore: rows.length > query.limit,
      oldestTs: times.length ? Math.min(...times) : null,
      newestTs: times.length ? Math.max(...times) : null,
    };
  }
}

/** At most 200 characters of a plaintext payload, for the admin feed. */
function preview(payload: Envelope["payload"]): string {
  const text = typeof payload === "string" ? payload : typeof payload.text === "string" ? payload.text : JSON.stringify(payload);
  return text.length <= 200 ? text : Array.from(text).slice(0, 200).join("");
}

export function inboxStub(env: Env, name: string): DurableObjectStub<InboxObject> {
  return env.INBOX.getByName(nameKey(name));
}
