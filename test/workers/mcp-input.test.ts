// POST /mcp's input (SPEC §11.3, §9): a body that is not JSON, too large, or a tool call with
// wrong arguments is refused the way every other request is — a 4xx with {error, code} at the
// HTTP level, a JSON-RPC or tool error inside MCP — never a 500, and nothing is sent. (The tools
// themselves are tested from Node with the official client: test/node/mcp-remote.test.ts.)

import { beforeAll, describe, expect, it } from "vitest";
import type { MessagePage } from "../../protocol/envelope.js";
import { call, inbox, register, type TestAgent } from "../support/relay.js";

let alice: TestAgent;
let bob: TestAgent;

beforeAll(async () => {
  [alice, bob] = await Promise.all([register("mcpin_a"), register("mcpin_b")]);
});

interface RpcAnswer {
  jsonrpc: "2.0";
  id: number;
  result?: { isError?: boolean; content: { type: string; text: string }[]; structuredContent?: unknown };
  error?: { code: number; message: string };
}

function toolCall(name: string, args: unknown) {
  return call<RpcAnswer>("POST", "/mcp", { key: alice.apiKey, json: { jsonrpc: "2.0", id: 7, method: "tools/call", params: { name, arguments: args } } });
}

describe("POST /mcp refuses bad input without a 500", () => {
  it("a body that is not JSON is 400 BAD_REQUEST", async () => {
    const reply = await call("POST", "/mcp", { key: alice.apiKey, raw: "{not json" });
    expect(reply.status).toBe(400);
    expect(reply.body).toMatchObject({ code: "BAD_REQUEST", error: expect.stringContaining("not valid JSON") });
  });

  it("a body over MAX_BODY_BYTES is 413 PAYLOAD_TOO_LARGE", async () => {
    const text = "x".repeat(70 * 1024);
    const reply = await call("POST", "/mcp", { key: alice.apiKey, json: { jsonrpc: "2.0", id: 1, method: "tools/call", params: { name: "send_message", arguments: { to: bob.name, text } } } });
    expect(reply.status).toBe(413);
    expect(reply.body).toMatchObject({ code: "PAYLOAD_TOO_LARGE" });
  });

  it("JSON that is not a JSON-RPC message is a JSON-RPC error, not a 500", async () => {
    const reply = await call<RpcAnswer>("POST", "/mcp", { key: alice.apiKey, json: { hello: "world" } });
    expect(reply.status).toBeGreaterThanOrEqual(400);
    expect(reply.status).toBeLessThan(500);
    expect(reply.body.error).toBeDefined();
  });

  it("an unknown tool and wrong argument types are tool errors", async () => {
    const unknown = await toolCall("delete_everything", {});
    expect(unknown.status).toBe(200);
    expect(JSON.stringify(unknown.body)).toMatch(/delete_everything/);
    const wrongType = await toolCall("send_message", { to: 42, text: ["not", "a", "string"] });
    expect(wrongType.body.result).toMatchObject({ isError: true });
    const badLimit = await toolCall("check_inbox", { limit: 500 });
    expect(badLimit.body.result).toMatchObject({ isError: true });
  });

  it("text and data together, or neither, is a tool error and sends nothing", async () => {
    for (const args of [{ to: bob.name, text: "a", data: { b: 1 } }, { to: bob.name }]) {
      const reply = await toolCall("send_message", args);
      expect(reply.body.result).toMatchObject({ isError: true, content: [{ type: "text", text: "BAD_REQUEST: Give exactly one of text and data." }] });
    }
    expect((await inbox<MessagePage>(bob)).body.messages).toEqual([]);
  });

  it("a field the relay refuses is its 400 sentence as a tool error", async () => {
    const reply = await toolCall("send_message", { to: bob.name, text: "x", correlation_id: "hidden\u202etext" });
    expect(reply.body.result).toMatchObject({ isError: true });
    expect(reply.body.result!.content[0]!.text).toMatch(/^BAD_REQUEST: correlationId: contains U\+202E/);
    expect((await inbox<MessagePage>(bob)).body.messages).toEqual([]);
  });
});
