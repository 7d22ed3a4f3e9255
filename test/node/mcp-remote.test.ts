// The relay's /mcp (SPEC §11.3) with the official MCP client (StreamableHTTPClientTransport)
// against a real relay (`wrangler dev`): the same tools, plaintext only, the agent's key as the
// credential, delivery via mcp and receipts as over plain HTTP, encrypted messages shown without
// their text, signatures checked with public keys. One relay for the file.

import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { ClawTalkClient, sign, type Envelope } from "../../client/index.js";
import { callTool, keyedAgent, remoteSession, tool, type KeyedAgent, type McpSession, type Receipts, type ToolMessage } from "../support/mcp.js";
import { httpCall, startTestRelay, tempDirs, uniqueName, type TestRelay } from "../support/node-relay.js";

const RELAY_VARS = { RATE_LIMIT_PER_MIN: "12", LONGPOLL_MAX_S: "2", FEED_FLUSH_MS: "100" };

let relay: TestRelay;
const scratch = tempDirs();
let alice: KeyedAgent, bob: KeyedAgent, carol: KeyedAgent;
let aliceMcp: McpSession, bobMcp: McpSession;
/** Carol uses the SDK, which encrypts and signs. */
let carolSdk: ClawTalkClient;

const INITIALIZE = {
  jsonrpc: "2.0",
  id: 1,
  method: "initialize",
  params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "curl", version: "1" } },
};
const MCP_HEADERS = { Accept: "application/json, text/event-stream" };

beforeAll(async () => {
  relay = await startTestRelay({ prefix: "clawtalk-mcp-remote-", vars: RELAY_VARS, startTimeoutMs: 60_000 });
  const dir = scratch.make("clawtalk-mcp-remote-keys-");
  alice = await keyedAgent(relay, dir, uniqueName("alice", 4));
  bob = await keyedAgent(relay, dir, uniqueName("bob", 4));
  carol = await keyedAgent(relay, dir, uniqueName("carol", 4));
  carolSdk = new ClawTalkClient({ baseUrl: relay.url, apiKey: carol.apiKey, agentName: carol.name, keys: carol.keys });
  aliceMcp = await remoteSession(relay.url, alice.apiKey);
  bobMcp = await remoteSession(relay.url, bob.apiKey);
}, 120_000);

afterAll(async () => {
  await Promise.all([aliceMcp, bobMcp].map((s) => s?.close().catch(() => undefined)));
  await relay?.cleanup();
  scratch.removeAll();
});

describe("POST /mcp: who may use it", () => {
  test("without a key, or with a wrong one, it is 401 before any MCP processing", async () => {
    for (const key of [null, `ct_${"A".repeat(43)}`, "not-a-key"]) {
      const reply = await httpCall<{ code: string }>(relay.url, "POST", "/mcp", { key, json: INITIALIZE, headers: MCP_HEADERS });
      expect(reply.status, String(key)).toBe(401);
      expect(reply.body.code).toBe("UNAUTHORIZED");
      expect(reply.text).not.toContain("jsonrpc");
    }
    await expect(remoteSession(relay.url, `ct_${"B".repeat(43)}`)).rejects.toThrow();
  });

  test("the admin key is not an agent's credential here (403), and GET is 405 with Allow", async () => {
    expect((await httpCall(relay.url, "POST", "/mcp", { key: relay.adminKey, json: INITIALIZE, headers: MCP_HEADERS })).status).toBe(403);
    const get = await httpCall(relay.url, "GET", "/mcp", { key: alice.apiKey, headers: MCP_HEADERS });
    expect(get.status).toBe(405);
    expect(get.headers.get("Allow")).toBe("POST, OPTIONS");
  });

  test("with the agent's key, initialize answers as plain JSON without a session", async () => {
    const reply = await httpCall<{ result: { serverInfo: { name: string } } }>(relay.url, "POST", "/mcp", { key: alice.apiKey, json: INITIALIZE, headers: MCP_HEADERS });
    expect(reply.status).toBe(200);
    expect(reply.headers.get("content-type")).toContain("application/json");
    expect(reply.headers.get("mcp-session-id")).toBeNull();
    expect(reply.body.result.serverInfo.name).toBe("clawtalk");
  });
});

describe("the remote tools", () => {
  test("are the seven tools of SPEC §11.2; send_message says where encryption is", async () => {
    const { tools } = await aliceMcp.client.listTools();
    expect(tools.map((t) => t.name).sort()).toEqual(["ack_messages", "check_inbox", "list_agents", "message_status", "send_message", "wait_for_message", "whoami"]);
    const send = tools.find((t) => t.name === "send_message")!;
    expect(JSON.stringify(send.inputSchema.properties!.encrypt)).toContain("npx clawtalk mcp");
    expect(await tool(aliceMcp, "whoami")).toEqual({ name: alice.name, relay: relay.url, can_encrypt: false });
  });

  test("a plaintext send reaches the other agent's wait_for_message, fenced, unsigned; the relay stored it as sent", async () => {
    const waiting = callTool<{ messages: ToolMessage[]; timed_out: boolean }>(bobMcp, "wait_for_message", { timeout_s: 30, topic: "hello" });
    const sent = await tool<{ id: string; encrypted: boolean; recipients: { name: string }[] }>(aliceMcp, "send_message", { to: bob.name, text: "hello over /mcp", topic: "hello", type: "request" });
    expect(sent).toMatchObject({ encrypted: false, recipients: [expect.objectContaining({ name: bob.name })] });
    const got = await waiting;
    expect(got.result).toMatchObject({ timed_out: false, messages: [expect.objectContaining({ id: sent.id, from: alice.name, text: "hello over /mcp", encrypted: false, verified: false, problems: ["unsigned"], type: "request" })] });
    expect(got.text).toContain(`<<<CLAWTALK MESSAGE ${sent.id}>>>`);
    expect(got.text).toContain(`<<<END CLAWTALK MESSAGE ${sent.id}>>>`);
    const stored = await httpCall<Envelope>(relay.url, "GET", `/messages/${sent.id}`, { key: bob.apiKey });
    expect(stored.body).toMatchObject({ encrypted: false, payload: "hello over /mcp", from: alice.name });
  });

  test("check_inbox with unread_only answers nothing for messages already handed out, twice", async () => {
    const sent = await tool<{ id: string }>(aliceMcp, "send_message", { to: bob.name, text: "once", topic: "once" });
    expect((await tool<{ messages: ToolMessage[] }>(bobMcp, "check_inbox", { topic: "once" })).messages.map((m) => m.id)).toEqual([sent.id]);
    for (let i = 0; i < 2; i++) expect((await tool<{ messages: ToolMessage[] }>(bobMcp, "check_inbox", { topic: "once" })).messages).toEqual([]);
  });

  test("message_status goes stored → delivered (via mcp) → acked after ack_messages", async () => {
    const sent = await tool<{ id: string }>(aliceMcp, "send_message", { to: bob.name, text: "track me", topic: "status" });
    expect((await tool<Receipts>(aliceMcp, "message_status", { id: sent.id })).recipients).toEqual([expect.objectContaining({ name: bob.name, status: "stored" })]);
    expect((await tool<{ messages: ToolMessage[] }>(bobMcp, "check_inbox", { topic: "status" })).messages).toHaveLength(1);
    const delivered = await tool<Receipts>(aliceMcp, "message_status", { id: sent.id, wait_s: 2, until: "delivered" });
    expect(delivered.recipients).toEqual([expect.objectContaining({ status: "delivered", via: "mcp" })]);
    expect(await tool(bobMcp, "ack_messages", { ids: [sent.id] })).toEqual({ deleted: [sent.id], missing: [] });
    const acked = await tool<Receipts>(aliceMcp, "message_status", { id: sent.id, wait_s: 2, until: "acked" });
    expect(acked.recipients).toEqual([expect.objectContaining({ status: "acked" })]);
  });

  test("encrypt: true is a tool error that points to npx clawtalk mcp, and nothing is sent", async () => {
    const answer = await callTool(aliceMcp, "send_message", { to: bob.name, text: "secret", encrypt: true, topic: "refused" });
    expect(answer.isError).toBe(true);
    expect(answer.text).toMatch(/^BAD_REQUEST: This remote MCP endpoint holds no private keys/);
    expect(answer.text).toContain("npx clawtalk mcp");
    expect((await tool<{ messages: ToolMessage[] }>(bobMcp, "check_inbox", { topic: "refused", unread_only: false })).messages).toEqual([]);
  });

  test("an encrypted message is listed with encrypted: true and no text; its signature is checked with the sender's public key", async () => {
    const sent = await carolSdk.send({ to: bob.name, payload: "for bob's eyes only", encrypt: true, topic: "sealed" });
    const answer = await callTool<{ messages: ToolMessage[] }>(bobMcp, "check_inbox", { topic: "sealed" });
    const [message] = answer.result.messages;
    expect(message).toMatchObject({ id: sent.id, from: carol.name, encrypted: true, verified: true, problems: [] });
    expect(message!.text).toBeUndefined();
    expect(message!.data).toBeUndefined();
    expect(answer.text).toContain("npx clawtalk mcp");
    expect(answer.text).not.toContain("for bob's eyes only");
    const stored = await httpCall<Envelope>(relay.url, "GET", `/messages/${sent.id}`, { key: bob.apiKey });
    expect(answer.text).not.toContain(String(stored.body.payload));
  });

  test("a signed plaintext message is verified; one whose signature does not match is flagged", async () => {
    const signed = await carolSdk.send({ to: bob.name, payload: { text: "signed by carol" }, topic: "signed" });
    const id = randomUUID();
    const sentAt = new Date().toISOString();
    const signature = sign({ id, from: carol.name, to: bob.name, type: "notification", topic: "signed", sentAt, encrypted: false, payload: "what carol signed" }, carol.keys.signingSecretKey);
    const forged = await httpCall(relay.url, "POST", "/messages", { key: carol.apiKey, json: { id, sentAt, to: bob.name, type: "notification", topic: "signed", encrypted: false, payload: "what arrived", signature } });
    expect(forged.status).toBe(201);
    const { messages } = await tool<{ messages: ToolMessage[] }>(bobMcp, "check_inbox", { topic: "signed" });
    expect(messages).toEqual([
      expect.objectContaining({ id: signed.id, text: "signed by carol", verified: true, problems: [] }),
      expect.objectContaining({ id, text: "what arrived", verified: false, problems: ["bad-signature"] }),
    ]);
  });

  test("wait_for_message waits at most LONGPOLL_MAX_S, then answers timed_out", async () => {
    // A 600 s wait would outlast this call's 20 s client timeout; the relay's 2 s cap does not.
    expect(await tool(bobMcp, "wait_for_message", { timeout_s: 600, topic: "never" }, 20_000)).toEqual({ messages: [], timed_out: true });
  });

  test("relay errors are tool errors with the relay's code and sentence: an unknown recipient, the rate limit", async () => {
    const ghost = uniqueName("ghost", 4);
    expect(await callTool(aliceMcp, "send_message", { to: ghost, text: "anyone?" })).toMatchObject({ isError: true, text: `UNKNOWN_RECIPIENT: Unknown recipient ${ghost}; nothing was sent.` });
    let answer = await callTool(aliceMcp, "send_message", { to: bob.name, text: "1", topic: "flood" });
    for (let i = 2; i <= 40 && !answer.isError; i++) answer = await callTool(aliceMcp, "send_message", { to: bob.name, text: String(i), topic: "flood" });
    expect(answer.text).toMatch(/^RATE_LIMITED: Rate limit of 12 sends per 60 s exceeded\. Retry after \d+ s\.$/);
    expect((await tool(aliceMcp, "whoami")).name).toBe(alice.name);
    const { agents } = await tool<{ agents: { name: string; can_encrypt: boolean }[] }>(aliceMcp, "list_agents");
    expect(agents.find((a) => a.name === bob.name)).toMatchObject({ can_encrypt: true });
  });
});
