// `npm start`: install what is missing, then run the relay (scripts/start.ts).
import { spawn } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { ensureInstalled } from "./ensure-installed.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
ensureInstalled();
const child = spawn(process.execPath, ["--import", "tsx", join(root, "scripts/start.ts"), ...process.argv.slice(2)], {
  cwd: root,
  stdio: "inherit",
});
const stop = () => child.kill("SIGTERM");
// Ctrl-C reaches the child directly (same terminal process group); SIGTERM is passed on.
process.on("SIGINT", () => {});
process.on("SIGTERM", stop);
process.on("SIGHUP", stop);
// npm does not pass SIGTERM on to its script: when npm goes, stop too.
const parent = process.ppid;
setInterval(() => process.ppid !== parent && stop(), 500).unref();
child.on("exit", (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
