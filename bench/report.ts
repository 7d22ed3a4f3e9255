// The benchmark's table, targets and latency chart.

import type { Figure } from "./scenarios.js";

interface BaselineSummary {
  rps: number;
  p50: number;
  p95: number;
  p99: number;
}

export interface Target {
  target: string;
  value: string;
  met: boolean;
}

const ms = (n: number | undefined) => (n === undefined || Number.isNaN(n) ? "–" : n < 10 ? n.toFixed(2) : n.toFixed(1));
const rate = (n: number | undefined) => (n === undefined ? "–" : Math.round(n).toLocaleString("en"));

export function targets(figures: Figure[], baselinePost: BaselineSummary): Target[] {
  const find = (scenario: string, what: string) => figures.find((f) => f.scenario.startsWith(scenario) && f.what.startsWith(what));
  const out: Target[] = [];
  for (const what of ["20 senders → 1 inbox", "20 senders → 20 inboxes"]) {
    const send = find("send", what);
    if (send?.rps !== undefined) {
      const ratio = send.rps / baselinePost.rps;
      out.push({ target: `send throughput (${what}) ≥ 50 % of the empty Worker`, value: `${(ratio * 100).toFixed(0)} %`, met: ratio >= 0.5 });
    }
  }
  const lag = find("send-to-visible", "send then poll");
  if (lag) out.push({ target: "send-to-visible misses = 0", value: String(lag.value), met: lag.value === 0 });
  const wake = find("long-poll", "send 201");
  if (wake?.latency) out.push({ target: "long-poll wake p99 < 10 ms (send's 201 → poll answered)", value: `${ms(wake.latency.p99)} ms`, met: wake.latency.p99 < 10 });
  const hook = find("webhook", "send 201");
  if (hook?.latency) out.push({ target: "webhook 201 → receiver p99 < 50 ms", value: `${ms(hook.latency.p99)} ms`, met: hook.latency.p99 < 50 });
  for (const broadcast of figures.filter((f) => f.scenario === "broadcast" && f.value !== undefined)) {
    out.push({ target: `broadcast ${broadcast.what.replace(", 201 → last inbox", "")} < 2 s`, value: `${ms(broadcast.value)} ms`, met: broadcast.value! < 2000 });
  }
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

export function printTable(baseline: { get: BaselineSummary; post: BaselineSummary }, figures: Figure[], goals: Target[]): void {
  const rows: string[][] = [["scenario", "what", "req/s", "× baseline", "p50 ms", "p95 ms", "p99 ms", "other"]];
  rows.push(["baseline", "empty Worker GET", rate(baseline.get.rps), "1.00", ms(baseline.get.p50), ms(baseline.get.p95), ms(baseline.get.p99), ""]);
  rows.push(["baseline", "empty Worker POST", rate(baseline.post.rps), "1.00", ms(baseline.post.p50), ms(baseline.post.p95), ms(baseline.post.p99), ""]);
  for (const f of figures) {
    const reference = f.what.startsWith("GET") ? baseline.get.rps : baseline.post.rps;
    rows.push([
      f.scenario,
      f.what,
      rate(f.rps),
      f.rps === undefined ? "" : (f.rps / reference).toFixed(2),
      ms(f.latency?.p50),
      ms(f.latency?.p95),
      ms(f.latency?.p99),
      [f.value === undefined ? "" : `${f.unit === "ms" ? ms(f.value) : rate(f.value)} ${f.unit ?? ""}`, f.note ?? ""].filter(Boolean).join("; "),
    ]);
  }
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((row) => row[i]!.length)));
  for (const row of rows) console.log(row.map((cell, i) => cell.padEnd(widths[i]!)).join("  "));
  console.log("");
  for (const goal of goals) console.log(`${goal.met ? "met    " : "NOT MET"}  ${goal.target}: ${goal.value}`);
}

/** Grouped bars of p50/p95/p99 per measured latency, the baseline first; log scale. */
export function latencyChart(baseline: { get: BaselineSummary; post: BaselineSummary }, figures: Figure[]): string {
  const series = [
    { label: "baseline: empty Worker GET", latency: baseline.get },
    { label: "baseline: empty Worker POST", latency: baseline.post },
    ...figures.filter((f) => f.latency).map((f) => ({ label: `${f.scenario}: ${f.what}`, latency: f.latency! })),
  ];
  const rowHeight = 26;
  const left = 330;
  const width = 1000;
  const top = 40;
  const height = top + series.length * rowHeight + 40;
  const max = Math.max(...series.map((s) => s.latency.p99), 1);
  const x = (value: number) => left + (Math.log10(Math.max(value, 0.1) * 10) / Math.log10(max * 10)) * (width - left - 170);
  const colors = { p50: "#3fb950", p95: "#d29922", p99: "#f85149" };
  const escape = (text: string) => text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="monospace" font-size="11">`,
    `<rect width="100%" height="100%" fill="#0d1117"/>`,
    `<text x="10" y="20" fill="#c9d1d9" font-size="13">ClawTalk latency percentiles (ms, log scale): p50 green, p95 amber, p99 red</text>`,
  ];
  series.forEach((s, i) => {
    const y = top + i * rowHeight;
    parts.push(`<text x="${left - 8}" y="${y + 14}" fill="#c9d1d9" text-anchor="end">${escape(s.label.slice(0, 52))}</text>`);
    (["p99", "p95", "p50"] as const).forEach((key, k) => {
      const value = s.latency[key];
      parts.push(`<rect x="${left}" y="${y + 3 + k * 6}" width="${Math.max(1, x(value) - left)}" height="6" fill="${colors[key]}"/>`);
    });
    parts.push(`<text x="${x(s.latency.p99) + 4}" y="${y + 14}" fill="#8b949e">${ms(s.latency.p50)} / ${ms(s.latency.p95)} / ${ms(s.latency.p99)}</text>`);
  });
  parts.push("</svg>");
  return parts.join("\n") + "\n";
}
