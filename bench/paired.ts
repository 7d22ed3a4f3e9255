// A relay scenario and its floor measured in alternating slices (floor, relay, floor, relay, …)
// and merged, so a slow spell of this noisy 2-core VM falls on both rather than on one. Each is
// first run unmeasured for a moment: the first scenario against a fresh relay otherwise paid for
// compiling the relay's code and filling its key caches (CPU per send 3.3 ms against 2.8 ms in the
// next scenario of the same run), which is the cost of a start, not of a send.

import { againstFloor, floorFigure, type Figure, type FloorFigure } from "./figure.js";
import type { FloorRun } from "./floors.js";
import { workerdCpuMs } from "./cpu.js";
import { load, merge, type LoadOptions, type LoadResult } from "./measure.js";

export interface PairedOptions {
  /** Slices of each (default 3). */
  slices: number;
  /** Seconds per slice. */
  seconds: number;
  /** wrangler pids of the floor and the relay, to read their workerd CPU time per request. */
  pids?: { floor: number; relay: number };
}

/** A load run, with the CPU its workerd processes used per 2xx answer. */
async function measured(options: LoadOptions, pid: number | undefined): Promise<LoadResult & { cpuMs: number }> {
  const before = pid === undefined ? 0 : workerdCpuMs(pid);
  const result = await load(options);
  const cpuMs = pid === undefined ? Number.NaN : workerdCpuMs(pid) - before;
  return { ...result, cpuMs };
}

/** Seconds of unmeasured load before a scenario and before its floor. */
const WARM_UP_S = 2;

const cpuPerRequest = (slices: (LoadResult & { cpuMs: number })[]) =>
  slices.reduce((n, s) => n + s.cpuMs, 0) / Math.max(1, slices.reduce((n, s) => n + s.ok, 0));

export async function paired(
  scenario: string,
  what: string,
  floor: FloorRun,
  relay: (seconds: number) => LoadOptions,
  { slices, seconds, pids }: PairedOptions,
): Promise<Figure> {
  const floorSlices: (LoadResult & { cpuMs: number })[] = [];
  const relaySlices: (LoadResult & { cpuMs: number })[] = [];
  await load(floor.options(WARM_UP_S));
  await load(relay(WARM_UP_S));
  for (let i = 0; i < slices; i++) {
    floorSlices.push(await measured(floor.options(seconds), pids?.floor));
    relaySlices.push(await measured(relay(seconds), pids?.relay));
  }
  const figure = againstFloor(scenario, what, merge(relaySlices), { ...floorFigure(floor.what, merge(floorSlices)), cpuMsPerRequest: cpuPerRequest(floorSlices) });
  return { ...figure, cpuMsPerRequest: cpuPerRequest(relaySlices) };
}

/** A floor alone, for the table. */
export async function floorOnly(floor: FloorRun, { slices, seconds }: PairedOptions): Promise<FloorFigure> {
  const results: LoadResult[] = [];
  for (let i = 0; i < slices; i++) results.push(await load(floor.options(seconds)));
  return floorFigure(floor.what, merge(results));
}
