// Webhook delivery for one inbox, run from the inbox's alarm (never on a sender's request).
// Deliveries go out one at a time in inbox order: a failing endpoint holds the queue at its head
// (retrying with backoff) rather than letting later messages overtake, so it delays, never
// reorders. The queue head is removed only after the attempt's outcome is known, so a crash
// repeats an attempt rather than losing it: at-least-once, with a `webhook-id` stable per message
// and recipient for receivers to de-duplicate.

import type { WebhookAttempt } from "../protocol/envelope.js";
import type { Limits } from "../protocol/limits.js";
import { isoTime } from "../protocol/time.js";
import type { AgentConfig } from "./inbox.js";
import type { StoredMessage } from "./inbox-store.js";
import { postWebhook, retryDelayMs, verdict, type AttemptResult } from "./webhook-delivery.js";
import { WebhookQueue } from "./webhook-queue.js";

/** What the sender needs from its inbox. */
export interface WebhookHost {
  config(): AgentConfig | null;
  /** The stored message, or null once it was deleted or expired. */
  message(ts: number): StoredMessage | null;
  /** `deleteOnDelivery`: remove a delivered message from the inbox. */
  deleteDelivered(id: string): void;
  /** A 410 Gone: turn the webhook off (the record shows why). */
  disable(reason: string): Promise<void>;
  /** Every attempt, for the admin views. */
  recorded(attempt: WebhookAttempt): void;
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

export class WebhookSender {
  readonly queue: WebhookQueue;

  constructor(
    sql: SqlStorage,
    private readonly limits: Limits,
    private readonly host: WebhookHost,
  ) {
    this.queue = new WebhookQueue(sql);
  }

  /** When the alarm should next run for webhooks, or null when nothing is queued. */
  nextDue(): number | null {
    return this.queue.head()?.nextAt ?? null;
  }

  /** Delivers due messages in order, up to one run's budget; stops at a delivery that must wait. */
  async run(): Promise<void> {
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
      const result = await postWebhook(config.webhookUrl, config.webhookSecrets, webhookId, message.json, this.limits.webhookTimeoutMs);
      const log = (outcome: WebhookAttempt["outcome"], error = result.error) =>
        this.log(config.name, message.id, webhookId, attempt, result, outcome, error);

      switch (verdict(result.status)) {
        case "delivered":
          log("delivered");
          this.host.delivered(Date.now() - message.ts);
          this.queue.remove(head.seq);
          if (config.deleteOnDelivery) this.host.deleteDelivered(message.id);
          continue;
        case "failed":
          log("failed"); // this message cannot be delivered (4xx); the queue moves on
          this.queue.remove(head.seq);
          continue;
        case "gone":
          log("disabled");
          this.queue.clear();
          await this.host.disable(`410 Gone from ${new URL(config.webhookUrl).host} at ${isoTime(now)}`);
          return;
        case "retry": {
          const firstAt = head.firstAt ?? now;
          const nextAt = now + retryDelayMs(attempt, this.limits, result.retryAfterS);
          if (nextAt - firstAt > this.limits.webhookRetryHorizonS * 1000) {
            log("failed", `${result.error}; gave up after ${attempt} attempts`);
            this.queue.remove(head.seq);
            continue;
          }
          log("retrying");
          this.queue.postpone(head.seq, attempt, nextAt, firstAt);
          return;
        }
      }
    }
  }

  /** POST /agents/:name/webhook/test: one signed test event, now, outside the queue. */
  async test(): Promise<TestOutcome | null> {
    const config = this.host.config();
    if (!config?.webhookUrl) return null;
    const webhookId = `test_${crypto.randomUUID()}`;
    const body = JSON.stringify({ type: "webhook.test", id: webhookId, agent: config.name, ts: isoTime(Date.now()) });
    const result = await postWebhook(config.webhookUrl, config.webhookSecrets, webhookId, body, this.limits.webhookTimeoutMs);
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
    this.host.recorded(record);
  }
}
