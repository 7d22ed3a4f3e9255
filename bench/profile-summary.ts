// Reading a .cpuprofile (Chrome DevTools format): the functions with the most self time, and with
// the most total time (with callees), as the profiles behind the hot path's changes were read.

import { readFileSync } from "node:fs";

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}

export function summarize(file: string, rows: number): void {
  const profile = JSON.parse(readFileSync(file, "utf8")) as { nodes: ProfileNode[]; samples: number[] };
  const self = new Map<string, number>();
  const total = profile.samples.length;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  for (const node of profile.nodes) {
    const frame = node.callFrame;
    const where = frame.url ? `${frame.url.replace(/^.*\/(?=[^/]+\/[^/]+$)/, "")}:${frame.lineNumber + 1}` : "";
    const key = `${frame.functionName || "(anonymous)"} ${where}`.trim();
    self.set(key, (self.get(key) ?? 0) + (node.hitCount ?? 0));
  }
  const label = (node: ProfileNode) => {
    const frame = node.callFrame;
    const where = frame.url ? `${frame.url.replace(/^.*\/(?=[^/]+\/[^/]+$)/, "")}:${frame.lineNumber + 1}` : "";
    return `${frame.functionName || "(anonymous)"} ${where}`.trim();
  };
  // Inclusive time: each node's subtree, counted once per function on a path (recursion).
  const inclusive = new Map<string, number>();
  const walk = (node: ProfileNode, onPath: Set<string>): number => {
    let hits = node.hitCount ?? 0;
    const key = label(node);
    const fresh = !onPath.has(key);
    if (fresh) onPath.add(key);
    for (const child of node.children ?? []) hits += walk(byId.get(child)!, onPath);
    if (fresh) {
      onPath.delete(key);
      inclusive.set(key, (inclusive.get(key) ?? 0) + hits);
    }
    return hits;
  };
  walk(profile.nodes[0]!, new Set());
  const print = (title: string, map: Map<string, number>) => {
    console.log(title);
    for (const [key, hits] of [...map].sort((a, b) => b[1] - a[1]).slice(0, rows)) console.log(`${((hits / total) * 100).toFixed(1).padStart(5)} %  ${key}`);
  };
  print("self time:", self);
  print("total time (with callees):", inclusive);
}
