// One signed webhook POST and the policy around it (SPEC §4.4): Standard Webhooks signatures
// (the `standardwebhooks` package, which runs in workerd), a timeout, no redirects (a redirect
// could lead to an address the URL check refused), and what each answer means.

import { Webhook } from "standardwebhooks";
import type { Limits } from "../protocol/limits.js";

export interface AttemptResult {
  status: number | null;
  latencyMs: number;
  error: string | null;
  /** Seconds from a Retry-After header, if the endpoint sent one. */
  retryAfterS: number | null;
}

/** What to do after an attempt. */
export type Verdict = "delivered" | "retry" | "failed" | "gone";

/** `v1,<sig>` for each secret, space-separated (during a rotation both the new and old secret sign). */
export function signatureHeader(secrets: string[], webhookId: string, timestampS: number, body: string): string {
  return secrets.map((secret) => new Webhook(secret).sign(webhookId, new Date(timestampS * 1000), body)).join(" ");
}

export async function postWebhook(url: string, secrets: string[], webhookId: string, body: string, timeoutMs: number): Promise<AttemptResult> {
  const timestampS = Math.floor(Date.now() / 1000);
  const started = Date.now();
  try {
    const response = await fetch(url, {
      method: "POST",
      redirect: "manual",
      signal: AbortSignal.timeout(timeoutMs),
      headers: {
        "Content-Type": "application/json",
        "User-Agent": "ClawTalk-Webhooks/1",
        "webhook-id": webhookId,
        "webhook-timestamp": String(timestampS),
        "webhook-signature": signatureHeader(secrets, webhookId, timestampS, body),
      },
      body,
    });
    await response.body?.cancel();
    const ok = response.status >= 200 && response.status < 300;
    return {
      status: response.status,
      latencyMs: Date.now() - started,
      error: ok ? null : `HTTP ${response.status}`,
      retryAfterS: parseRetryAfter(response.headers.get("Retry-After")),
    };
  } catch (error) {
    const timedOut = error instanceof Error && (error.name === "TimeoutError" || error.name === "AbortError");
    return {
      status: null,
      latencyMs: Date.now() - started,
      error: timedOut ? `no answer within ${timeoutMs} ms` : `connection failed${error instanceof Error ? `: ${error.message}` : ""}`,
      retryAfterS: null,
    };
  }
}

/** 2xx delivered; 410 disables the webhook; 408, 429, 5xx and no answer retry; other codes fail this message. */
export function verdict(status: number | null): Verdict {
  if (status === null) return "retry";
  if (status >= 200 && status < 300) return "delivered";
  if (status === 410) return "gone";
  if (status === 408 || status === 429 || status >= 500) return "retry";
  return "failed";
}

/** Exponential backoff with ±20 % jitter, or the endpoint's Retry-After when it gave one. */
export function retryDelayMs(attempts: number, limits: Limits, retryAfterS: number | null): number {
  if (retryAfterS !== null) return Math.min(Math.max(retryAfterS * 1000, 1000), limits.webhookRetryHorizonS * 1000);
  const backoff = Math.min(limits.webhookRetryMaxMs, limits.webhookRetryBaseMs * 2 ** Math.max(0, attempts - 1));
  return Math.round(backoff * (0.8 + Math.random() * 0.4));
}

/** Seconds, or an HTTP date; null when absent or unreadable. */
function parseRetryAfter(value: string | null): number | null {
  if (value === null) return null;
  if (/^\d+$/.test(value.trim())) return Number(value.trim());
  const at = Date.parse(value);
  return Number.isFinite(at) ? Math.max(0, Math.ceil((at - Date.now()) / 1000)) : null;
}
