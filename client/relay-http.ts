// The relay's HTTP API as the SDK speaks it: one authenticated JSON request, and ClawTalkError for
// every answer that is not 2xx. Only `fetch`: no Node API, so it runs in Workers and browsers too.

import type { Receipts, SendResponse } from "../protocol/envelope.js";
import type { ErrorBody } from "../protocol/errors.js";

/**
 * What a ClawTalkError carries: the relay's error body, or for a `send` whose `awaitDelivery`
 * timed out (code DELIVERY_TIMEOUT) the send's answer and the last receipts read.
 */
export interface ClawTalkErrorBody extends Partial<ErrorBody> {
  sent?: SendResponse;
  receipts?: Receipts;
}

export class ClawTalkError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly body: ClawTalkErrorBody = {},
  ) {
    super(message);
    this.name = "ClawTalkError";
  }
}

export interface RequestInit {
  signal?: AbortSignal;
  headers?: Record<string, string>;
}

export class RelayHttp {
  private readonly baseUrl: string;

  constructor(
    baseUrl: string,
    /** The key in use; `rotateKey` replaces it. */
    public apiKey: string,
    private readonly fetcher: typeof fetch,
  ) {
    this.baseUrl = baseUrl.replace(/\/+$/, "");
  }

  /** `method path` with the API key; answers the parsed JSON body, or throws a ClawTalkError. */
  async request<T>(method: string, path: string, body?: unknown, init: RequestInit = {}): Promise<T> {
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
}

/**
 * Failures that retrying may fix: no answer (network), 408, 429 and 5xx. Any other 4xx (a
 * refused key, a bad request) will not get better.
 */
export function isTransient(error: unknown): boolean {
  if (!(error instanceof ClawTalkError)) return true;
  return error.status === 408 || error.status === 429 || error.status >= 500;
}

/** Resolves after `ms`, or at once when `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener("abort", done, { once: true });
  });
}
