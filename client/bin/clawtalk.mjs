#!/usr/bin/env node
// The `clawtalk` CLI. In the ClawTalk repository it runs the TypeScript source through tsx (so it
// is never stale); as a published package it runs the compiled dist/.
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

const source = new URL("../cli.ts", import.meta.url);
if (existsSync(fileURLToPath(source))) {
  const { tsImport } = await import("tsx/esm/api");
  await tsImport(source.href, import.meta.url);
} else {
  await import(new URL("../dist/client/cli.js", import.meta.url).href);
}
