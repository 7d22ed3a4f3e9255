// What a benchmark scenario reports: its own figures and, for throughput runs, the floor of the
// same request shape measured in the same run (bench/floors.ts), so every figure reads as a ratio.

import type { LoadResult, Stats } from "./measure.js";

export interface FloorFigure {
  /** The floor's shape, e.g. "Worker → object → object → one insert". */
  what: string;
  rps: number;
  latency: Stats;
  /** CPU of its workerd processes per request (ms), when measured. */
  cpuMsPerRequest?: number;
}

export interface Figure {
  scenario: string;
  /** What was measured, e.g. "50 senders → 50 inboxes, 10 connections". */
  what: string;
  rps?: number;
  latency?: Stats;
  value?: number;
  unit?: string;
  note?: string;
  floor?: FloorFigure;
  /** rps ÷ the floor's rps. */
  rpsRatio?: number;
  /** p99 ÷ the floor's p99. */
  p99Ratio?: number;
  /** For a `value` figure: the same measure of its floor, in the same unit, from the same run. */
  floorValue?: number;
  /** CPU of the relay's workerd processes per request (ms), beside the floor's. */
  cpuMsPerRequest?: number;
}

/** A throughput figure beside its floor. */
export function againstFloor(scenario: string, what: string, result: LoadResult, floor: FloorFigure): Figure {
  return {
    scenario,
    what,
    rps: result.rps,
    latency: result,
    floor,
    rpsRatio: result.rps / floor.rps,
    p99Ratio: result.p99 / Math.max(floor.latency.p99, 0.001),
    ...(result.failed > 0 ? { note: `${result.failed} failed` } : {}),
  };
}

export function floorFigure(what: string, result: LoadResult): FloorFigure {
  return { what, rps: result.rps, latency: { count: result.count, p50: result.p50, p95: result.p95, p99: result.p99, max: result.max } };
}
