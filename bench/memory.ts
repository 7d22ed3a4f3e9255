// Memory under large sends (issue: outside testing saw the relay's workerd grow from 390 to
// 1,240 MiB with no plateau): rounds of 200 concurrent 64 KiB sends, every message acked after
// its round, and the RSS of the relay's workerd processes read from /proc after each round; at
// the end, the V8 heap and the RSS again after a forced full collection (bench/inspector.ts), to
// tell memory that is leaked from memory that is only collected late.
//
// At this load wrangler's local dev proxy (not the relay) now and then drops a request with 503
// "Your worker restarted mid-request" — the previous release shows the same. Such a send is
// repeated with the same id, which stores it once (idempotent), and the repeats are counted.

import { readdirSync, readFileSync } from "node:fs";
import type { BenchAgent, Relay } from "./agents.js";
import type { Figure } from "./figure.js";
import type { Inspector } from "./inspector.js";
import { pool } from "./measure.js";

/** The pids of `root` and all its descendants whose command is `name`. */
export function descendantsNamed(root: number, name: string): number[] {
  const parents = new Map<number, number>();
  const names = new Map<number, string>();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const close = stat.lastIndexOf(")");
      names.set(Number(entry), stat.slice(stat.indexOf("(") + 1, close));
      parents.set(Number(entry), Number(stat.slice(close + 2).split(" ")[1]));
    } catch {
      // the process ended while we looked
    }
  }
  const inTree = (pid: number): boolean => {
    for (let p: number | undefined = pid; p !== undefined && p > 1; p = parents.get(p)) if (p === root) return true;
    return false;
  };
  return [...names].filter(([pid, comm]) => comm === name && inTree(pid)).map(([pid]) => pid);
}

/** Resident memory of the relay's workerd processes, in MiB. */
export function workerdRssMiB(wranglerPid: number): number {
  let kib = 0;
  for (const pid of descendantsNamed(wranglerPid, "workerd")) {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    kib += Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
  }
  return kib / 1024;
}

const PAYLOAD = "x".repeat(64 * 1024 - 200);

export async function largeSends(
  relay: Relay,
  wranglerPid: number,
  inspector: Inspector,
  rounds: number,
  perRound = 200,
): Promise<{ figures: Figure[]; rss: number[] }> {
  const senders = await relay.registerMany("mem_s", 20);
  const recipients = await relay.registerMany("mem_r", 20);
  const rss: number[] = [workerdRssMiB(wranglerPid)];
  let repeated = 0;
  for (let round = 0; round < rounds; round++) {
    await pool(Array.from({ length: perRound }, (_, i) => i), perRound, async (i) => {
      const id = `mem-${round}-${i}`;
      for (let attempt = 1; ; attempt++) {
        const status = await relay.trySend(senders[i % 20]!, recipients[i % 20]!.name, PAYLOAD, { id });
        if (status === 201 || status === 200) return;
        if (status !== 503 || attempt === 5) throw new Error(`memory scenario: send answered ${status}`);
        repeated++;
      }
    });
    await pool(recipients, 20, (agent) => ackAll(relay, agent));
    rss.push(workerdRssMiB(wranglerPid));
  }
  const heapBefore = await inspector.heapMiB(false);
  const heapAfter = await inspector.heapMiB(true);
  await new Promise((r) => setTimeout(r, 2000));
  const afterGc = workerdRssMiB(wranglerPid);
  const early = Math.min(5, rounds);
  const growth = rss[rounds]! / rss[early]!;
  return {
    rss,
    figures: [
      {
        scenario: "memory",
        what: `workerd RSS after ${rounds} rounds of ${perRound} concurrent 64 KiB sends, all acked`,
        value: rss[rounds],
        unit: "MiB",
        note:
          `${rss[early]!.toFixed(0)} MiB after ${early} rounds (${growth.toFixed(2)}×); ${rss[0]!.toFixed(0)} MiB before; ` +
          `${afterGc.toFixed(0)} MiB after a forced full GC; V8 heap ${heapBefore.used.toFixed(0)} → ${heapAfter.used.toFixed(0)} MiB after GC` +
          (repeated > 0 ? `; ${repeated} sends repeated after a dev-proxy 503` : ""),
      },
    ],
  };
}

/** Acks every message in an agent's inbox, a page at a time. */
async function ackAll(relay: Relay, agent: BenchAgent): Promise<void> {
  for (;;) {
    const page = await relay.inbox(agent, "limit=100");
    if (page.messages.length === 0) return;
    const response = await fetch(`${relay.url}/messages/ack`, {
      method: "POST",
      headers: { Authorization: `Bearer ${agent.apiKey}` },
      body: JSON.stringify({ ids: page.messages.map((m) => m.id) }),
    });
    if (response.status !== 200) throw new Error(`ack: ${response.status} ${await response.text()}`);
  }
}
