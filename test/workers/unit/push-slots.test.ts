// durable-objects/push-slots.ts: a feed shard answers each push with the wait before that inbox's
// next, handing out at most FEED_PUSH_BUDGET slots a second, so busy inboxes push less often and
// the pushes reaching the shard settle at the budget.

import { describe, expect, it } from "vitest";
import { PushSlots } from "../../../durable-objects/push-slots.js";

const BASE = 2000;
const MAX = 60_000;

describe("PushSlots", () => {
  it("tells every inbox of a quiet shard to wait FEED_FLUSH_MS", () => {
    const slots = new PushSlots(BASE, MAX, 10);
    for (let t = 0; t < 10_000; t += 500) expect(slots.assign(t)).toBe(BASE);
    expect(slots.currentWaitMs(20_000)).toBe(BASE);
  });

  it("spaces the next pushes 1/budget apart when pushes come at once, up to FEED_FLUSH_MAX_MS", () => {
    const slots = new PushSlots(BASE, MAX, 10);
    const waits = Array.from({ length: 1000 }, () => slots.assign(0));
    expect(waits.slice(0, 4)).toEqual([2000, 2100, 2200, 2300]);
    expect(Math.max(...waits)).toBe(MAX);
    expect(slots.currentWaitMs(0)).toBe(MAX);
    // Once the crowd is gone the waits shrink back to FEED_FLUSH_MS.
    expect(slots.assign(MAX + 1000)).toBe(BASE);
  });

  it.each([
    [500, 2_000, 10],
    [500, 20_000, 10],
    [12_500, 6_000, 250],
  ])("keeps %i inboxes that each store a message every %i ms to about %i pushes a second", (inboxes, everyMs, budget) => {
    // Each inbox pushes FEED_FLUSH_MS after the first message since its last push, and no sooner
    // than its last answer allows (durable-objects/views.ts), here with messages arriving evenly.
    const slots = new PushSlots(BASE, MAX, budget);
    const notBefore = new Array<number>(inboxes).fill(0);
    const due = new Array<number | null>(inboxes).fill(null);
    const arrivals = Array.from({ length: inboxes }, (_, i) => (i * everyMs) / inboxes);
    const pushes: number[] = [];
    for (let t = 0; t < 300_000; t += 10) {
      for (let i = 0; i < inboxes; i++) {
        if (arrivals[i]! <= t) {
          due[i] ??= Math.max(arrivals[i]! + BASE, notBefore[i]!);
          arrivals[i]! += everyMs;
        }
        if (due[i] !== null && due[i]! <= t) {
          due[i] = null;
          pushes.push(t);
          notBefore[i] = t + slots.assign(t);
        }
      }
    }
    const natural = Math.min(inboxes * (1000 / everyMs), inboxes * (1000 / BASE));
    const lastMinute = pushes.filter((t) => t >= 240_000).length / 60;
    expect(lastMinute).toBeLessThanOrEqual(Math.min(natural, budget) * 1.05);
    expect(lastMinute).toBeGreaterThanOrEqual(Math.min(natural, budget) * 0.9);
  });
});
