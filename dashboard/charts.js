// The two charts over the last hour, as inline SVG: messages stored per minute (bars) and delivery
// latency p50/p95 per minute (lines). Colours and strokes come from style.css classes. Each chart
// is drawn for its panel's width in CSS pixels (and redrawn when that changes), so axis text keeps
// its size instead of being scaled with the drawing.

import { clockMinute, count, milliseconds } from "./format.js";
import { svg } from "./dom.js";

const HEIGHT = 140;
const MARGIN = { top: 8, right: 8, bottom: 20, left: 44 };
const PLOT_H = HEIGHT - MARGIN.top - MARGIN.bottom;
/** Below this the chart would be unreadable anyway; the panel scrolls instead. */
const MIN_WIDTH = 240;

/** 1, 2, 5, 10, 20, 50, ... : the smallest of these at or above n (for a round axis maximum). */
function niceCeiling(n) {
  if (n <= 1) return 1;
  const magnitude = 10 ** Math.floor(Math.log10(n));
  for (const step of [1, 2, 5, 10]) if (step * magnitude >= n) return step * magnitude;
  return 10 * magnitude;
}

/** The drawing area for a chart `width` CSS pixels wide. */
function area(width) {
  const w = Math.max(MIN_WIDTH, Math.round(width || 600));
  return { width: w, plotW: w - MARGIN.left - MARGIN.right, right: w - MARGIN.right };
}

function frame(label, box) {
  return svg("svg", {
    class: "chart-svg",
    width: box.width,
    height: HEIGHT,
    viewBox: `0 0 ${box.width} ${HEIGHT}`,
    role: "img",
    "aria-label": label,
  });
}

function gridLine(box, y, text) {
  return [
    svg("line", { class: "grid", x1: MARGIN.left, x2: box.right, y1: y, y2: y }),
    svg("text", { class: "axis-label", x: MARGIN.left - 6, y: y + 4, "text-anchor": "end" }, text),
  ];
}

/**
 * The time axis under the plot, spanning the whole window however little data there is: a tick and
 * a clock label at its start, its end ("now") and the quarters between (fewer on narrow charts).
 */
function timeAxis(box, minutes) {
  if (minutes.length === 0) return [];
  const slot = box.plotW / minutes.length;
  const last = minutes.length - 1;
  const parts = box.plotW >= 400 ? 4 : 2;
  const picks = [...new Set(Array.from({ length: parts + 1 }, (_, k) => Math.round((last * k) / parts)))];
  return picks.flatMap((i, n) => {
    const x = MARGIN.left + slot * (i + 0.5);
    const y = HEIGHT - MARGIN.bottom;
    return [
      svg("line", { class: "axis tick", x1: x.toFixed(2), x2: x.toFixed(2), y1: y, y2: y + 3 }),
      svg(
        "text",
        { class: "axis-label time", x: x.toFixed(2), y: HEIGHT - 6, "text-anchor": n === 0 ? "start" : n === picks.length - 1 ? "end" : "middle" },
        clockMinute(minutes[i].minute),
      ),
    ];
  });
}

function emptyNote(box, text) {
  return svg("text", { class: "chart-empty", x: MARGIN.left + box.plotW / 2, y: MARGIN.top + PLOT_H * 0.3, "text-anchor": "middle" }, text);
}

/**
 * Bars of messages stored per minute.
 * @param {{minute: string, stored: number, sampledOut: number}[]} minutes oldest first
 * @param {number} width CSS pixels
 */
export function throughputChart(minutes, width) {
  const box = area(width);
  const root = frame("messages stored per minute, last hour", box);
  const max = niceCeiling(Math.max(0, ...minutes.map((m) => m.stored)));
  const y = (value) => MARGIN.top + PLOT_H - (value / max) * PLOT_H;
  const half = max / 2;
  root.append(...gridLine(box, y(0), "0"), ...(Number.isInteger(half) ? gridLine(box, y(half), count(half)) : []), ...gridLine(box, y(max), count(max)));
  const slot = minutes.length ? box.plotW / minutes.length : box.plotW;
  minutes.forEach((m, i) => {
    if (m.stored <= 0) return;
    const top = y(m.stored);
    // A minute with a message or two still gets a visible sliver.
    const height = Math.max(1.5, MARGIN.top + PLOT_H - top);
    root.append(
      svg(
        "rect",
        {
          class: "bar",
          x: (MARGIN.left + i * slot + slot * 0.15).toFixed(2),
          y: (MARGIN.top + PLOT_H - height).toFixed(2),
          width: Math.max(1, slot * 0.7).toFixed(2),
          height: height.toFixed(2),
          "data-minute": m.minute,
          "data-value": m.stored,
        },
        svg("title", {}, `${clockMinute(m.minute)}  ${count(m.stored)} stored${m.sampledOut ? `, ${count(m.sampledOut)} sampled out of the feed` : ""}`),
      ),
    );
  });
  root.append(svg("line", { class: "axis", x1: MARGIN.left, x2: box.right, y1: y(0), y2: y(0) }), ...timeAxis(box, minutes));
  if (!minutes.some((m) => m.stored > 0)) root.append(emptyNote(box, "no messages in the last hour"));
  return root;
}

/**
 * p50 and p95 delivery latency per minute, on a log scale (the relay reports histogram bounds
 * 1, 2, 5, 10, ... ms, so a p95 of seconds and a p50 of milliseconds both stay readable).
 * Each minute with deliveries gets a bar from its p50 to its p95 with a dot at each end, so a
 * lone minute reads as a measurement at its place in the hour (not a speck at the edge); lines
 * join only neighbouring minutes, and minutes without deliveries stay empty.
 * @param {{minute: string, delivered: number, latencyP50Ms: number|null, latencyP95Ms: number|null}[]} minutes oldest first
 * @param {number} width CSS pixels
 */
export function latencyChart(minutes, width) {
  const box = area(width);
  const root = frame("delivery latency p50 and p95 per minute, last hour", box);
  const values = minutes.flatMap((m) => [m.latencyP50Ms, m.latencyP95Ms]).filter((v) => typeof v === "number" && v > 0);
  const topDecade = Math.max(2, Math.ceil(Math.log10(Math.max(10, ...values))));
  const y = (ms) => MARGIN.top + PLOT_H - (Math.log10(Math.max(1, ms)) / topDecade) * PLOT_H;
  for (let decade = 0; decade <= topDecade; decade++) root.append(...gridLine(box, y(10 ** decade), milliseconds(10 ** decade).replace(" ", "")));
  const slot = minutes.length ? box.plotW / minutes.length : box.plotW;
  const x = (i) => MARGIN.left + slot * (i + 0.5);
  const barWidth = Math.min(12, Math.max(5, slot * 0.6));
  minutes.forEach((m, i) => {
    const measured = [m.latencyP50Ms, m.latencyP95Ms].filter((v) => typeof v === "number");
    if (measured.length === 0) return;
    // p50 = p95 (one histogram bucket) still draws a block one can see, centred on the value.
    const span = y(Math.min(...measured)) - y(Math.max(...measured));
    const height = Math.max(6, span);
    const top = y(Math.max(...measured)) - (height - span) / 2;
    const label = `${clockMinute(m.minute)}  p50 ${milliseconds(m.latencyP50Ms)}, p95 ${milliseconds(m.latencyP95Ms)} (${count(m.delivered)} delivered)`;
    root.append(
      svg(
        "rect",
        { class: "range", x: (x(i) - barWidth / 2).toFixed(2), y: top.toFixed(2), width: barWidth.toFixed(2), height: height.toFixed(2), "data-minute": m.minute },
        svg("title", {}, label),
      ),
    );
  });
  for (const [field, cls] of [["latencyP95Ms", "p95"], ["latencyP50Ms", "p50"]]) {
    let d = "";
    let penUp = true;
    const points = [];
    minutes.forEach((m, i) => {
      const v = m[field];
      if (typeof v !== "number") {
        penUp = true;
        return;
      }
      d += `${penUp ? "M" : "L"}${x(i).toFixed(2)} ${y(v).toFixed(2)} `;
      penUp = false;
      points.push(
        svg(
          "circle",
          { class: `point ${cls}`, cx: x(i).toFixed(2), cy: y(v).toFixed(2), r: 2.5 },
          svg("title", {}, `${clockMinute(m.minute)}  ${cls} ${milliseconds(v)} (${count(m.delivered)} delivered)`),
        ),
      );
    });
    if (d) root.append(svg("path", { class: `line ${cls}`, d: d.trim() }), ...points);
  }
  root.append(svg("line", { class: "axis", x1: MARGIN.left, x2: box.right, y1: y(1), y2: y(1) }), ...timeAxis(box, minutes));
  if (values.length === 0) root.append(emptyNote(box, "no deliveries measured in the last hour"));
  return root;
}
