// Helpers for the MCP tests (test/node/mcp-*.test.ts): the official MCP client from
// @modelcontextprotocol/sdk against `clawtalk mcp` on stdio or the relay's /mcp, agents with key
// files, and tool calls that answer their structured result or their error text.

import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { generateKeys, type AgentKeys } from "../../client/index.js";
import { PROJECT_ROOT } from "../../scripts/local-relay.js";
import { registerAgent, type RegisteredAgent } from "./node-relay.js";

export const CLI = join(PROJECT_ROOT, "client/bin/clawtalk.mjs");

export interface KeyedAgent extends RegisteredAgent {
  keys: AgentKeys;
  keyFile: string;
}

/** Registers an agent with fresh keys and writes the key file `clawtalk register` would. */
export async function keyedAgent(relay: { url: string; adminKey: string }, dir: string, name: string): Promise<KeyedAgent> {
  const keys = generateKeys();
  const agent = await registerAgent(relay, name, { publicKey: keys.publicKey, signingKey: keys.signingKey });
  const keyFile = join(dir, `${name}.json`);
  writeFileSync(keyFile, JSON.stringify({ ...keys, name: agent.name, apiKey: agent.apiKey, url: relay.url }), { mode: 0o600 });
  return { ...agent, keys, keyFile };
}

export interface McpSession {
  client: Client;
  /** What the server wrote to stderr (stdio only). */
  stderr(): string;
  close(): Promise<void>;
}

/** `clawtalk mcp ARGS` as an MCP host starts it, connected with the official client. */
export async function stdioSession(args: string[], env: Record<string, string> = {}): Promise<McpSession> {
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [CLI, "mcp", ...args],
    cwd: PROJECT_ROOT,
    stderr: "pipe",
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/tmp", ...env },
  });
  let stderr = "";
  transport.stderr?.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const client = new Client({ name: "clawtalk-test", version: "1.0.0" });
  await client.connect(transport);
  return { client, stderr: () => stderr, close: () => client.close() };
}

/** The relay's /mcp with an agent's key, connected with the official client. */
export async function remoteSession(url: string, apiKey: string): Promise<McpSession> {
  const transport = new StreamableHTTPClientTransport(new URL(`${url}/mcp`), { requestInit: { headers: { Authorization: `Bearer ${apiKey}` } } });
  const client = new Client({ name: "clawtalk-test", version: "1.0.0" });
  await client.connect(transport);
  return { client, stderr: () => "", close: () => client.close() };
}

export interface ToolAnswer<T> {
  /** The structured result (undefined for a tool error). */
  result: T;
  /** The text the model reads. */
  text: string;
  isError: boolean;
}

/** Calls a tool; a protocol failure throws, a tool error is answered with isError. */
export async function callTool<T = Record<string, unknown>>(session: McpSession, name: string, args: Record<string, unknown> = {}, timeoutMs = 60_000): Promise<ToolAnswer<T>> {
  const answer = await session.client.callTool({ name, arguments: args }, undefined, { timeout: timeoutMs });
  const content = Array.isArray(answer.content) ? answer.content : [];
  const text = content.map((part: { type: string; text?: string }) => (part.type === "text" ? (part.text ?? "") : "")).join("\n");
  return { result: answer.structuredContent as T, text, isError: answer.isError === true };
}

/** Calls a tool that must succeed; a tool error fails the test with its text. */
export async function tool<T = Record<string, unknown>>(session: McpSession, name: string, args: Record<string, unknown> = {}, timeoutMs = 60_000): Promise<T> {
  const answer = await callTool<T>(session, name, args, timeoutMs);
  if (answer.isError) throw new Error(`${name} failed: ${answer.text}`);
  return answer.result;
}

/** The Message of SPEC §11.2 as the tools return it. */
export interface ToolMessage {
  id: string;
  from: string;
  ts: string;
  type: string;
  topic: string | null;
  reply_to: string | null;
  correlation_id: string | null;
  encrypted: boolean;
  verified: boolean;
  problems: string[];
  text?: string;
  data?: unknown;
}

export interface Receipts {
  id: string;
  ts: string;
  recipients?: { name: string; status: string; ts: string; deliveredAt?: string; via?: string; ackedAt?: string }[];
}
