// The benchmark's table, its targets (each judged against the floor measured in the same run),
// and an SVG of the latency percentiles.

import type { Figure } from "./figure.js";

export interface Target {
  target: string;
  value: string;
  met: boolean;
}

const ms = (n: number | undefined) => (n === undefined || Number.isNaN(n) ? "–" : n < 10 ? n.toFixed(2) : n.toFixed(1));
const rate = (n: number | undefined) => (n === undefined ? "–" : Math.round(n).toLocaleString("en"));
const pct = (ratio: number) => `${(ratio * 100).toFixed(0)} %`;

export function targets(figures: Figure[]): Target[] {
  const out: Target[] = [];
  const floorTarget = (f: Figure, label: string) => {
    if (f.rpsRatio === undefined) return;
    out.push({ target: `${label} ≥ 80 % of its floor's req/s`, value: `${pct(f.rpsRatio)} (${rate(f.rps)} vs ${rate(f.floor!.rps)})`, met: f.rpsRatio >= 0.8 });
  };
  for (const f of figures.filter((f) => f.scenario === "send")) {
    floorTarget(f, `send, ${f.what}`);
    if (f.p99Ratio !== undefined) {
      out.push({ target: `send, ${f.what}: p99 ≤ 1.5× the floor's`, value: `${f.p99Ratio.toFixed(2)}× (${ms(f.latency!.p99)} vs ${ms(f.floor!.latency.p99)} ms)`, met: f.p99Ratio <= 1.5 });
    }
  }
  for (const f of figures.filter((f) => f.scenario === "multicast" || f.scenario === "poll")) floorTarget(f, `${f.scenario}, ${f.what}`);
  const find = (scenario: string, what: string) => figures.find((f) => f.scenario.startsWith(scenario) && f.what.startsWith(what));
  const cold = figures.find((f) => f.scenario === "broadcast" && f.what.includes("cold"));
  if (cold?.value !== undefined) out.push({ target: "broadcast to 1,000 agents, 201 → last inbox, cold inboxes < 1 s", value: `${ms(cold.value)} ms${cold.floorValue === undefined ? "" : ` (its floor: ${ms(cold.floorValue)} ms)`}`, met: cold.value < 1000 });
  const hook = find("webhook", "send 201");
  if (hook?.latency) out.push({ target: "webhook 201 → receiver p99 < 5 ms", value: `${ms(hook.latency.p99)} ms`, met: hook.latency.p99 < 5 });
  const memory = find("memory", "workerd RSS");
  const growth = memory?.note?.match(/\(([\d.]+)×\)/)?.[1];
  if (growth) out.push({ target: "memory: RSS after 25 rounds ≤ 1.5× after 5", value: `${growth}×`, met: Number(growth) <= 1.5 });
  const lag = find("send-to-visible", "send then poll");
  if (lag) out.push({ target: "send-to-visible misses = 0", value: String(lag.value), met: lag.value === 0 });
  const wake = find("long-poll", "send 201");
  if (wake?.latency) out.push({ target: "long-poll wake p99 < 10 ms (send's 201 → poll answered)", value: `${ms(wake.latency.p99)} ms`, met: wake.latency.p99 < 10 });
  const scale = figures.filter((f) => f.scenario.startsWith("inbox of"));
  const smallest = scale[0]?.scenario;
  const largest = scale.at(-1)?.scenario;
  if (smallest && largest && smallest !== largest) {
    for (const small of scale.filter((f) => f.scenario === smallest)) {
      const big = scale.find((f) => f.scenario === largest && f.what === small.what);
      if (!big?.latency || !small.latency) continue;
      const ratio = big.latency.p99 / Math.max(small.latency.p99, 0.001);
      out.push({ target: `${small.what} p99, ${largest.replace("inbox of ", "")} vs ${smallest.replace("inbox of ", "")} messages ≤ 2×`, value: `${ratio.toFixed(2)}×`, met: ratio <= 2 });
    }
  }
  return out;
}

export function printTable(figures: Figure[], goals: Target[]): void {
  const rows: string[][] = [["scenario", "what", "req/s", "p50 ms", "p99 ms", "CPU ms/req", "floor", "floor req/s", "floor p99", "floor CPU", "× floor req/s", "× floor p99", "other"]];
  for (const f of figures) {
    rows.push([
      f.scenario,
      f.what,
      rate(f.rps),
      ms(f.latency?.p50),
      ms(f.latency?.p99),
      f.cpuMsPerRequest === undefined ? "" : f.cpuMsPerRequest.toFixed(2),
      f.floor?.what ?? "",
      f.floor ? rate(f.floor.rps) : "",
      f.floor ? ms(f.floor.latency.p99) : "",
      f.floor?.cpuMsPerRequest === undefined ? "" : f.floor.cpuMsPerRequest.toFixed(2),
      f.rpsRatio === undefined ? "" : f.rpsRatio.toFixed(2),
      f.p99Ratio === undefined ? "" : f.p99Ratio.toFixed(2),
      [f.value === undefined ? "" : `${f.unit === "ms" ? ms(f.value) : rate(f.value)} ${f.unit ?? ""}`, f.note ?? ""].filter(Boolean).join("; "),
    ]);
  }
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((row) => row[i]!.length)));
  for (const row of rows) console.log(row.map((cell, i) => cell.padEnd(widths[i]!)).join("  "));
  console.log("");
  for (const goal of goals) console.log(`${goal.met ? "met    " : "NOT MET"}  ${goal.target}: ${goal.value}`);
}

/** Grouped bars of p50/p95/p99 per measured latency, each throughput run's floor beside it; log scale. */
export function latencyChart(figures: Figure[]): string {
  const series = figures.flatMap((f) => {
    if (!f.latency) return [];
    const own = { label: `${f.scenario}: ${f.what}`, latency: f.latency };
    return f.floor ? [own, { label: `  floor: ${f.floor.what}`, latency: f.floor.latency }] : [own];
  });
  const rowHeight = 26;
  const left = 400;
  const width = 1100;
  const top = 40;
  const height = top + series.length * rowHeight + 40;
  const max = Math.max(...series.map((s) => s.latency.p99), 1);
  const x = (value: number) => left + (Math.log10(Math.max(value, 0.1) * 10) / Math.log10(max * 10)) * (width - left - 170);
  const colors = { p50: "#3fb950", p95: "#d29922", p99: "#f85149" };
  const escape = (text: string) => text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="monospace" font-size="11">`,
    `<rect width="100%" height="100%" fill="#0d1117"/>`,
    `<text x="10" y="20" fill="#c9d1d9" font-size="13">ClawTalk latency percentiles (ms, log scale): p50 green, p95 amber, p99 red; each floor below its scenario</text>`,
  ];
  series.forEach((s, i) => {
    const y = top + i * rowHeight;
    parts.push(`<text x="${left - 8}" y="${y + 14}" fill="#c9d1d9" text-anchor="end">${escape(s.label.slice(0, 62))}</text>`);
    (["p99", "p95", "p50"] as const).forEach((key, k) => {
      const value = s.latency[key];
      parts.push(`<rect x="${left}" y="${y + 3 + k * 6}" width="${Math.max(1, x(value) - left)}" height="6" fill="${colors[key]}"/>`);
    });
    parts.push(`<text x="${x(s.latency.p99) + 4}" y="${y + 14}" fill="#8b949e">${ms(s.latency.p50)} / ${ms(s.latency.p95)} / ${ms(s.latency.p99)}</text>`);
  });
  parts.push("</svg>");
  return parts.join("\n") + "\n";
}
