// Installs dependencies on a fresh clone (npm ci when package-lock.json is there), so `npm start`
// and `npm test` work as the first command. Plain JavaScript: it runs before anything is installed.
import { execSync } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");

export function ensureInstalled() {
  if (existsSync(join(root, "node_modules/.bin/wrangler")) && existsSync(join(root, "node_modules/.bin/tsx"))) return;
  const command = existsSync(join(root, "package-lock.json")) ? "npm ci" : "npm install";
  console.log(`clawtalk: installing dependencies (${command})...`);
  execSync(command, { cwd: root, stdio: "inherit" });
}
