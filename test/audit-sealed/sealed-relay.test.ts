// A relay configured for sealed audit (SPEC §13): AUDIT_PUBLIC_KEY is the operator's key and
// AUDIT_REQUIRE_SEALED=true (this vitest project's bindings). /health publishes the key, plaintext
// entries are refused, and the SDK seals on its own: the original's flow (two agents exchange a
// message, both log it, the admin reads both) works end to end with only ciphertext at the relay.

import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import worker from "../../worker/index.js";
import { ClawTalkClient } from "../../client/client.js";
import { openAuditEntry } from "../../client/audit.js";
import { generateAuditKeys, generateKeys } from "../../client/crypto.js";
import type { AuditPage } from "../../protocol/envelope.js";
import { TEST_AUDIT_PUBLIC_KEY, TEST_AUDIT_SECRET_KEY } from "../support/audit-keys.js";
import { ADMIN_KEY, BASE, call, register, uniqueName } from "../support/relay.js";

/** fetch for the SDK: every request goes through the real Worker's fetch handler. */
const relayFetch: typeof fetch = async (input, init) => {
  const ctx = createExecutionContext();
  const request = new Request<unknown, IncomingRequestCfProperties>(new Request(input, init));
  const response = await worker.fetch(request, env, ctx);
  const body = await response.arrayBuffer();
  await waitOnExecutionContext(ctx);
  return new Response(body, response);
};

async function sdkAgent(prefix: string): Promise<ClawTalkClient> {
  const keys = generateKeys();
  const agent = await register(prefix, { publicKey: keys.publicKey, signingKey: keys.signingKey });
  return new ClawTalkClient({ baseUrl: BASE, apiKey: agent.apiKey, agentName: agent.name, keys, fetch: relayFetch });
}

describe("a relay with AUDIT_PUBLIC_KEY and AUDIT_REQUIRE_SEALED", () => {
  it("publishes the operator's key in /health as auditKey", async () => {
    const health = await call<{ status: string; auditKey?: string }>("GET", "/health");
    expect(health.status).toBe(200);
    expect(health.body.auditKey).toBe(TEST_AUDIT_PUBLIC_KEY);
  });

  it.each([
    ["without `sealed`", {}],
    ["with sealed: false", { sealed: false }],
  ])("refuses a plaintext entry %s with 400 naming the payload, and stores nothing", async (_what, fields) => {
    const alice = await register("alice");
    const topic = `plain.${uniqueName("t")}`;
    const reply = await call<{ error: string; code: string }>("POST", "/audit", {
      key: alice.apiKey,
      json: { messageId: crypto.randomUUID(), direction: "sent", from: alice.name, to: "bob", topic, payload: { text: "in the clear" }, ts: new Date().toISOString(), ...fields },
    });
    expect(reply.status, reply.text).toBe(400);
    expect(reply.body.code).toBe("BAD_REQUEST");
    expect(reply.body.error).toMatch(/^payload: .*sealed/);
    const read = await call<AuditPage>("GET", `/audit?topic=${topic}`, { key: ADMIN_KEY });
    expect(read.body.entries).toEqual([]);
  });

  it("takes the SDK's entries, sealed to /health's key: both sides of an encrypted message, readable by the operator only", async () => {
    const alice = await sdkAgent("alice");
    const bob = await sdkAgent("bob");
    const topic = `greeting.${uniqueName("t")}`;
    const plaintext = { text: `Hello Bob, this is a secret message! ${crypto.randomUUID()}`, code: 42 };
    const options = { to: (await bob.me()).name, payload: plaintext, topic, type: "request" as const, encrypt: true };
    const sent = await alice.send(options);
    const sentEntry = await alice.auditSent(options, sent);
    const page = await bob.receive({ topic });
    expect(page.messages.map((m) => m.id)).toEqual([sent.id]);
    const receivedEntry = await bob.auditReceived(page.messages[0]!);
    expect(sentEntry).toMatchObject({ sealed: true, direction: "sent", messageId: sent.id });
    expect(receivedEntry).toMatchObject({ sealed: true, direction: "received", messageId: sent.id });

    const admin = new ClawTalkClient({ baseUrl: BASE, apiKey: ADMIN_KEY, fetch: relayFetch });
    const read = await admin.auditLog({ topic });
    expect(read.entries.map((e) => e.direction)).toEqual(["received", "sent"]);
    const raw = JSON.stringify(read);
    expect(raw).not.toContain(plaintext.text);
    for (const stored of read.entries) {
      expect(typeof stored.payload).toBe("string");
      expect(openAuditEntry(stored, TEST_AUDIT_SECRET_KEY).plaintext).toEqual(plaintext);
      expect(openAuditEntry(stored, generateAuditKeys().secretKey)).toMatchObject({ problem: "decrypt-failed" });
    }
  });
});
