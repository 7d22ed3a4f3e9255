// `node --import tsx bench/profile-compare.ts A.cpuprofile:RPS B.cpuprofile:RPS`: two CPU profiles
// from bench/profile.ts side by side, as microseconds of self time per request (each profile's
// sampled time ÷ the requests it served, RPS × its duration), the functions that differ most
// first. How two load shapes (send and send-one) were told apart function by function.

import { readFileSync } from "node:fs";

interface Profile {
  nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number } }[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

function perRequest(arg: string): Map<string, number> {
  const at = arg.lastIndexOf(":");
  const rps = Number(arg.slice(at + 1));
  if (at < 0 || !(rps > 0)) throw new Error(`expected FILE:RPS, got ${arg}`);
  const profile = JSON.parse(readFileSync(arg.slice(0, at), "utf8")) as Profile;
  const label = new Map(profile.nodes.map((node) => {
    const { functionName, url, lineNumber } = node.callFrame;
    return [node.id, `${functionName || "(anonymous)"}${url ? ` ${url.split("/").pop()}:${lineNumber + 1}` : ""}`];
  }));
  const requests = rps * ((profile.endTime - profile.startTime) / 1e6);
  const self = new Map<string, number>();
  profile.samples.forEach((id, i) => {
    const key = label.get(id)!;
    self.set(key, (self.get(key) ?? 0) + (profile.timeDeltas[i] ?? 0) / requests);
  });
  return self;
}

const [a, b] = [perRequest(process.argv[2] ?? ""), perRequest(process.argv[3] ?? "")];
const busy = (m: Map<string, number>) => [...m].filter(([k]) => k !== "(idle)").reduce((sum, [, v]) => sum + v, 0);
console.log(`µs per request, not idle: A ${busy(a).toFixed(0)}, B ${busy(b).toFixed(0)}`);
console.log(`${"A".padStart(8)} ${"B".padStart(8)} ${"A − B".padStart(8)}  function`);
const rows = [...new Set([...a.keys(), ...b.keys()])].map((k) => ({ k, x: a.get(k) ?? 0, y: b.get(k) ?? 0 }));
rows.sort((p, q) => Math.abs(q.x - q.y) - Math.abs(p.x - p.y));
for (const { k, x, y } of rows.slice(0, Number(process.argv[4] ?? 40))) {
  console.log(`${x.toFixed(1).padStart(8)} ${y.toFixed(1).padStart(8)} ${(x - y).toFixed(1).padStart(8)}  ${k}`);
}
