// CPU time of a relay's (or the floor's) workerd processes, from /proc: the cost of a request in
// CPU milliseconds, which holds still on a noisy machine where throughput does not.

import { readFileSync } from "node:fs";
import { descendantsNamed } from "./memory.js";

const TICKS_PER_S = 100; // Linux USER_HZ

/** utime + stime of the workerd processes under `wranglerPid`, in ms. */
export function workerdCpuMs(wranglerPid: number): number {
  let ticks = 0;
  for (const pid of descendantsNamed(wranglerPid, "workerd")) {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    ticks += Number(fields[11]) + Number(fields[12]);
  }
  return (ticks * 1000) / TICKS_PER_S;
}
