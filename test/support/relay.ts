// Helpers for tests that run inside workerd: requests go through the real Worker's fetch handler
// to the real Durable Objects, exactly as over HTTP. (The pool's `exports.default.fetch` does the
// same through a wrapper whose cost grows with every request made in a file in
// vitest-pool-workers 0.15, so bulk tests would take minutes.)

import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import worker from "../../worker/index.js";

export const ADMIN_KEY = "test-admin-key-0123456789";
export const BASE = "http://relay.test";

/** An answer; `body` is the parsed JSON, typed as the caller says (`call<MessagePage>(...)`), else unknown. */
export interface Reply<T = unknown> {
  status: number;
  headers: Headers;
  body: T;
  text: string;
}

export interface CallOptions {
  key?: string | null;
  /** A JSON value to send as the body. */
  json?: unknown;
  /** A raw body, sent as is. */
  raw?: string | Uint8Array;
  headers?: Record<string, string>;
}

export async function call<T = unknown>(method: string, path: string, options: CallOptions = {}): Promise<Reply<T>> {
  const headers = new Headers(options.headers);
  if (options.key) headers.set("Authorization", `Bearer ${options.key}`);
  let body: BodyInit | undefined;
  if (options.json !== undefined) {
    body = JSON.stringify(options.json);
    if (!headers.has("Content-Type")) headers.set("Content-Type", "application/json");
  } else if (options.raw !== undefined) {
    body = options.raw;
  }
  const ctx = createExecutionContext();
  const request = new Request<unknown, IncomingRequestCfProperties>(`${BASE}${path}`, { method, headers, body });
  const response = await worker.fetch(request, env, ctx);
  const text = await response.text();
  await waitOnExecutionContext(ctx);
  let parsed: unknown = undefined;
  try {
    parsed = text === "" ? undefined : JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  return { status: response.status, headers: response.headers, body: parsed as T, text };
}

let counter = 0;

/** A name no other test uses (names are global to the relay under test). */
export function uniqueName(prefix = "agent"): string {
  counter++;
  const suffix = `${Date.now().toString(36).slice(-4)}${Math.random().toString(36).slice(2, 6)}${counter}`;
  return `${prefix.slice(0, 16)}_${suffix}`.slice(0, 32);
}

export interface TestAgent {
  name: string;
  apiKey: string;
  webhookSecret: string;
}

export async function register(prefix = "agent", fields: Record<string, unknown> = {}): Promise<TestAgent> {
  const name = uniqueName(prefix);
  const reply = await call<TestAgent>("POST", "/agents", { key: ADMIN_KEY, json: { name, ...fields } });
  if (reply.status !== 201) throw new Error(`register ${name}: ${reply.status} ${reply.text}`);
  return reply.body;
}

/** A minimal valid plaintext send body. */
export function textMessage(to: unknown, payload: unknown = "hello", extra: Record<string, unknown> = {}) {
  return { to, type: "notification", encrypted: false, payload, ...extra };
}

/** POST /messages from `from`; `T` is the body the caller expects (SendResponse, ErrorBody, ...). */
export async function send<T = unknown>(from: TestAgent, body: unknown, headers: Record<string, string> = {}): Promise<Reply<T>> {
  return call<T>("POST", "/messages", { key: from.apiKey, json: body, headers });
}

/** GET /messages?<query> as `agent`; `T` is the body the caller expects (MessagePage, ErrorBody, ...). */
export async function inbox<T = unknown>(agent: TestAgent, query = ""): Promise<Reply<T>> {
  return call<T>("GET", `/messages${query ? `?${query}` : ""}`, { key: agent.apiKey });
}

/** Base64 of n bytes of a pattern, for keys, nonces and signatures in tests. */
export function base64Bytes(n: number, fill = 7): string {
  return btoa(String.fromCharCode(...new Uint8Array(n).fill(fill)));
}
