// `clawtalk mcp`: loads the MCP server (client/mcp, the @clawtalk/mcp workspace package) only for
// this command, so the SDK package and every other command stay free of MCP dependencies. In the
// repository the server runs from its TypeScript source (under tsx, as the CLI itself does); an
// installed CLI imports the @clawtalk/mcp package.

import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { UsageError, type Args } from "./cli-config.js";

interface McpModule {
  serveStdio(args: Args, options: { push: boolean }): Promise<number>;
}

function isMcpModule(value: unknown): value is McpModule {
  return typeof value === "object" && value !== null && "serveStdio" in value && typeof value.serveStdio === "function";
}

async function loadMcpServer(): Promise<McpModule> {
  const source = new URL("./mcp/index.ts", import.meta.url);
  const specifier = existsSync(fileURLToPath(source)) ? source.href : "@clawtalk/mcp";
  let loaded: unknown;
  try {
    loaded = await import(specifier);
  } catch (error) {
    const missing = error instanceof Error && "code" in error && error.code === "ERR_MODULE_NOT_FOUND";
    if (missing && specifier === "@clawtalk/mcp") throw new UsageError("the MCP server is a package of its own: npm install @clawtalk/mcp");
    throw error;
  }
  if (!isMcpModule(loaded)) throw new Error(`${specifier} does not export serveStdio`);
  return loaded;
}

export async function mcpCommand(args: Args): Promise<number> {
  const server = await loadMcpServer();
  return server.serveStdio(args, { push: args.flag("push") });
}
