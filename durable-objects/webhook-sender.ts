// Webhook delivery for one inbox, an alarm task (never run on a sender's request). Deliveries go
// out one at a time in inbox order: a failing endpoint holds the queue at its head (retrying with
// backoff) rather than letting later messages overtake, so it delays, never reorders. The head
// is removed only after the attempt's outcome is known, so a crash repeats an attempt rather than
// losing it: at-least-once, with a `webhook-id` stable per message and recipient for receivers to
// de-duplicate.
//
// Each attempt is decided afresh from the agent's current settings: the URL is checked against
// the deployment's current policy (a URL accepted under ALLOW_PRIVATE_WEBHOOKS=true is refused,
// and never fetched, after a restart with false), and the signing secrets are those valid now
// (the old secret stops at the end of a rotation's overlap).

import type { WebhookAttempt } from "../protocol/envelope.js";
import type { Limits } from "../protocol/limits.js";
import { isoTime } from "../protocol/time.js";
import { webhookUrlProblem } from "../protocol/webhook-url.js";
import { signingSecrets, type AgentConfig } from "./agent-config.js";
import type { AlarmTask } from "./alarm-tasks.js";
import type { StoredMessage } from "./message-store.js";
import { postWebhook, retryDelayMs, verdict, type AttemptResult } from "./webhook-post.js";
import { WebhookQueue } from "./webhook-queue.js";

/** What the sender needs from its inbox. */
export interface WebhookHost {
  config(): AgentConfig | null;
  /** The stored message, or null once it was deleted or expired. */
  message(ts: number): StoredMessage | null;
  /** A 2xx: the copy reached its agent (its delivery state). */
  deliveredTo(message: StoredMessage): void;
  /** `deleteOnDelivery`: remove a delivered message from the inbox. */
  deleteDelivered(id: string): void;
  /** Turn the webhook off (a 410 Gone, a URL the policy refuses): the record shows why. */
  disable(reason: string): Promise<void>;
  /** Every attempt, for the admin views. */
  attempted(attempt: WebhookAttempt): void;
  /** A message reached its agent this long after it was stored. */
  delivered(latencyMs: number): void;
}

/** Attempts per alarm run, within the platform's subrequest limit per invocation. */
const ATTEMPTS_PER_RUN = 25;

export interface TestOutcome {
  ok: boolean;
  webhookId: string;
  status: number | null;
  latencyMs: number;
  error: string | null;
}

/** What an attempt that never reached the network records. */
const REFUSED: AttemptResult = { status: null, latencyMs: 0, error: null, retryAfterS: null };

export class WebhookSender implements AlarmTask {
  readonly name = "webhooks";
  readonly queue: WebhookQueue;
  /** When the queue's head is due, mirrored from storage so an idle alarm reads nothing. */
  private headDueAt: number | null;

  constructor(
    sql: SqlStorage,
    private readonly limits: Limits,
    private readonly host: WebhookHost,
  ) {
    this.queue = new WebhookQueue(sql);
    this.headDueAt = this.queue.head()?.nextAt ?? null;
  }

  /** Queues a stored message (call inside the message's transaction). */
  enqueue(messageTs: number, now: number): void {
    this.queue.enqueue(messageTs, now);
    if (this.headDueAt === null) this.headDueAt = now;
  }

  clear(): void {
    this.queue.clear();
    this.headDueAt = null;
  }

  nextDue(): number | null {
    return this.headDueAt;
  }

  /** Delivers due messages in order, up to one run's budget; stops at a delivery that must wait. */
  async run(): Promise<void> {
    try {
      await this.deliverDue();
    } finally {
      this.headDueAt = this.queue.head()?.nextAt ?? null;
    }
  }

  private async deliverDue(): Promise<void> {
    for (let i = 0; i < ATTEMPTS_PER_RUN; i++) {
      const head = this.queue.head();
      const now = Date.now();
      if (!head || head.nextAt > now) return;
      const config = this.host.config();
      if (!config?.webhookUrl || config.webhookDisabled !== null) {
        this.queue.clear();
        return;
      }
      const message = this.host.message(head.messageTs);
      if (!message) {
        this.queue.remove(head.seq); // deleted or expired before it went out: nothing to deliver
        continue;
      }
      const webhookId = `${message.id}.${config.name.toLowerCase()}`;
      const attempt = head.attempts + 1;
      const log = (result: AttemptResult, outcome: WebhookAttempt["outcome"], error = result.error) =>
        this.log(config.name, message.id, webhookId, attempt, result, outcome, error);

      const refused = webhookUrlProblem(config.webhookUrl, this.limits.allowPrivateWebhooks);
      if (refused !== null) {
        const reason = `webhookUrl ${refused} (ALLOW_PRIVATE_WEBHOOKS=${this.limits.allowPrivateWebhooks}); not sent`;
        log(REFUSED, "disabled", reason);
        this.queue.clear();
        await this.host.disable(`${reason}, at ${isoTime(now)}`);
        return;
      }
      const secrets = signingSecrets(config, now);
      const result = await postWebhook(config.webhookUrl, secrets, webhookId, message.json, this.limits.webhookTimeoutMs);

      switch (verdict(result.status)) {
        case "delivered":
          log(result, "delivered");
          this.host.delivered(Date.now() - message.ts);
          this.host.deliveredTo(message);
          this.queue.remove(head.seq);
          if (config.deleteOnDelivery) this.host.deleteDelivered(message.id);
          continue;
        case "failed":
          log(result, "failed"); // this message cannot be delivered (4xx); the queue moves on
          this.queue.remove(head.seq);
          continue;
        case "gone":
          log(result, "disabled");
          this.queue.clear();
          await this.host.disable(`410 Gone from ${new URL(config.webhookUrl).host} at ${isoTime(now)}`);
          return;
        case "retry": {
          const firstAt = head.firstAt ?? now;
          const nextAt = now + retryDelayMs(attempt, this.limits, result.retryAfterS);
          if (nextAt - firstAt > this.limits.webhookRetryHorizonS * 1000) {
            log(result, "failed", `${result.error}; gave up after ${attempt} attempts`);
            this.queue.remove(head.seq);
            continue;
          }
          log(result, "retrying");
          this.queue.postpone(head.seq, attempt, nextAt, firstAt);
          return;
        }
      }
    }
  }

  /** POST /agents/:name/webhook/test: one signed test event, now, outside the queue; null without a URL. */
  async test(): Promise<TestOutcome | null> {
    const config = this.host.config();
    if (!config?.webhookUrl) return null;
    const now = Date.now();
    const webhookId = `test_${crypto.randomUUID()}`;
    const refused = webhookUrlProblem(config.webhookUrl, this.limits.allowPrivateWebhooks);
    if (refused !== null) {
      const error = `webhookUrl ${refused}; not sent`;
      this.log(config.name, null, webhookId, 1, REFUSED, "test", error);
      return { ok: false, webhookId, status: null, latencyMs: 0, error };
    }
    const body = JSON.stringify({ type: "webhook.test", id: webhookId, agent: config.name, ts: isoTime(now) });
    const result = await postWebhook(config.webhookUrl, signingSecrets(config, now), webhookId, body, this.limits.webhookTimeoutMs);
    this.log(config.name, null, webhookId, 1, result, "test", result.error);
    return { ok: verdict(result.status) === "delivered", webhookId, status: result.status, latencyMs: result.latencyMs, error: result.error };
  }

  private log(
    agent: string,
    messageId: string | null,
    webhookId: string,
    attempt: number,
    result: AttemptResult,
    outcome: WebhookAttempt["outcome"],
    error: string | null,
  ): void {
    const record: WebhookAttempt = {
      at: isoTime(Date.now()),
      agent,
      messageId,
      webhookId,
      attempt,
      status: result.status,
      latencyMs: result.latencyMs,
      error,
      outcome,
    };
    this.queue.log(record);
    this.host.attempted(record);
  }
}
