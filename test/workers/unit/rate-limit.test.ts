// durable-objects/rate-limit.ts: the token bucket behind the send and broadcast limits
// (SPEC §4.1: "a fresh agent may send 30 at once", then refilled evenly over the window).

import { describe, expect, it } from "vitest";
import { fullBucket, refund, take, type Bucket } from "../../../durable-objects/rate-limit.js";

const CAPACITY = 30;
const WINDOW_MS = 60_000;
const REFILL_MS = WINDOW_MS / CAPACITY; // one token every 2 s at 30/min
const T0 = 1_700_000_000_000;

/** Takes `n` tokens at time `now`; returns the bucket after and how many were granted. */
function takeMany(bucket: Bucket, n: number, now: number, capacity = CAPACITY, windowMs = WINDOW_MS) {
  let granted = 0;
  for (let i = 0; i < n; i++) {
    const result = take(bucket, capacity, windowMs, now);
    bucket = result.bucket;
    if (result.ok) granted++;
  }
  return { bucket, granted };
}

describe("the send token bucket", () => {
  it("grants a fresh bucket's whole capacity at once, and not one more", () => {
    const { bucket, granted } = takeMany(fullBucket(CAPACITY, T0), CAPACITY, T0);
    expect(granted).toBe(CAPACITY);
    const next = take(bucket, CAPACITY, WINDOW_MS, T0);
    expect(next.ok).toBe(false);
  });

  it("says how long to wait: whole seconds, at least 1, until the next token", () => {
    const empty = takeMany(fullBucket(CAPACITY, T0), CAPACITY, T0).bucket;
    const refused = take(empty, CAPACITY, WINDOW_MS, T0);
    expect(refused.ok).toBe(false);
    if (refused.ok) return;
    expect(refused.retryAfterS).toBe(REFILL_MS / 1000);
    expect(Number.isInteger(refused.retryAfterS)).toBe(true);

    // 1 ms before the next token: still refused, and the wait rounds up to 1 s, never 0.
    const almost = take(empty, CAPACITY, WINDOW_MS, T0 + REFILL_MS - 1);
    expect(almost.ok).toBe(false);
    if (!almost.ok) expect(almost.retryAfterS).toBe(1);

    // A retry after the advertised wait succeeds.
    expect(take(empty, CAPACITY, WINDOW_MS, T0 + refused.retryAfterS * 1000).ok).toBe(true);
  });

  it("rounds a fractional wait up to whole seconds", () => {
    // 7 per minute: a token every 8.571 s.
    const empty = takeMany(fullBucket(7, T0), 7, T0, 7).bucket;
    const refused = take(empty, 7, WINDOW_MS, T0);
    expect(refused.ok).toBe(false);
    if (!refused.ok) expect(refused.retryAfterS).toBe(9);
  });

  it("refills evenly: one token per window/capacity", () => {
    const empty = takeMany(fullBucket(CAPACITY, T0), CAPACITY, T0).bucket;
    expect(takeMany(empty, 10, T0 + REFILL_MS).granted).toBe(1);
    expect(takeMany(empty, 10, T0 + 5 * REFILL_MS).granted).toBe(5);
    expect(takeMany(empty, 10, T0 + 5 * REFILL_MS + REFILL_MS / 2).granted).toBe(5);
    expect(takeMany(empty, CAPACITY + 5, T0 + WINDOW_MS / 2).granted).toBe(CAPACITY / 2);
  });

  it("never holds more than its capacity, however long it was idle", () => {
    const empty = takeMany(fullBucket(CAPACITY, T0), CAPACITY, T0).bucket;
    expect(takeMany(empty, CAPACITY * 3, T0 + 24 * 3600_000).granted).toBe(CAPACITY);
  });

  it("sustains exactly the configured rate over a long run", () => {
    let bucket = fullBucket(CAPACITY, T0);
    let granted = 0;
    // One attempt every 100 ms for 10 minutes.
    for (let t = 0; t <= 10 * 60_000; t += 100) {
      const result = take(bucket, CAPACITY, WINDOW_MS, T0 + t);
      bucket = result.bucket;
      if (result.ok) granted++;
    }
    // The initial burst plus 30 a minute for 10 minutes.
    expect(granted).toBe(CAPACITY + 10 * CAPACITY);
  });

  it("does not mint tokens when the clock steps backwards", () => {
    const empty = takeMany(fullBucket(CAPACITY, T0), CAPACITY, T0).bucket;
    expect(take(empty, CAPACITY, WINDOW_MS, T0 - 60_000).ok).toBe(false);
  });

  it("leaves the bucket unchanged in tokens when it refuses", () => {
    const empty = takeMany(fullBucket(CAPACITY, T0), CAPACITY, T0).bucket;
    const refused = take(empty, CAPACITY, WINDOW_MS, T0);
    expect(refused.bucket.tokens).toBeCloseTo(empty.tokens, 9);
  });
});

describe("refunds", () => {
  it("gives back a token taken by a request that stored nothing", () => {
    const empty = takeMany(fullBucket(CAPACITY, T0), CAPACITY, T0).bucket;
    const refunded = refund(empty, CAPACITY, WINDOW_MS, T0);
    expect(take(refunded, CAPACITY, WINDOW_MS, T0).ok).toBe(true);
    expect(takeMany(refunded, 5, T0).granted).toBe(1);
  });

  it("is capped at capacity: refunding a full bucket does not raise the burst", () => {
    let bucket = fullBucket(CAPACITY, T0);
    for (let i = 0; i < 10; i++) bucket = refund(bucket, CAPACITY, WINDOW_MS, T0);
    expect(bucket.tokens).toBe(CAPACITY);
    expect(takeMany(bucket, CAPACITY + 10, T0).granted).toBe(CAPACITY);
  });

  it("is capped at capacity also after refilling", () => {
    const half = takeMany(fullBucket(CAPACITY, T0), 1, T0).bucket;
    // Idle long enough to be full again, then a refund of the earlier take.
    const bucket = refund(half, CAPACITY, WINDOW_MS, T0 + WINDOW_MS);
    expect(bucket.tokens).toBe(CAPACITY);
  });
});

describe("the broadcast bucket (same mechanism, another window)", () => {
  it("allows the hourly allowance at once and then waits minutes", () => {
    const perHour = 10;
    const hour = 3600_000;
    const { bucket, granted } = takeMany(fullBucket(perHour, T0), perHour + 1, T0, perHour, hour);
    expect(granted).toBe(perHour);
    const refused = take(bucket, perHour, hour, T0);
    expect(refused.ok).toBe(false);
    if (!refused.ok) expect(refused.retryAfterS).toBe(360);
  });
});
