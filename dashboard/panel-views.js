// The panels other than the feed, drawn into the page from one answer each (agents, stats,
// webhook attempts, channels). app.js fetches; this file only renders, every relay string as text
// (panels.js builds the rows). The charts are drawn again when their panels change width.

import { latencyChart, throughputChart } from "./charts.js";
import { byId, setText } from "./dom.js";
import { clockMinute, count, milliseconds } from "./format.js";
import { agentRows, backlogRows, channelRows, emptyLine, emptyRow, webhookRows } from "./panels.js";

/** The per-minute figures last drawn, for redrawing at a new width. */
let chartMinutes = null;

export function renderAgentsPanel(agents, webhookHealth) {
  const rows = agentRows(agents, webhookHealth);
  byId("agents-body").replaceChildren(...(rows.length ? rows : [emptyRow(4, "no agents registered")]));
  const online = agents.filter((a) => a.online).length;
  setText("agents-count", `${count(agents.length)} · ${count(online)} online`);
}

/** The charts, their totals and the backlog, from /admin/stats; `lateMs`: a backlog older than this is highlighted. */
export function renderStatsPanels(stats, lateMs) {
  const minutes = Array.isArray(stats.perMinute) ? stats.perMinute : [];
  chartMinutes = minutes;
  drawCharts();
  renderBacklog(stats, lateMs);
  const stored = minutes.reduce((sum, m) => sum + (m.stored || 0), 0);
  const sampled = minutes.reduce((sum, m) => sum + (m.sampledOut || 0), 0);
  const delivered = minutes.reduce((sum, m) => sum + (m.delivered || 0), 0);
  setText("throughput-total", `· ${count(stored)} in the hour${sampled ? ` (${count(sampled)} sampled out of the feed)` : ""}`);
  // The newest measured minute in words, so one or two data points still give a reading.
  const latest = minutes.findLast((m) => typeof m.latencyP50Ms === "number" || typeof m.latencyP95Ms === "number");
  const reading = latest
    ? ` · latest ${clockMinute(latest.minute)}: p50 ${milliseconds(latest.latencyP50Ms)}, p95 ${milliseconds(latest.latencyP95Ms)}`
    : "";
  setText("latency-total", `· ${count(delivered)} ${delivered === 1 ? "delivery" : "deliveries"} measured${reading}`);
}

/** The agents with undelivered messages, oldest first, aged at the relay's time of the answer. */
function renderBacklog(stats, lateMs) {
  const backlog = Array.isArray(stats.backlog) ? stats.backlog : [];
  const now = Date.parse(stats.generatedAt) || Date.now();
  const rows = backlogRows(backlog, now, lateMs);
  byId("backlog").replaceChildren(...(rows.length ? rows : [emptyLine("every agent has been handed all its messages")]));
  setText("backlog-count", count(rows.length));
}

export function renderWebhooks(attempts) {
  const rows = webhookRows(attempts);
  byId("webhooks").replaceChildren(...(rows.length ? rows : [emptyLine("no webhook attempts yet")]));
}

export function renderChannels(channels) {
  const rows = channelRows(channels);
  byId("channels-body").replaceChildren(...(rows.length ? rows : [emptyRow(3, "no topics yet")]));
  setText("channels-count", count(channels.length));
}

/** Draws both charts for their panels' current widths. */
function drawCharts() {
  if (!chartMinutes) return;
  const throughput = byId("chart-throughput");
  const latency = byId("chart-latency");
  throughput.replaceChildren(throughputChart(chartMinutes, throughput.clientWidth));
  latency.replaceChildren(latencyChart(chartMinutes, latency.clientWidth));
}

/** Forgets what was drawn (sign-out), so a resize draws nothing of the last session. */
export function forgetCharts() {
  chartMinutes = null;
}

/** Redraws the charts whenever a chart panel's width changes (call once at start). */
export function watchChartWidths() {
  const widths = new Map();
  const observer = new ResizeObserver((entries) => {
    let changed = false;
    for (const entry of entries) {
      const width = Math.round(entry.contentRect.width);
      if (widths.get(entry.target) !== width) changed = true;
      widths.set(entry.target, width);
    }
    if (changed) drawCharts();
  });
  observer.observe(byId("chart-throughput"));
  observer.observe(byId("chart-latency"));
}
