// Receipts (SPEC §11.1) as the SDK reads them: what became of each copy of a message this agent
// sent (GET /messages/:id/receipts), held with `wait` until every copy reached `until`, and the
// wait behind `send({awaitDelivery})`. The recipients' inboxes report to the sender's within
// FEED_FLUSH_MS, so a receipt may lag the recipient's read by that much.

import type { Receipts, SendResponse } from "../protocol/envelope.js";
import { ClawTalkError, isTransient, sleep, type RelayHttp } from "./relay-http.js";

/** The state a copy is waited for: handed to its recipient, or acked (deleted) by it. */
export type DeliveryGoal = "delivered" | "acked";
export const DELIVERY_GOALS: readonly DeliveryGoal[] = ["delivered", "acked"];

export interface ReceiptsOptions {
  /**
   * Seconds to hold the answer until every recipient reached `until` (any length: asked as
   * long-polls of at most 30 s). A broadcast is asked once: the relay alone knows its recipients.
   */
  wait?: number;
  /** What `wait` waits for (default "delivered"). */
  until?: DeliveryGoal;
  /** With the admin key: the message's sender (the relay keeps receipts in the sender's inbox). */
  from?: string;
  signal?: AbortSignal;
}

/** The longest single long-poll (the relay's LONGPOLL_MAX_S default). */
const CHUNK_MS = 30_000;
/** An answer that came back unsettled sooner than this is not asked again at once. */
const MIN_SPACING_MS = 1_000;
const RETRY_MAX_MS = 5_000;
export const DEFAULT_AWAIT_TIMEOUT_S = 60;

/**
 * Every copy reached `until`, or can no longer: a rejected copy never will, an expired one never
 * will again, and an acked one was delivered as far as its recipient is concerned (as the relay's
 * receipts long-poll judges it). A broadcast's counts cannot say which copy is where: false.
 */
export function isSettled(receipts: Receipts, until: DeliveryGoal): boolean {
  if (!("recipients" in receipts)) return false;
  return receipts.recipients.every(
    ({ status }) => status === "rejected" || status === "expired" || status === "acked" || (until === "delivered" && status === "delivered"),
  );
}

export async function readReceipts(http: RelayHttp, id: string, options: ReceiptsOptions = {}): Promise<Receipts> {
  const until = options.until ?? "delivered";
  const deadline = Date.now() + Math.max(0, (options.wait ?? 0) * 1000);
  const path = `/messages/${encodeURIComponent(id)}/receipts`;
  for (;;) {
    const started = Date.now();
    const left = deadline - started;
    const query = new URLSearchParams();
    if (left > 0) query.set("wait", (Math.min(left, CHUNK_MS) / 1000).toFixed(3));
    if (left > 0 || options.until !== undefined) query.set("until", until);
    if (options.from !== undefined) query.set("from", options.from);
    const receipts = await http.request<Receipts>("GET", query.size ? `${path}?${query}` : path, undefined, options.signal ? { signal: options.signal } : {});
    const now = Date.now();
    if (!("recipients" in receipts) || isSettled(receipts, until) || now >= deadline || options.signal?.aborted) return receipts;
    // Back unsettled long before its wait ended (a relay with a shorter LONGPOLL_MAX_S, a restart):
    // not in a tight loop.
    if (now - started < MIN_SPACING_MS) await sleep(Math.min(MIN_SPACING_MS, deadline - now), options.signal);
  }
}

/**
 * Resolves with the receipts once every recipient of a sent message reached `goal` (or can no
 * longer), reading them as long-polls; rejects with a ClawTalkError DELIVERY_TIMEOUT carrying the
 * send's answer and the last receipts after `timeoutS`. Failures that retrying may fix (network,
 * 5xx, and a 404 while the sender's inbox, restarted, waits for its recipients' reports) are
 * retried until then.
 */
export async function awaitDelivery(http: RelayHttp, sent: SendResponse, goal: DeliveryGoal, timeoutS: number): Promise<Receipts> {
  const deadline = Date.now() + timeoutS * 1000;
  let last: Receipts | undefined;
  let pauseMs = 500;
  for (;;) {
    try {
      last = await readReceipts(http, sent.id, { wait: Math.max(0, deadline - Date.now()) / 1000, until: goal });
      if (isSettled(last, goal)) return last;
    } catch (error) {
      const retry = isTransient(error) || (error instanceof ClawTalkError && error.status === 404);
      if (!retry || (Date.now() >= deadline && last === undefined)) throw error;
      if (Date.now() < deadline) await sleep(Math.min(pauseMs, deadline - Date.now()));
      pauseMs = Math.min(pauseMs * 2, RETRY_MAX_MS);
    }
    if (Date.now() >= deadline && last !== undefined) throw deliveryTimeout(sent, goal, timeoutS, last);
  }
}

function deliveryTimeout(sent: SendResponse, goal: DeliveryGoal, timeoutS: number, last: Receipts): ClawTalkError {
  const states = "recipients" in last ? ` (${last.recipients.map((r) => `${r.name} ${r.status}`).join(", ")})` : "";
  const message = `message ${sent.id}: not every recipient reached "${goal}" within ${timeoutS} s${states}`;
  return new ClawTalkError(408, "DELIVERY_TIMEOUT", message, { error: message, sent, receipts: last });
}
