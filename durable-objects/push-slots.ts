// The feed shard's push budget (issue 16, "adaptive pushes"). Every inbox pushes its feed batch
// to its shard at most once per FEED_FLUSH_MS; with many busy inboxes on one shard that alone is
// unbounded. So the shard answers each push with the earliest time the inbox may push again: the
// next free slot of a schedule that hands out FEED_PUSH_BUDGET slots per second. While the shard
// is quiet the next slot is FEED_FLUSH_MS away, as before; when pushes come faster than the
// budget, slots run ahead of the clock and every inbox waits longer, so the pushes reaching the
// shard settle at the budget within about one interval, without any measuring window. The wait is
// capped at FEED_FLUSH_MAX_MS, which bounds how stale the feed gets; past the cap (more than
// budget x cap busy inboxes on one shard) the rate grows again, and the shard count must grow.
//
// Meanwhile each inbox keeps collecting: a later push carries a sample of FEED_BATCH_MAX items and
// exact counts (feed-batch.ts), so counts and charts stay exact and only the feed's sample and
// freshness change. The schedule lives in memory: an evicted shard starts from an empty one, and
// the first interval after that is short again.

export class PushSlots {
  /** Epoch ms of the next free slot. */
  private next = 0;

  constructor(
    private readonly baseMs: number,
    private readonly maxMs: number,
    private readonly perSecond: number,
  ) {}

  /** A push arrived at `now`: how long (ms) the inbox waits before its next push. */
  assign(now: number): number {
    const slot = Math.min(Math.max(now + this.baseMs, this.next), now + this.maxMs);
    this.next = slot + 1000 / this.perSecond;
    return slot - now;
  }

  /** The wait a push arriving now would be given (for /admin/stats), without taking a slot. */
  currentWaitMs(now: number): number {
    return Math.min(Math.max(this.baseMs, this.next - now), this.maxMs);
  }
}
