// Sealed audit entries (SPEC §13): the payload is sealed to the operator's X25519 key by the
// client (the SDK's sealAuditPayload), kept byte for byte by the relay, which cannot open it, and
// opened by the operator's secret key and nothing else. Malformed sealed payloads are 400.

import { env } from "cloudflare:workers";
import { runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { AuditEntry, AuditPage } from "../../protocol/envelope.js";
import { openAuditEntry } from "../../client/audit.js";
import { generateAuditKeys, generateKeys, openAuditPayload, sealAuditPayload } from "../../client/crypto.js";
import { readLimits } from "../../protocol/limits.js";
import { auditStub, shardOf } from "../../durable-objects/stubs.js";
import { ADMIN_KEY, call, register, uniqueName, type TestAgent } from "../support/relay.js";

function entry(agent: TestAgent, topic: string, fields: Record<string, unknown>) {
  return { messageId: crypto.randomUUID(), direction: "sent", from: agent.name, to: "bob", topic, ts: new Date().toISOString(), ...fields };
}

async function auditOf(topic: string): Promise<AuditEntry[]> {
  const reply = await call<AuditPage>("GET", `/audit?topic=${topic}`, { key: ADMIN_KEY });
  expect(reply.status, reply.text).toBe(200);
  return reply.body.entries;
}

async function sha256Hex(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return [...new Uint8Array(digest)].map((byte) => byte.toString(16).padStart(2, "0")).join("");
}

const base64 = (bytes: Uint8Array) => btoa(String.fromCharCode(...bytes));

describe("sealed audit entries", () => {
  it("are kept exactly as posted and open with the operator's secret key, and with no other key", async () => {
    const alice = await register("alice");
    const operator = generateAuditKeys();
    const topic = `sealed.${uniqueName("ok")}`;
    const plaintext = { text: `the merger closes on friday ${crypto.randomUUID()}`, code: 42 };
    const sealed = sealAuditPayload(plaintext, operator.publicKey);

    const posted = await call<AuditEntry>("POST", "/audit", { key: alice.apiKey, json: entry(alice, topic, { payload: sealed, sealed: true }) });
    expect(posted.status, posted.text).toBe(201);
    expect(posted.body).toMatchObject({ payload: sealed, sealed: true, payloadSha256: await sha256Hex(sealed) });
    const [stored] = await auditOf(topic);
    expect(stored).toEqual(posted.body);

    expect(openAuditPayload(stored!.payload as string, operator.secretKey)).toEqual(plaintext);
    expect(openAuditEntry(stored!, operator.secretKey).plaintext).toEqual(plaintext);
    // Nothing else opens it: another operator key, the agent's own keys, no key, a tampered copy.
    expect(openAuditPayload(sealed, generateAuditKeys().secretKey)).toBeNull();
    expect(openAuditPayload(sealed, generateKeys().privateKey)).toBeNull();
    expect(openAuditEntry(stored!)).toMatchObject({ problem: "sealed" });
    expect(openAuditEntry(stored!).plaintext).toBeUndefined();
    expect(openAuditEntry(stored!, generateAuditKeys().secretKey)).toMatchObject({ problem: "decrypt-failed" });
    const tampered = Uint8Array.from(atob(sealed), (c) => c.charCodeAt(0));
    tampered[tampered.length - 1]! ^= 1;
    expect(openAuditPayload(base64(tampered), operator.secretKey)).toBeNull();
  });

  it("leave no trace of the plaintext in the answer, the log or the Audit object's storage", async () => {
    const alice = await register("alice");
    const operator = generateAuditKeys();
    const topic = `sealed.${uniqueName("trace")}`;
    const secret = `TOP-SECRET-${crypto.randomUUID()}`;
    const posted = await call<AuditEntry>("POST", "/audit", {
      key: alice.apiKey,
      json: entry(alice, topic, { payload: sealAuditPayload({ text: secret }, operator.publicKey), sealed: true }),
    });
    expect(posted.status).toBe(201);
    expect(posted.text).not.toContain(secret);
    const read = await call<AuditPage>("GET", `/audit?topic=${topic}`, { key: ADMIN_KEY });
    expect(read.body.entries).toHaveLength(1);
    expect(read.text).not.toContain(secret);
    // The entry is kept in the audit shard its sender's name falls in.
    const shard = auditStub(env, shardOf(alice.name, readLimits(env).auditShards));
    const dump = await runInDurableObject(shard, (_instance, state) => {
      const tables = state.storage.sql
        .exec<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_cf_%'")
        .toArray()
        .map((row) => row.name);
      return JSON.stringify(tables.flatMap((table) => state.storage.sql.exec(`SELECT * FROM "${table}"`).toArray()));
    });
    expect(dump).toContain(topic); // the scan did see the entry
    expect(dump).not.toContain(secret);
  });

  it("are stored without being read: well-formed bytes that open with no key are accepted, and flagged when read", async () => {
    const alice = await register("alice");
    const topic = `sealed.${uniqueName("noise")}`;
    const noise = base64(crypto.getRandomValues(new Uint8Array(120)));
    const posted = await call<AuditEntry>("POST", "/audit", { key: alice.apiKey, json: entry(alice, topic, { payload: noise, sealed: true }) });
    expect(posted.status, posted.text).toBe(201);
    expect(openAuditEntry((await auditOf(topic))[0]!, generateAuditKeys().secretKey)).toMatchObject({ problem: "decrypt-failed" });
  });

  const shortSeal = base64(new Uint8Array(72).fill(1));
  it.each([
    ["a JSON object", { text: "not sealed" }],
    ["a number", 12345],
    ["null", null],
    ["an array", ["AAAA"]],
    ["an empty string", ""],
    ["text that is not base64", "this is plaintext, not a sealed box"],
    ["base64url instead of standard base64", base64(new Uint8Array(90).fill(0xfb)).replace(/\+/g, "-").replace(/\//g, "_")],
    ["base64 without its padding", base64(new Uint8Array(91).fill(7)).replace(/=+$/, "")],
    ["base64 broken by a newline", `${base64(new Uint8Array(45).fill(7))}\n${base64(new Uint8Array(45).fill(7))}`],
    ["72 bytes: key, nonce and tag but no ciphertext", shortSeal],
  ])("refuses a sealed payload that is %s with 400 naming the payload, and stores nothing", async (_what, payload) => {
    const alice = await register("alice");
    const topic = `sealed.${uniqueName("bad")}`;
    const reply = await call<{ error: string; code: string }>("POST", "/audit", { key: alice.apiKey, json: entry(alice, topic, { payload, sealed: true }) });
    expect(reply.status, reply.text).toBe(400);
    expect(reply.body.code).toBe("BAD_REQUEST");
    expect(reply.body.error).toMatch(/^payload: /);
    expect(await auditOf(topic)).toEqual([]);
  });
});
