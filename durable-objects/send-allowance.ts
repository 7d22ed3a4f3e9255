// An agent's send allowance, kept in its own Inbox object so it is counted exactly wherever the
// request lands: RATE_LIMIT_PER_MIN sends per RATE_WINDOW_S (token bucket), and for broadcasts
// also BROADCAST_PER_HOUR per BROADCAST_WINDOW_S.
//
// The buckets live in memory only: writing them on every send would put a durable write in the
// sender's object on the hot path. A restart of the object (a deploy, an eviction after it sat
// idle) refills them; an idle object has refilled most of its window anyway.
//
// A request that stores nothing counts nothing. Its token is held while it is in flight and given
// back when it settles, so a send that finds the bucket empty while others are in flight waits for
// them to settle before it is refused: concurrent doomed requests cannot use up the allowance.

import { failures, type Failure } from "../protocol/errors.js";
import type { Limits } from "../protocol/limits.js";
import { fullBucket, refund, take, type Bucket } from "./rate-limit.js";

export type SendKind = "message" | "broadcast";

/** How long a send may wait for in-flight sends to settle before it is refused. */
const SETTLE_WAIT_MS = 10_000;

export class SendAllowance {
  private inFlight = 0;
  private waiting: (() => void)[] = [];
  private readonly buckets = new Map<SendKind, Bucket>();

  constructor(private readonly limits: Limits) {}

  /** Takes one send (and one broadcast); null when admitted, else a 429 failure. Settle it afterwards. */
  async reserve(kind: SendKind): Promise<Failure | null> {
    const deadline = Date.now() + SETTLE_WAIT_MS;
    for (;;) {
      const refused = this.take(kind);
      if (refused === null) {
        this.inFlight++;
        return null;
      }
      const left = deadline - Date.now();
      if (this.inFlight === 0 || left <= 0) return refused;
      await new Promise<void>((resolve) => {
        this.waiting.push(resolve);
        setTimeout(resolve, left);
      });
    }
  }

  /** Ends a reservation; gives the allowance back when the send stored nothing new. */
  settle(kind: SendKind, stored: boolean): void {
    this.inFlight = Math.max(0, this.inFlight - 1);
    if (!stored) {
      const now = Date.now();
      this.buckets.set("message", refund(this.bucket("message"), ...this.shape("message"), now));
      if (kind === "broadcast") this.buckets.set("broadcast", refund(this.bucket("broadcast"), ...this.shape("broadcast"), now));
    }
    const waiting = this.waiting;
    this.waiting = [];
    for (const wake of waiting) wake();
  }

  private take(kind: SendKind): Failure | null {
    const now = Date.now();
    const message = take(this.bucket("message"), ...this.shape("message"), now);
    if (!message.ok) return failures.sendRateLimited(this.limits.rateLimitPerMin, this.limits.rateWindowS, message.retryAfterS);
    if (kind === "broadcast") {
      const broadcast = take(this.bucket("broadcast"), ...this.shape("broadcast"), now);
      if (!broadcast.ok) return failures.broadcastRateLimited(this.limits.broadcastPerHour, this.limits.broadcastWindowS, broadcast.retryAfterS);
      this.buckets.set("broadcast", broadcast.bucket);
    }
    this.buckets.set("message", message.bucket);
    return null;
  }

  /** [capacity, window in ms] of a bucket. */
  private shape(kind: SendKind): [number, number] {
    return kind === "message"
      ? [this.limits.rateLimitPerMin, this.limits.rateWindowS * 1000]
      : [this.limits.broadcastPerHour, this.limits.broadcastWindowS * 1000];
  }

  private bucket(kind: SendKind): Bucket {
    return this.buckets.get(kind) ?? fullBucket(this.shape(kind)[0], Date.now());
  }
}
