// Runs `wrangler dev` (argv: the command and its arguments) in this process's group, and stops it
// when the process that started us goes away, for whatever reason. Started by
// scripts/local-relay.ts, detached, as the leader of the relay's process group:
//
// - Its stdin is a pipe whose other end only the starting process holds. When that process ends
//   (exit, crash, SIGKILL of its whole group), the kernel closes the pipe and stdin ends here; we
//   then stop the group: SIGINT, and SIGKILL after a grace period. Without this, wrangler and
//   workerd would go on serving the port with no one left to stop them.
// - A clean stop is SIGINT (or SIGTERM) to the whole group: wrangler and workerd get it directly.
//   This process ignores both, waits for wrangler to exit, ends what is left of the group
//   (workerd) and exits with wrangler's status.
// - A crash (SIGKILL to the group) ends everything at once, this process included.

import { spawn } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";

const GRACE_MS = 10_000;
const [command, ...args] = process.argv.slice(2);
if (!command) {
  console.error("relay-supervisor: no command given");
  process.exit(2);
}

const wrangler = spawn(command, args, { stdio: ["ignore", "inherit", "inherit"] });

for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"]) process.on(signal, () => {});

/** SIGKILL, by process id, to the other processes of this group (Linux; elsewhere nothing). */
function killRestOfGroup() {
  let entries = [];
  try {
    entries = readdirSync("/proc");
  } catch {
    return;
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const pgid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[2]);
      if (pgid === process.pid) process.kill(Number(entry), "SIGKILL");
    } catch {
      // gone meanwhile
    }
  }
}

wrangler.on("exit", (code, signal) => {
  killRestOfGroup();
  process.exit(code ?? (signal ? 1 : 0));
});
wrangler.on("error", (error) => {
  console.error(`relay-supervisor: cannot start ${command}: ${error.message}`);
  process.exit(2);
});

let parentWentAway = false;
function parentGone() {
  if (parentWentAway) return;
  parentWentAway = true;
  try {
    process.kill(-process.pid, "SIGINT");
  } catch {
    // nothing left
  }
  // The group includes this process: SIGKILL ends us too, if wrangler has not exited by then.
  setTimeout(() => process.kill(-process.pid, "SIGKILL"), GRACE_MS).unref();
}
process.stdin.on("end", parentGone);
process.stdin.on("error", parentGone);
process.stdin.resume();
