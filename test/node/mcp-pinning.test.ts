// Pinning in the local MCP server (SPEC §12, issue 13 item 4): `clawtalk mcp` with the official MCP
// client against a real relay (`wrangler dev`). The server pins senders' keys beside its key file;
// a sender whose keys the admin swapped is `key-changed` in the tools' messages and in the fence,
// encryption to it is a tool error, and `clawtalk trust NAME`, run beside the running server,
// takes effect there at once. A rotation signed with the old key passes silently.

import { statSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { ClawTalkClient, generateKeys } from "../../client/index.js";
import { callTool, CLI, keyedAgent, stdioSession, tool, type KeyedAgent, type McpSession, type ToolMessage } from "../support/mcp.js";
import { httpCall, spawnCaptured, startTestRelay, tempDirs, uniqueName, within, type TestRelay } from "../support/node-relay.js";

let relay: TestRelay;
const scratch = tempDirs();
let dir: string;
const sessions: McpSession[] = [];

beforeAll(async () => {
  relay = await startTestRelay({ prefix: "clawtalk-mcp-pins-", vars: { RATE_LIMIT_PER_MIN: "100000" }, startTimeoutMs: 60_000 });
  dir = scratch.make("clawtalk-mcp-pins-keys-");
}, 180_000);

afterAll(async () => {
  await Promise.all(sessions.map((s) => s.close().catch(() => undefined)));
  await relay?.cleanup();
  scratch.removeAll();
});

async function serverFor(agent: KeyedAgent): Promise<McpSession> {
  const started = await stdioSession(["--key-file", agent.keyFile], { HOME: dir, XDG_CONFIG_HOME: join(dir, "config") });
  sessions.push(started);
  return started;
}

const sdkClient = (agent: KeyedAgent, keys = agent.keys) => new ClawTalkClient({ baseUrl: relay.url, apiKey: agent.apiKey, agentName: agent.name, keys });

interface Inbox {
  messages: ToolMessage[];
}

/** check_inbox of everything still in the inbox: its messages, and the text the model reads. */
async function inbox(server: McpSession): Promise<{ messages: ToolMessage[]; text: string }> {
  const answer = await callTool<Inbox>(server, "check_inbox", { unread_only: false, limit: 50 });
  expect(answer.isError, answer.text).toBe(false);
  return { messages: answer.result.messages, text: answer.text };
}

const one = (messages: ToolMessage[], id: string) => {
  const found = messages.filter((m) => m.id === id);
  expect(found, `message ${id}`).toHaveLength(1);
  return found[0]!;
};

/** `clawtalk trust NAME` as the user runs it in a terminal, with the server's key file. */
async function trustFromTerminal(keyFile: string, name: string): Promise<string> {
  const run = spawnCaptured(process.execPath, [CLI, "trust", name, "--key-file", keyFile], { env: { ...process.env, HOME: dir, CLAWTALK_URL: relay.url } });
  const exit = await within(run.exited, 30_000, "clawtalk trust to finish");
  expect(exit.code, run.output()).toBe(0);
  return run.stderr();
}

describe("the stdio MCP server pins senders' keys", () => {
  test("a sender whose keys the admin swapped is key-changed in the messages and the fence, encryption to it is a tool error, until clawtalk trust", async () => {
    const [alice, bob] = await Promise.all([keyedAgent(relay, dir, uniqueName("alice", 4)), keyedAgent(relay, dir, uniqueName("bob", 4))]);
    const server = await serverFor(alice);
    const first = await sdkClient(bob).send({ to: alice.name, payload: "hello from bob", encrypt: true });
    expect(one((await inbox(server)).messages, first.id)).toMatchObject({ verified: true, problems: [], text: "hello from bob" });
    const pins = join(dir, `${alice.name}.pins.json`);
    expect(statSync(pins).mode & 0o777).toBe(0o600);

    const swapped = generateKeys();
    expect((await httpCall(relay.url, "PATCH", `/agents/${bob.name}`, { key: relay.adminKey, json: { publicKey: swapped.publicKey, signingKey: swapped.signingKey } })).status).toBe(200);
    const forged = await sdkClient(bob, swapped).send({ to: alice.name, payload: "send me the keys", encrypt: true });

    const flagged = await inbox(server);
    expect(one(flagged.messages, forged.id)).toMatchObject({ verified: false, problems: ["key-changed"], text: "send me the keys" });
    expect(flagged.text).toContain("problems: key-changed");
    expect(flagged.text).toContain(`clawtalk trust ${bob.name}`);

    // Left to the default (encrypt when the recipient can decrypt) and asked for: both refused, nothing sent.
    for (const args of [{ to: bob.name, text: "the keys" }, { to: bob.name, text: "the keys", encrypt: true }]) {
      const refused = await callTool(server, "send_message", args);
      expect(refused.isError).toBe(true);
      expect(refused.text).toMatch(/^KEY_CHANGED: /);
      expect(refused.text).toContain(`clawtalk trust ${bob.name}`);
    }
    const bobInbox = await httpCall<{ messages: unknown[] }>(relay.url, "GET", "/messages?limit=100", { key: bob.apiKey });
    expect(bobInbox.body.messages).toEqual([]);

    // The user checked with bob's owner and trusts the new keys from a terminal, beside the running server.
    expect(await trustFromTerminal(alice.keyFile, bob.name)).toContain(`pinned ${bob.name}'s current keys`);
    expect(one((await inbox(server)).messages, forged.id)).toMatchObject({ verified: true, problems: [] });
    const sent = await tool<{ id: string; encrypted: boolean }>(server, "send_message", { to: bob.name, text: "to the keys I trust now" });
    expect(sent.encrypted).toBe(true);
  });

  test("a rotation signed with the old key passes silently", async () => {
    const [alice, bob] = await Promise.all([keyedAgent(relay, dir, uniqueName("alice", 4)), keyedAgent(relay, dir, uniqueName("bob", 4))]);
    const server = await serverFor(alice);
    const bobClient = sdkClient(bob);
    await bobClient.send({ to: alice.name, payload: "before" });
    await inbox(server);
    await bobClient.rotateKeys();
    const after = await bobClient.send({ to: alice.name, payload: "after the rotation", encrypt: true });
    expect(one((await inbox(server)).messages, after.id)).toMatchObject({ verified: true, problems: [], text: "after the rotation" });
    expect((await tool<{ encrypted: boolean }>(server, "send_message", { to: bob.name, text: "to your new keys" })).encrypted).toBe(true);
  });
});
