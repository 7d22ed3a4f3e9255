// Responses: JSON bodies, the one error renderer, and the headers every response carries
// (CORS, Cache-Control: no-store, X-Request-Id).

import { describeError, ERROR_STATUS, failures, RelayError, type ErrorBody } from "../protocol/errors.js";
import type { Limits } from "../protocol/limits.js";

export const ALLOWED_METHODS = "GET, POST, PATCH, DELETE, OPTIONS";
export const ALLOWED_HEADERS = "Authorization, Content-Type, Idempotency-Key";

export function json(body: unknown, status = 200, headers: HeadersInit = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "Content-Type": "application/json; charset=utf-8", ...headers },
  });
}

/** The only place error JSON is built. A 500 says nothing but the request id. */
export function errorResponse(error: unknown, requestId: string): Response {
  if (!(error instanceof RelayError)) {
    console.error(`request ${requestId} failed: ${describeError(error)}`);
    return errorResponse(new RelayError(failures.internal(requestId)), requestId);
  }
  const { fail, message, ...extra } = error.failure;
  const body: ErrorBody = { error: message, code: fail, ...extra };
  const headers: Record<string, string> = { ...error.headers };
  if (extra.retryAfter !== undefined) headers["Retry-After"] = String(extra.retryAfter);
  return json(body, ERROR_STATUS[fail], headers);
}

/** Adds the headers every response carries; copies the response only when its headers are immutable (a fetched one). */
export function finish(response: Response, requestId: string, limits: Limits): Response {
  let out = response;
  try {
    out.headers.set("X-Request-Id", requestId);
  } catch {
    out = new Response(response.body, response);
  }
  out.headers.set("Access-Control-Allow-Origin", limits.corsOrigin);
  out.headers.set("Access-Control-Allow-Methods", ALLOWED_METHODS);
  out.headers.set("Access-Control-Allow-Headers", ALLOWED_HEADERS);
  out.headers.set("Access-Control-Expose-Headers", "X-Request-Id, Retry-After");
  if (limits.corsOrigin !== "*") out.headers.append("Vary", "Origin");
  out.headers.set("Cache-Control", "no-store");
  out.headers.set("X-Request-Id", requestId);
  return out;
}
