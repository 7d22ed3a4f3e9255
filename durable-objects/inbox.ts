// The Inbox: one Durable Object per agent, addressed by the agent's name key. This file is its
// RPC surface and its key gate; the jobs are units of their own:
//
//   message-log.ts   the agent's messages: storage, memory cache, count, order, expiry, delivery
//                    state (delivery-reports.ts tells each sender what became of its copies)
//   outbox.ts        what the agent sends: rate limit, copies to recipients, broadcast fan-out,
//                    and the receipts of what it sent (sent-receipts.ts)
//   long-polls.ts    GET /messages?wait=N held until a match arrives
//   webhook-sender.ts  pushing stored messages to the agent's webhook
//   views.ts         presence and feed pushes to the relay-wide views (on a timer of their own)
//   alarm-tasks.ts   the one alarm, a loop over the other tasks above that are due
//
// In one send the sender's inbox runs `send` (outbox) and each recipient's inbox runs `accept`.
//
// Platform guarantees relied on: an object is single-threaded, and while it runs synchronous SQL
// no other event interleaves, so read-check-write sequences need no locks. Output gates hold every
// response until the writes made before it are durable, so an answered send is on disk.

import { DurableObject } from "cloudflare:workers";
import type { DeliveryVia, Receipts, WebhookAttempt } from "../protocol/envelope.js";
import { failures, type Failure } from "../protocol/errors.js";
import { readLimits, type Limits } from "../protocol/limits.js";
import { nameKey } from "../protocol/names.js";
import { accepts, readStoredConfig, type AgentConfig } from "./agent-config.js";
import { AlarmScheduler } from "./alarm-tasks.js";
import type { StateReport } from "./delivery-reports.js";
import { LongPolls } from "./long-polls.js";
import { MessageLog, type InboxCopy, type Page } from "./message-log.js";
import type { MessageQuery } from "./message-query.js";
import { Outbox, type AcceptResult, type BroadcastRecord, type OutgoingMessage } from "./outbox.js";
import type { Until } from "./sent-receipts.js";
import { forgetSchema } from "./schema.js";
import { directoryStub } from "./stubs.js";
import { Views } from "./views.js";
import { WebhookSender, type TestOutcome } from "./webhook-sender.js";

export class InboxObject extends DurableObject<Env> {
  private readonly limits: Limits;
  private readonly scheduler: AlarmScheduler;
  private readonly polls = new LongPolls();
  private readonly views: Views;
  private config: AgentConfig | null = null;
  /** The config's contacts as a set, for the contact policy's check on every accepted copy. */
  private contacts: ReadonlySet<string> = new Set();
  private log!: MessageLog;
  private outbox!: Outbox;
  private webhooks!: WebhookSender;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.limits = readLimits(env);
    this.scheduler = new AlarmScheduler(ctx.storage);
    this.views = new Views(env, this.limits, () => this.config?.name ?? null, () => this.log.oldestUndelivered());
    this.openStorage();
    void ctx.blockConcurrencyWhile(() => this.scheduler.load());
  }

  /** Builds the units over this object's storage (again after `destroy` deleted it). */
  private openStorage(): void {
    const { storage } = this.ctx;
    this.log = new MessageLog(storage, this.limits, this.env, this.scheduler, () => this.config?.name ?? null, (change) => this.views.copyChanged(change));
    const config = this.log.state.getState("config");
    this.setConfig(config === null ? null : readStoredConfig(config));
    this.outbox = new Outbox(this.env, this.limits, storage, this.scheduler, (id) => this.log.depthOf(id, Date.now()));
    this.webhooks = new WebhookSender(storage.sql, this.limits, {
      config: () => this.config,
      message: (ts) => this.log.byTs(ts, Date.now()),
      deliveredTo: (message) => this.log.deliveredByWebhook(message, Date.now()),
      deleteDelivered: (id) => void this.log.delete([id], Date.now()),
      disable: async (reason) => {
        if (this.config === null) return;
        this.saveConfig({ ...this.config, webhookDisabled: reason });
        await directoryStub(this.env).disableWebhook(nameKey(this.config.name), reason);
      },
      attempted: (attempt) => this.views.attempted(attempt),
      delivered: (latencyMs) => this.views.delivered(latencyMs),
    });
    this.scheduler.setTasks([
      { name: "expiry", nextDue: (now) => this.log.nextHousekeeping(now), run: async (now) => this.log.expire(now) },
      this.webhooks,
      this.log.reports,
      ...this.outbox.tasks,
    ]);
  }

  // ---- The key gate ----

  /**
   * Every request an agent makes passes through its own inbox, which holds the hash of the
   * agent's current API key and refuses any other: a rotated or revoked key stops at once,
   * wherever the request lands. Admitted requests count as the agent being seen.
   */
  private admit(keyHash: string): Failure | null {
    if (this.config === null || this.config.keyHash !== keyHash) return failures.invalidKey;
    this.views.seen(Date.now());
    return null;
  }

  /** The gate alone, for requests that do not otherwise touch the inbox. */
  async touch(keyHash: string): Promise<true | Failure> {
    return this.admit(keyHash) ?? true;
  }

  // ---- The agent's record (called by the Directory) ----

  async configure(config: AgentConfig): Promise<void> {
    const newest = Math.max(this.config?.version ?? 0, Number(this.log.state.getState("retired") ?? 0));
    if (config.version <= newest) return;
    this.saveConfig(config);
    if (config.webhookUrl === null) this.webhooks.clear();
  }

  private saveConfig(config: AgentConfig): void {
    this.log.state.setState("config", JSON.stringify(config));
    this.setConfig(config);
  }

  private setConfig(config: AgentConfig | null): void {
    this.config = config;
    this.contacts = new Set(config?.contacts ?? []);
  }

  /** Removes the agent's inbox entirely: messages, ids, jobs, settings, alarm. */
  async destroy(version: number): Promise<void> {
    const name = this.config?.name ?? null;
    await this.ctx.storage.deleteAlarm();
    await this.ctx.storage.deleteAll();
    forgetSchema(this.ctx.storage.sql);
    this.scheduler.reset();
    this.views.reset();
    this.openStorage();
    this.log.state.setState("retired", String(version));
    this.setConfig(null);
    this.polls.wakeAll();
    if (name !== null) await this.views.forgetAgent(name);
  }

  // ---- Sending (this inbox is the sender's) ----

  async send(keyHash: string, message: OutgoingMessage): Promise<AcceptResult[] | Failure> {
    return this.admit(keyHash) ?? this.outbox.send(message);
  }

  async broadcast(keyHash: string, message: OutgoingMessage): Promise<BroadcastRecord | Failure> {
    return this.admit(keyHash) ?? this.outbox.broadcast(message);
  }

  /** GET /messages/:id/receipts for the sender (keyHash) or the admin (null: the Worker checked the key). */
  async receipts(keyHash: string | null, id: string, waitS: number, until: Until): Promise<Receipts | Failure> {
    if (keyHash === null) return this.config === null ? failures.noSuchSentMessage : this.outbox.readReceipts(id, waitS, until);
    return this.admit(keyHash) ?? this.outbox.readReceipts(id, waitS, until);
  }

  /** A recipient's inbox tells this one what became of copies of this agent's messages. */
  async recordReceipts(recipient: string, reports: StateReport[]): Promise<void> {
    if (this.config !== null) this.outbox.recordReceipts(recipient, reports);
  }

  // ---- Receiving (this inbox is a recipient's; called by a sender's inbox) ----

  async accept(copy: InboxCopy): Promise<AcceptResult> {
    const config = this.config;
    if (config === null) return { status: "unknown" };
    // The contact policy (SPEC §12) is the recipient's: decided here, with no call on the send path.
    if (!accepts(config, this.contacts, nameKey(copy.envelope.from), nameKey(config.name))) return { status: "not-accepted" };
    const now = Date.now();
    const webhook = config.webhookUrl !== null && config.webhookDisabled === null;
    // The webhook queue row is written in the message's transaction: its delivery cannot be lost.
    const outcome = this.log.store(copy, now, webhook ? (message) => this.webhooks.enqueue(message.ts, now) : undefined);
    if (outcome.status === "duplicate") return { status: "duplicate", id: outcome.known.id, ts: outcome.known.ts };
    if (outcome.status !== "stored") return { status: outcome.status };
    const { message } = outcome;
    this.polls.notify(message, now);
    this.views.stored(message, copy.envelope, config.name);
    this.scheduler.wake(webhook ? now : message.expiresAt);
    return { status: "stored", id: message.id, ts: message.ts };
  }

  // ---- Reading the agent's own inbox ----

  /**
   * A page of the inbox. With `waitS` > 0 and nothing matching, the request is held until a
   * matching message is stored or the wait ends (long-polls.ts).
   */
  async list(keyHash: string, query: MessageQuery, waitS = 0, via: DeliveryVia = "poll"): Promise<Page | Failure> {
    const denied = this.admit(keyHash);
    if (denied) return denied;
    const page = this.log.read(query, Date.now(), via);
    if (page.messages.length > 0 || waitS <= 0) return page;
    await this.polls.wait(query, waitS * 1000);
    if (this.config === null) return page; // removed while waiting
    const now = Date.now();
    this.views.seen(now); // a waiting agent is online
    const woken = this.log.read(query, now, via);
    if (woken.newestTs !== null) this.views.delivered(now - woken.newestTs);
    return woken;
  }

  async get(keyHash: string, id: string, via: DeliveryVia = "poll"): Promise<string | Failure> {
    return this.admit(keyHash) ?? this.log.open(id, Date.now(), via) ?? failures.noSuchMessage;
  }

  async remove(keyHash: string, ids: string[]): Promise<{ deleted: string[]; missing: string[] } | Failure> {
    const denied = this.admit(keyHash);
    if (denied) return denied;
    const deleted = this.log.delete(ids, Date.now());
    return { deleted: ids.filter((id) => deleted.has(id)), missing: ids.filter((id) => !deleted.has(id)) };
  }

  async channels(keyHash: string): Promise<string[] | Failure> {
    return this.admit(keyHash) ?? this.log.channels();
  }

  // ---- Webhooks ----

  /** Sends a signed test event to the agent's webhook now (the Worker checked the caller). */
  async testWebhook(): Promise<TestOutcome | Failure> {
    if (this.config === null) return failures.noSuchAgent;
    return (await this.webhooks.test()) ?? failures.noWebhookUrl;
  }

  /** The agent's own webhook attempt log, newest first. */
  async deliveries(keyHash: string, limit: number, before?: number): Promise<WebhookAttempt[] | Failure> {
    return this.admit(keyHash) ?? this.webhooks.queue.attempts(limit, before);
  }

  override async alarm(): Promise<void> {
    await this.scheduler.run();
  }
}
