// Measuring: autocannon for throughput runs (with every response's latency kept, so percentiles
// are exact), and small helpers for the timed scenarios.

import autocannon from "autocannon";

export interface Stats {
  count: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

export interface LoadResult extends Stats {
  /** 2xx answers per second. */
  rps: number;
  ok: number;
  failed: number;
  seconds: number;
  /** Every response's latency (ms), to merge slices of one measurement. */
  samples: number[];
}

/** Slices of one measurement as one result: counts and time added, percentiles over all samples. */
export function merge(results: LoadResult[]): LoadResult {
  const samples = results.flatMap((r) => r.samples);
  const ok = results.reduce((n, r) => n + r.ok, 0);
  const seconds = results.reduce((n, r) => n + r.seconds, 0);
  return { ...stats(samples), rps: ok / seconds, ok, failed: results.reduce((n, r) => n + r.failed, 0), seconds, samples };
}

/** Nearest-rank percentiles of a list of milliseconds. */
export function stats(samples: number[]): Stats {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number) => (sorted.length === 0 ? 0 : sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!);
  return { count: sorted.length, p50: at(0.5), p95: at(0.95), p99: at(0.99), max: sorted.at(-1) ?? 0 };
}

export interface LoadOptions {
  url: string;
  method?: "GET" | "POST";
  /** Builds each request; called once per request, so keys and bodies can rotate. */
  request?: (i: number) => { path: string; headers?: Record<string, string>; body?: string };
  connections?: number;
  durationS?: number;
  /** A fixed number of requests instead of a duration. */
  amount?: number;
}

export async function load(options: LoadOptions): Promise<LoadResult> {
  const latencies: number[] = [];
  let ok = 0;
  let failed = 0;
  let n = 0;
  const started = performance.now();
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    const instance = autocannon(
      {
        url: options.url,
        method: options.method ?? "GET",
        connections: Math.min(options.connections ?? 20, options.amount ?? Number.POSITIVE_INFINITY),
        ...(options.amount ? { amount: options.amount } : { duration: options.durationS ?? 5 }),
        requests: [
          {
            setupRequest(request) {
              if (!options.request) return request;
              const built = options.request(n++);
              return { ...request, path: built.path, headers: { ...request.headers, ...built.headers }, ...(built.body === undefined ? {} : { body: built.body }) };
            },
          },
        ],
      },
      (error, done) => (error ? reject(error) : resolve(done)),
    );
    instance.on("response", (_client, status, _bytes, ms) => {
      latencies.push(ms);
      if (status >= 200 && status < 300) ok++;
      else failed++;
    });
  });
  const seconds = (performance.now() - started) / 1000;
  failed += result.errors + result.timeouts;
  return { ...stats(latencies), rps: ok / seconds, ok, failed, seconds, samples: latencies };
}

export async function timed<T>(run: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const started = performance.now();
  const value = await run();
  return { value, ms: performance.now() - started };
}

/** Runs `task` over items with at most `limit` in flight. */
export async function pool<T, R>(items: T[], limit: number, task: (item: T, i: number) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        results[i] = await task(items[i]!, i);
      }
    }),
  );
  return results;
}
