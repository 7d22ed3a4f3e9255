// A token bucket: `capacity` requests at once, refilled evenly over `windowMs`. So a fresh agent
// may send its first 30 at once, then one every 2 s (at 30/min).

export interface Bucket {
  tokens: number;
  at: number; // ms of the last refill
}

export type Take = { ok: true; bucket: Bucket } | { ok: false; bucket: Bucket; retryAfterS: number };

export function fullBucket(capacity: number, now: number): Bucket {
  return { tokens: capacity, at: now };
}

function refill(bucket: Bucket, capacity: number, windowMs: number, now: number): Bucket {
  const elapsed = Math.max(0, now - bucket.at);
  return { tokens: Math.min(capacity, bucket.tokens + (elapsed * capacity) / windowMs), at: now };
}

export function take(bucket: Bucket, capacity: number, windowMs: number, now: number): Take {
  const current = refill(bucket, capacity, windowMs, now);
  if (current.tokens >= 1) return { ok: true, bucket: { tokens: current.tokens - 1, at: now } };
  const waitMs = ((1 - current.tokens) * windowMs) / capacity;
  return { ok: false, bucket: current, retryAfterS: Math.max(1, Math.ceil(waitMs / 1000)) };
}

/** Gives back a token taken by a request that ended up storing nothing. */
export function refund(bucket: Bucket, capacity: number, windowMs: number, now: number): Bucket {
  const current = refill(bucket, capacity, windowMs, now);
  return { tokens: Math.min(capacity, current.tokens + 1), at: now };
}
