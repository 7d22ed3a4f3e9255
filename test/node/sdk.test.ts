// The SDK (SPEC §5, §6) against a real relay: `wrangler dev` on a temporary state directory, driven
// from Node through ClawTalkClient, with raw HTTP where a test needs to send what the SDK never
// would (tampered, replayed, legacy-signed, unsigned). The published test vectors are checked here
// independently of tweetnacl with node:crypto (Ed25519, X25519, HMAC), so they are not only
// self-consistent; test/workers/unit/client-crypto.test.ts recomputes them with the SDK.

import {
  createHmac,
  createPrivateKey,
  createPublicKey,
  randomBytes,
  randomUUID,
  sign as ed25519Sign,
  verify as ed25519Verify,
  type KeyObject,
} from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test, vi } from "vitest";
import {
  ClawTalkClient,
  ClawTalkError,
  encrypt,
  generateKeys,
  sign,
  signKeyChange,
  verifySignature,
  verifyWebhook,
  type AgentKeys,
  type ClientOptions,
  type CursorStore,
  type Envelope,
  type JsonValue,
  type ReceivedMessage,
  type SendOptions,
  type SendRequest,
  type WatchOptions,
} from "../../client/index.js";
import { PROJECT_ROOT } from "../../scripts/local-relay.js";
import {
  registerAgent,
  relayCaller,
  sleep,
  startTestRelay,
  tempDirs,
  uniqueName,
  within,
  type Reply,
  type TestRelay,
} from "../support/node-relay.js";

/** MIN_TTL_S=1 so a replay after expiry takes seconds; the rate limit is out of the way. */
const RELAY_VARS = { RATE_LIMIT_PER_MIN: "100000", MIN_TTL_S: "1" };
const REQUEST_TIMEOUT_MS = 15_000;
const WAIT_MS = 30_000;

// ---------------------------------------------------------------------------------------------
// The relay, a webhook receiver, temporary directories

/** The relay's port, state directory and admin key; one test stops it and starts it again on them. */
let testRelay: TestRelay;
const scratch = tempDirs();

interface WebhookRequest {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}

let hookServer: Server;
let hookBase: string;
const hookRequests: WebhookRequest[] = [];

beforeAll(async () => {
  testRelay = await startTestRelay({ prefix: "clawtalk-sdk-", vars: RELAY_VARS, startTimeoutMs: 60_000 });
  hookServer = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      hookRequests.push({ path: request.url ?? "", headers: request.headers, body: Buffer.concat(chunks).toString("utf8") });
      response.writeHead(200, { "Content-Type": "text/plain" }).end("ok");
    });
  });
  await new Promise<void>((resolve) => hookServer.listen(0, "127.0.0.1", resolve));
  hookBase = `http://127.0.0.1:${(hookServer.address() as AddressInfo).port}`;
}, 120_000);

afterAll(async () => {
  await testRelay?.cleanup();
  await new Promise<void>((resolve) => (hookServer ? hookServer.close(() => resolve()) : resolve()));
  scratch.removeAll();
}, 60_000);

// ---------------------------------------------------------------------------------------------
// Helpers: raw HTTP, agents, SDK clients

const http = relayCaller(() => testRelay.url, { timeoutMs: REQUEST_TIMEOUT_MS });

interface Agent {
  name: string;
  apiKey: string;
  webhookSecret: string;
  keys: AgentKeys;
  client: ClawTalkClient;
}

/** Registers an agent; with `registerKeys: false` its keys exist locally but the directory has none. */
async function agent(prefix: string, options: { registerKeys?: boolean; webhookUrl?: string } = {}): Promise<Agent> {
  const keys = generateKeys();
  const fields = {
    ...(options.registerKeys === false ? {} : { publicKey: keys.publicKey, signingKey: keys.signingKey }),
    ...(options.webhookUrl === undefined ? {} : { webhookUrl: options.webhookUrl }),
  };
  const registered = await registerAgent(testRelay, uniqueName(prefix.slice(0, 20), 4), fields, { timeoutMs: REQUEST_TIMEOUT_MS });
  return { ...registered, keys, client: clientOf({ ...registered, keys }) };
}

/** A new SDK client for an agent (its own caches), with optional overrides. */
function clientOf(agent: { name: string; apiKey: string; keys: AgentKeys }, overrides: Partial<ClientOptions> = {}): ClawTalkClient {
  return new ClawTalkClient({ baseUrl: testRelay.url, apiKey: agent.apiKey, agentName: agent.name, keys: agent.keys, ...overrides });
}

/**
 * A fetch that records every POST /messages body the SDK builds. With `deliver: false` nothing is
 * sent: it answers a made-up 201, so a test gets the SDK's exact envelope to tamper with or replay.
 */
function recordingFetch(bodies: SendRequest[], deliver: boolean): typeof fetch {
  return async (input, init) => {
    const url = typeof input === "string" ? input : input instanceof URL ? input.href : input.url;
    if (init?.method === "POST" && new URL(url).pathname === "/messages" && typeof init.body === "string") {
      const body = JSON.parse(init.body) as SendRequest;
      bodies.push(body);
      if (!deliver) {
        const made = { id: body.id ?? "", ts: new Date().toISOString(), recipients: [] };
        return new Response(JSON.stringify(made), { status: 201, headers: { "Content-Type": "application/json" } });
      }
    }
    return fetch(input, init);
  };
}

/** What the SDK would POST for `send(options)` as this agent, without sending it. */
async function sdkEnvelope(sender: Agent, options: SendOptions, overrides: Partial<ClientOptions> = {}): Promise<SendRequest> {
  const bodies: SendRequest[] = [];
  await clientOf(sender, { ...overrides, fetch: recordingFetch(bodies, false) }).send(options);
  expect(bodies).toHaveLength(1);
  return bodies[0]!;
}

async function postRaw(sender: Agent, body: unknown): Promise<Reply<{ id: string }>> {
  const reply = await http<{ id: string }>("POST", "/messages", sender.apiKey, body);
  expect(reply.status, reply.text).toBe(201);
  return reply;
}

/** The one message with this id in a page of the receiver's inbox (fails when absent). */
async function receiveOne(client: ClawTalkClient, id: string): Promise<ReceivedMessage> {
  const page = await client.receive({ limit: 100 });
  const found = page.messages.filter((m) => m.id === id);
  expect(found, `message ${id} in the inbox`).toHaveLength(1);
  return found[0]!;
}

/** Flips one bit in the middle of a base64 payload. */
function flipByte(base64: string): string {
  const data = Buffer.from(base64, "base64");
  const middle = Math.floor(data.length / 2);
  data[middle] = data[middle]! ^ 0x01;
  return data.toString("base64");
}

// node:crypto keys from raw bytes (JWK), independent of tweetnacl.
const b64url = (data: Uint8Array) => Buffer.from(data).toString("base64url");
const raw = (base64: string) => new Uint8Array(Buffer.from(base64, "base64"));

function ed25519PublicKey(publicKey: string): KeyObject {
  return createPublicKey({ key: { kty: "OKP", crv: "Ed25519", x: b64url(raw(publicKey)) }, format: "jwk" });
}

/** An Ed25519 private key from tweetnacl's 64-byte secret key (seed || public key). */
function ed25519PrivateKey(signingSecretKey: string): KeyObject {
  const secret = raw(signingSecretKey);
  return createPrivateKey({ key: { kty: "OKP", crv: "Ed25519", d: b64url(secret.subarray(0, 32)), x: b64url(secret.subarray(32)) }, format: "jwk" });
}

/** The public key node:crypto derives from a raw 32-byte private key (PKCS#8 DER around it). */
function derivedPublicKey(curve: "X25519" | "Ed25519", privateKey: Uint8Array): string {
  const prefix = Buffer.from(curve === "X25519" ? "302e020100300506032b656e04220420" : "302e020100300506032b657004220420", "hex");
  const key = createPrivateKey({ key: Buffer.concat([prefix, privateKey]), format: "der", type: "pkcs8" });
  const jwk = createPublicKey(key).export({ format: "jwk" });
  return Buffer.from(jwk.x ?? "", "base64url").toString("base64");
}

function memoryStore(): CursorStore & { value: string | null; saves: number } {
  return {
    value: null,
    saves: 0,
    load() {
      return this.value;
    },
    save(cursor: string) {
      this.value = cursor;
      this.saves++;
    },
  };
}

function fileStore(path: string): CursorStore {
  return {
    load: () => {
      try {
        return readFileSync(path, "utf8").trim() || null;
      } catch {
        return null;
      }
    },
    save: (cursor) => writeFileSync(path, cursor),
  };
}

// ---------------------------------------------------------------------------------------------
// The published test vectors, checked with node:crypto

interface VectorKeys {
  boxSecretKey: string;
  boxPublicKey: string;
  signingSeed?: string;
  signingPublicKey?: string;
  signingSecretKey?: string;
}

interface Vectors {
  keys: { alice: Required<VectorKeys>; bob: VectorKeys; carol: VectorKeys };
  signatures: { cases: { name: string; envelope: Record<string, JsonValue>; signingInput: string; signature: string }[] };
  legacySignatures: { cases: { name: string; withTtl: boolean; envelope: Record<string, JsonValue>; signingInput: string; signature: string }[] };
  webhook: { secret: string; id: string; timestamp: number; body: string; signedContent: string; signature: string };
}

const vectors = JSON.parse(readFileSync(join(PROJECT_ROOT, "client/test-vectors.json"), "utf8")) as Vectors;

/** Keys sorted at every level: RFC 8785 for the simple values in the vectors (strings, small integers). */
function sortedJson(value: JsonValue): string {
  if (Array.isArray(value)) return `[${value.map(sortedJson).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const keys = Object.keys(value).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${sortedJson(value[k]!)}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

describe("test vectors, checked independently with node:crypto", () => {
  const alice = vectors.keys.alice;

  test("the X25519 and Ed25519 public keys are the ones node:crypto derives from the fixed secret keys", () => {
    for (const who of ["alice", "bob", "carol"] as const) {
      const keys = vectors.keys[who];
      expect(derivedPublicKey("X25519", raw(keys.boxSecretKey)), who).toBe(keys.boxPublicKey);
    }
    expect(derivedPublicKey("Ed25519", raw(alice.signingSeed))).toBe(alice.signingPublicKey);
    expect(Buffer.from(raw(alice.signingSecretKey)).toString("hex")).toBe(
      Buffer.concat([raw(alice.signingSeed), raw(alice.signingPublicKey)]).toString("hex"),
    );
  });

  test("every v2 signature verifies with node:crypto Ed25519, which also signs the same bytes", () => {
    const publicKey = ed25519PublicKey(alice.signingPublicKey);
    const privateKey = ed25519PrivateKey(alice.signingSecretKey);
    expect(vectors.signatures.cases.length).toBeGreaterThanOrEqual(4);
    for (const c of vectors.signatures.cases) {
      const data = Buffer.from(c.signingInput, "utf8");
      expect(ed25519Verify(null, data, publicKey, Buffer.from(c.signature, "base64")), c.name).toBe(true);
      // Ed25519 is deterministic (RFC 8032): the same key and input give the same signature.
      expect(ed25519Sign(null, data, privateKey).toString("base64"), c.name).toBe(c.signature);
      expect(ed25519Verify(null, Buffer.from(c.signingInput.replace('"v":2', '"v":3')), publicKey, Buffer.from(c.signature, "base64"))).toBe(false);
    }
  });

  test("every v2 signing input is the envelope's covered fields plus v: 2, keys sorted, no whitespace", () => {
    const covered = ["id", "from", "to", "type", "topic", "correlationId", "replyTo", "sentAt", "encrypted", "payload", "nonce"];
    for (const c of vectors.signatures.cases) {
      const fields: Record<string, JsonValue> = { v: 2 };
      for (const key of covered) if (c.envelope[key] !== undefined) fields[key] = c.envelope[key]!;
      expect(c.signingInput, c.name).toBe(sortedJson(fields));
    }
    const multicast = vectors.signatures.cases.filter((c) => Array.isArray(c.envelope.to));
    expect(multicast.length).toBe(2);
    for (const c of multicast) expect(JSON.parse(c.signingInput).to).toEqual(["Bob", "Carol"]);
  });

  test("every legacy signature verifies with node:crypto over JSON.stringify in the original key order", () => {
    const publicKey = ed25519PublicKey(alice.signingPublicKey);
    for (const c of vectors.legacySignatures.cases) {
      const e = c.envelope;
      const original = JSON.stringify({
        to: e.to,
        type: e.type,
        topic: e.topic,
        correlationId: e.correlationId,
        ttl: c.withTtl ? e.ttl : undefined,
        encrypted: e.encrypted,
        payload: e.payload,
        nonce: e.nonce,
      });
      expect(c.signingInput, c.name).toBe(original);
      expect(ed25519Verify(null, Buffer.from(original, "utf8"), publicKey, Buffer.from(c.signature, "base64")), c.name).toBe(true);
    }
  });

  test("the webhook signature is HMAC-SHA256 (node:crypto) of id.timestamp.body under the decoded secret", () => {
    const w = vectors.webhook;
    expect(w.signedContent).toBe(`${w.id}.${w.timestamp}.${w.body}`);
    const mac = createHmac("sha256", Buffer.from(w.secret.replace(/^whsec_/, ""), "base64")).update(w.signedContent, "utf8").digest("base64");
    expect(w.signature).toBe(`v1,${mac}`);
  });
});

// ---------------------------------------------------------------------------------------------

describe("encrypted and signed messages through a real relay (SPEC §5)", () => {
  test("an encrypted, signed message reaches the recipient decrypted and verified; the relay stores only ciphertext", async () => {
    const alice = await agent("e2e_alice");
    const bob = await agent("e2e_bob");
    const secret = { text: "the eagle lands at midnight — Grüße 🦅", n: 7 };
    // Every request the sender's SDK makes (directory lookups, the send) is recorded.
    const outgoing: string[] = [];
    const sender = clientOf(alice, {
      fetch: async (input, init) => {
        outgoing.push(`${String(input)} ${typeof init?.body === "string" ? init.body : ""}`);
        return fetch(input, init);
      },
    });
    const sent = await sender.send({ to: bob.name, payload: secret, encrypt: true, topic: "e2e", type: "request" });
    expect(sent.recipients.map((r) => r.name)).toEqual([bob.name]);
    expect(outgoing.some((line) => line.includes("/messages"))).toBe(true);
    expect(outgoing.filter((line) => line.includes("eagle") || line.includes("🦅"))).toEqual([]);

    const message = await receiveOne(bob.client, sent.id);
    expect(message.plaintext).toEqual(secret);
    expect(message.verified).toBe(true);
    expect(message.legacy).toBeUndefined();
    expect(message.problems).toEqual([]);
    expect(message).toMatchObject({ from: alice.name, to: bob.name, topic: "e2e", type: "request", encrypted: true });

    // What the relay holds and serves is the sealed box, never the text.
    const stored = await http<{ messages: Envelope[] }>("GET", "/messages?sort=asc", bob.apiKey);
    expect(stored.status).toBe(200);
    expect(stored.text).not.toContain("eagle");
    expect(stored.text).not.toContain("🦅");
    const envelope = stored.body.messages.find((m) => m.id === sent.id)!;
    expect(typeof envelope.payload).toBe("string");
    expect(Buffer.from(envelope.payload as string, "base64").length).toBe(Buffer.byteLength(JSON.stringify(secret)) + 16);
    expect(Buffer.from(envelope.nonce!, "base64").length).toBe(24);
    expect(Buffer.from(envelope.signature!, "base64").length).toBe(64);
    expect(envelope.sentAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    const single = await http("GET", `/messages/${sent.id}`, bob.apiKey);
    expect(single.text).not.toContain("eagle");
  });

  test("an encrypted multicast gives each of three recipients its own ciphertext, signed over the whole list", async () => {
    const alice = await agent("mc_alice");
    const recipients = [await agent("mc_bob"), await agent("mc_carol"), await agent("mc_dave")];
    const names = recipients.map((r) => r.name);
    const bodies: SendRequest[] = [];
    const sender = clientOf(alice, { fetch: recordingFetch(bodies, true) });
    const sent = await sender.send({ to: names, payload: { plan: "meet at dawn ☀" }, encrypt: true });
    expect(sent.recipients.map((r) => r.name).sort()).toEqual([...names].sort());

    // One request, one sealed part per recipient, nothing in the clear.
    expect(bodies).toHaveLength(1);
    expect(bodies[0]!.payload).toBeUndefined();
    expect(Object.keys(bodies[0]!.payloads ?? {}).sort()).toEqual([...names].sort());

    const copies: ReceivedMessage[] = [];
    for (const recipient of recipients) {
      const copy = await receiveOne(recipient.client, sent.id);
      expect(copy.plaintext, recipient.name).toEqual({ plan: "meet at dawn ☀" });
      expect(copy.verified, recipient.name).toBe(true);
      expect(copy.problems, recipient.name).toEqual([]);
      expect(copy.to).toEqual(names);
      copies.push(copy);
    }
    expect(new Set(copies.map((c) => c.payload)).size).toBe(3);
    expect(new Set(copies.map((c) => c.nonce)).size).toBe(3);
    for (const [i, copy] of copies.entries()) {
      // The signature covers `to` as the whole list: narrowed to one name, it no longer verifies.
      expect(verifySignature({ ...copy, to: names[i]! }, alice.keys.signingKey)).toBe("invalid");
      expect(verifySignature(copy, alice.keys.signingKey)).toBe("valid");
      // And one copy's signature does not fit another copy.
      const other = copies[(i + 1) % 3]!;
      expect(verifySignature({ ...copy, signature: other.signature! }, alice.keys.signingKey)).toBe("invalid");
    }
  });

  test("a signed plaintext message verifies, and its payload is the plaintext", async () => {
    const alice = await agent("plain_alice");
    const bob = await agent("plain_bob");
    const sent = await alice.client.send({ to: bob.name, payload: { text: "hello in the clear", list: [1, 2] }, correlationId: "c-42" });
    const message = await receiveOne(bob.client, sent.id);
    expect(message).toMatchObject({ encrypted: false, verified: true, problems: [], correlationId: "c-42" });
    expect(message.plaintext).toEqual({ text: "hello in the clear", list: [1, 2] });
    expect(message.signature).toBeDefined();
  });

  test("a client without agentName looks up its registered name and signs as it", async () => {
    const alice = await agent("noname_alice");
    const bob = await agent("noname_bob");
    const anonymous = new ClawTalkClient({ baseUrl: testRelay.url, apiKey: alice.apiKey, keys: alice.keys });
    const sent = await anonymous.send({ to: bob.name, payload: "who am I", encrypt: true });
    const message = await receiveOne(bob.client, sent.id);
    expect(message).toMatchObject({ from: alice.name, plaintext: "who am I", verified: true, problems: [] });
  });

  test("an unsigned message is not verified and not flagged", async () => {
    const alice = await agent("unsig_alice");
    const bob = await agent("unsig_bob");
    // A client with an encryption key but no signing key sends unsigned messages.
    const unsigned = new ClawTalkClient({ baseUrl: testRelay.url, apiKey: alice.apiKey, agentName: alice.name, privateKey: alice.keys.privateKey });
    const encrypted = await unsigned.send({ to: bob.name, payload: "sealed, unsigned", encrypt: true });
    const plain = await postRaw(alice, { to: bob.name, type: "notification", encrypted: false, payload: "plain, unsigned" });

    const first = await receiveOne(bob.client, encrypted.id);
    expect(first.signature).toBeUndefined();
    expect(first).toMatchObject({ verified: false, problems: [], plaintext: "sealed, unsigned" });
    const second = await receiveOne(bob.client, plain.body.id);
    expect(second).toMatchObject({ verified: false, problems: [], plaintext: "plain, unsigned" });
  });

  test("a signature made with another key is flagged bad-signature", async () => {
    const alice = await agent("wrongkey_alice");
    const bob = await agent("wrongkey_bob");
    const impostor = generateKeys();
    const client = clientOf(alice, { signingKey: impostor.signingSecretKey });
    const plain = await client.send({ to: bob.name, payload: "signed by someone else" });
    const sealed = await client.send({ to: bob.name, payload: "sealed, signed by someone else", encrypt: true });

    const first = await receiveOne(bob.client, plain.id);
    expect(first).toMatchObject({ verified: false, problems: ["bad-signature"], plaintext: "signed by someone else" });
    // The box itself is fine (Alice's encryption key): only the signature is wrong.
    const second = await receiveOne(bob.client, sealed.id);
    expect(second).toMatchObject({ verified: false, problems: ["bad-signature"], plaintext: "sealed, signed by someone else" });
  });

  test("a real encrypted envelope with one flipped ciphertext byte is flagged decrypt-failed and bad-signature", async () => {
    const alice = await agent("tamper_alice");
    const bob = await agent("tamper_bob");
    const genuine = await sdkEnvelope(alice, { to: bob.name, payload: { amount: 10 }, encrypt: true });
    expect(genuine).toMatchObject({ encrypted: true, to: bob.name });
    const tampered = { ...genuine, payload: flipByte(genuine.payload as string) };
    await postRaw(alice, tampered);

    const message = await receiveOne(bob.client, genuine.id!);
    expect(message.verified).toBe(false);
    expect([...message.problems].sort()).toEqual(["bad-signature", "decrypt-failed"]);
    expect(message.plaintext).toBeUndefined();
  });

  test("a validly signed message sealed for someone else's key is flagged decrypt-failed only", async () => {
    const alice = await agent("misseal_alice");
    const bob = await agent("misseal_bob");
    const carol = await agent("misseal_carol");
    // Alice seals for Carol's key but addresses (and signs for) Bob.
    const sealed = encrypt("for Carol's eyes", carol.keys.publicKey, alice.keys.privateKey);
    const id = randomUUID();
    const fields = { id, to: bob.name, type: "notification" as const, sentAt: new Date().toISOString(), encrypted: true, ...sealed };
    await postRaw(alice, { ...fields, signature: sign({ ...fields, from: alice.name }, alice.keys.signingSecretKey) });

    const message = await receiveOne(bob.client, id);
    expect(message).toMatchObject({ verified: true, problems: ["decrypt-failed"] });
    expect(message.plaintext).toBeUndefined();
  });

  test("an encrypted message from an agent with no registered keys is flagged decrypt-failed", async () => {
    const keyless = await agent("keyless", { registerKeys: false });
    const bob = await agent("keyless_bob");
    // The sender's SDK has keys, but the directory has none for it: nothing to open or verify with.
    const sent = await keyless.client.send({ to: bob.name, payload: "you cannot open this", encrypt: true });
    const message = await receiveOne(bob.client, sent.id);
    expect(message.verified).toBe(false);
    expect(message.problems).toContain("decrypt-failed");
    expect(message.plaintext).toBeUndefined();
    // Its signature cannot be checked against a missing signingKey either.
    expect(message.problems).toContain("bad-signature");

    // Unsigned (a keyless client), it is decrypt-failed alone.
    const bare = new ClawTalkClient({ baseUrl: testRelay.url, apiKey: keyless.apiKey, agentName: keyless.name });
    const sentRaw = await postRaw(keyless, {
      to: bob.name,
      type: "notification",
      encrypted: true,
      payload: randomBytes(48).toString("base64"),
      nonce: randomBytes(24).toString("base64"),
    });
    expect(await bare.me()).toMatchObject({ name: keyless.name, publicKey: null, signingKey: null });
    const second = await receiveOne(bob.client, sentRaw.body.id);
    expect(second).toMatchObject({ verified: false, problems: ["decrypt-failed"] });
  });

  test("a signed message from an agent removed since is flagged unknown-sender", async () => {
    const ghost = await agent("ghost");
    const bob = await agent("ghost_bob");
    const sent = await ghost.client.send({ to: bob.name, payload: "from beyond", encrypt: true });
    const removed = await http("DELETE", `/agents/${ghost.name}`, testRelay.adminKey);
    expect(removed.status).toBe(204);

    const message = await receiveOne(clientOf(bob), sent.id);
    expect(message.verified).toBe(false);
    expect([...message.problems].sort()).toEqual(["decrypt-failed", "unknown-sender"]);
  });

  test("the same signed envelope stored again after its TTL (the relay forgot the id) is flagged replayed", async () => {
    const alice = await agent("replay_alice");
    const bob = await agent("replay_bob");
    const bodies: SendRequest[] = [];
    const id = randomUUID();
    await clientOf(alice, { fetch: recordingFetch(bodies, true) }).send({ to: bob.name, payload: "pay 10", encrypt: true, id, ttl: 1 });
    const original = await receiveOne(bob.client, id);
    expect(original.problems).toEqual([]);

    // While the relay remembers the id, the identical envelope is an idempotent repeat (200, nothing
    // stored); once the TTL has passed it is accepted as new (201).
    await sleep(1_500);
    const statuses: number[] = [];
    await vi.waitFor(
      async () => {
        const reply = await http("POST", "/messages", alice.apiKey, bodies[0]);
        statuses.push(reply.status);
        expect(reply.status, "the relay to accept the replayed id").toBe(201);
      },
      { timeout: WAIT_MS, interval: 100 },
    );
    expect(statuses.filter((s) => s !== 200 && s !== 201)).toEqual([]);

    const page = await bob.client.receive({ limit: 100 });
    const replayed = page.messages.filter((m) => m.id === id && m.ts !== original.ts);
    expect(replayed).toHaveLength(1);
    expect(replayed[0]!.problems).toEqual(["replayed"]);
    // The signature is genuine: that is what makes it a replay, not a forgery.
    expect(replayed[0]).toMatchObject({ verified: true, plaintext: "pay 10" });
  });

  test("a problem in one message never aborts the batch", async () => {
    const alice = await agent("batch_alice");
    const bob = await agent("batch_bob");
    const good1 = await alice.client.send({ to: bob.name, payload: "first, fine", encrypt: true });
    const genuine = await sdkEnvelope(alice, { to: bob.name, payload: "second, tampered", encrypt: true });
    await postRaw(alice, { ...genuine, payload: flipByte(genuine.payload as string) });
    const good2 = await alice.client.send({ to: bob.name, payload: "third, fine" });

    const page = await bob.client.receive();
    expect(page.messages.map((m) => m.id)).toEqual([good1.id, genuine.id, good2.id]);
    const [first, second, third] = page.messages;
    expect(first).toMatchObject({ plaintext: "first, fine", verified: true, problems: [] });
    expect([...second!.problems].sort()).toEqual(["bad-signature", "decrypt-failed"]);
    expect(third).toMatchObject({ plaintext: "third, fine", verified: true, problems: [] });
  });

  test("after the sender rotates its keys and its API key, a receiver with cached keys still verifies and decrypts", async () => {
    const alice = await agent("rot_alice");
    const bob = await agent("rot_bob");
    const before = await alice.client.send({ to: bob.name, payload: "before rotation", encrypt: true });
    expect(await receiveOne(bob.client, before.id)).toMatchObject({ verified: true, problems: [] }); // Bob caches Alice's keys

    const oldApiKey = alice.apiKey;
    const newApiKey = await alice.client.rotateKey();
    expect(newApiKey).toMatch(/^ct_/);
    expect(alice.client.key).toBe(newApiKey);
    expect((await http("GET", "/agents/me", oldApiKey)).status).toBe(401);
    // New keys, the change signed with the old signing key (SPEC §12).
    const newKeys = await alice.client.rotateKeys();

    const rotated = clientOf({ name: alice.name, apiKey: newApiKey, keys: newKeys });
    const after = await rotated.send({ to: bob.name, payload: { text: "after rotation" }, encrypt: true });
    const message = await receiveOne(bob.client, after.id);
    expect(message).toMatchObject({ verified: true, problems: [], plaintext: { text: "after rotation" } });
  });

  test("after the sender rotates only its encryption key, a receiver with cached keys still decrypts", async () => {
    const alice = await agent("rotenc_alice");
    const bob = await agent("rotenc_bob");
    const before = await alice.client.send({ to: bob.name, payload: "before", encrypt: true });
    expect(await receiveOne(bob.client, before.id)).toMatchObject({ problems: [] }); // Bob caches Alice's keys

    const fresh = generateKeys();
    const change = { publicKey: fresh.publicKey, signingKey: alice.keys.signingKey };
    await alice.client.request("PATCH", "/agents/me", { ...change, keyChangeSignature: signKeyChange(alice.name, change, alice.keys.signingSecretKey) });
    const rotated = clientOf(alice, { keys: { ...alice.keys, publicKey: fresh.publicKey, privateKey: fresh.privateKey } });
    const after = await rotated.send({ to: bob.name, payload: "after a new encryption key", encrypt: true });
    const message = await receiveOne(bob.client, after.id);
    expect(message).toMatchObject({ verified: true, problems: [], plaintext: "after a new encryption key" });
  });

  test("the original client's signature form verifies as legacy: with ttl, signed without ttl, and sent without ttl", async () => {
    const alice = await agent("legacy_alice");
    const bob = await agent("legacy_bob");
    // Signed with node:crypto over the original client's JSON.stringify form, independent of the SDK.
    const privateKey = ed25519PrivateKey(alice.keys.signingSecretKey);
    const legacySign = (fields: object) => ed25519Sign(null, Buffer.from(JSON.stringify(fields), "utf8"), privateKey).toString("base64");
    const sealed = encrypt({ order: "legacy ✓" }, bob.keys.publicKey, alice.keys.privateKey);

    const withTtl = { to: bob.name, type: "request", topic: "legacy", correlationId: "c-1", ttl: 3600, encrypted: true, payload: sealed.payload, nonce: sealed.nonce };
    const signedWithoutTtl = { to: bob.name, type: "notification", topic: "legacy", encrypted: false, payload: "ttl sent, not signed" };
    const noTtl = { to: bob.name, type: "notification", encrypted: false, payload: { note: "no ttl at all" } };
    const ids = [
      (await postRaw(alice, { ...withTtl, signature: legacySign(withTtl) })).body.id,
      (await postRaw(alice, { ...signedWithoutTtl, ttl: 7200, signature: legacySign(signedWithoutTtl) })).body.id,
      (await postRaw(alice, { ...noTtl, signature: legacySign(noTtl) })).body.id,
    ];

    const page = await bob.client.receive();
    expect(page.messages.map((m) => m.id)).toEqual(ids);
    const expected: JsonValue[] = [{ order: "legacy ✓" }, "ttl sent, not signed", { note: "no ttl at all" }];
    page.messages.forEach((message, i) => {
      expect(message, `message ${i}`).toMatchObject({ verified: true, legacy: true, problems: [], plaintext: expected[i] });
    });
    // A legacy signature over other content is still bad.
    const forged = await postRaw(alice, { ...noTtl, payload: { note: "changed" }, signature: legacySign(noTtl) });
    expect(await receiveOne(bob.client, forged.body.id)).toMatchObject({ verified: false, problems: ["bad-signature"] });
  });
});

describe("client basics", () => {
  test("discover lists agents with their public keys, and one agent by name", async () => {
    const alice = await agent("disc_alice");
    const bob = await agent("disc_bob");
    const all = await alice.client.discover();
    expect(all.find((a) => a.name === bob.name)).toMatchObject({ publicKey: bob.keys.publicKey, signingKey: bob.keys.signingKey });
    expect(await alice.client.discover(bob.name)).toMatchObject({ name: bob.name, publicKey: bob.keys.publicKey });
  });

  test("errors are ClawTalkErrors with the relay's status and code; nothing is sent", async () => {
    const alice = await agent("err_alice");
    const missing = `nobody_${randomBytes(4).toString("hex")}`;
    const error = await alice.client.send({ to: missing, payload: "hello?" }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ClawTalkError);
    expect(error).toMatchObject({ status: 404, code: "UNKNOWN_RECIPIENT" });
    expect((error as ClawTalkError).body.names).toEqual([missing]);
    // Encrypting needs the recipient's key, and a broadcast has no single key.
    const keyless = await agent("err_keyless", { registerKeys: false });
    await expect(alice.client.send({ to: keyless.name, payload: "x", encrypt: true })).rejects.toThrow(/no publicKey/);
    await expect(alice.client.send({ to: "broadcast", payload: "x", encrypt: true })).rejects.toThrow(/broadcast/);
    expect((await keyless.client.receive()).messages).toEqual([]);
  });

  test("ack deletes handled messages and reports the ids it did not find", async () => {
    const alice = await agent("ack_alice");
    const bob = await agent("ack_bob");
    const sent = await alice.client.send({ to: bob.name, payload: "ack me" });
    const unknown = randomUUID();
    expect(await bob.client.ack([sent.id, unknown])).toEqual({ deleted: [sent.id], missing: [unknown] });
    expect((await bob.client.receive()).messages).toEqual([]);
  });
});

// ---------------------------------------------------------------------------------------------

describe("verifyWebhook against real relay deliveries (SPEC §4.4)", () => {
  async function deliveryOf(path: string, messageId: string): Promise<WebhookRequest> {
    return vi.waitFor(
      () => {
        const delivery = hookRequests.find((r) => r.path === path && r.body.includes(messageId));
        expect(delivery, `the webhook delivery of ${messageId}`).toBeDefined();
        return delivery!;
      },
      { timeout: WAIT_MS, interval: 100 },
    );
  }

  test("a real delivery verifies; a changed body, a wrong secret and an old timestamp do not", async () => {
    const path = `/hook/${randomBytes(6).toString("hex")}`;
    const bob = await agent("hook_bob", { webhookUrl: `${hookBase}${path}` });
    const alice = await agent("hook_alice");
    const sent = await alice.client.send({ to: bob.name, payload: { text: "pushed to you" }, encrypt: true });
    const delivery = await deliveryOf(path, sent.id);

    expect(await verifyWebhook(delivery.headers, delivery.body, bob.webhookSecret)).toBe(true);
    expect(await verifyWebhook(new Headers(delivery.headers as Record<string, string>), delivery.body, bob.webhookSecret)).toBe(true);
    // The receiver can open what it was pushed.
    const opened = await bob.client.open(JSON.parse(delivery.body) as Envelope);
    expect(opened).toMatchObject({ id: sent.id, plaintext: { text: "pushed to you" }, verified: true, problems: [] });

    const changed = delivery.body.replace(`"to":"${bob.name}"`, `"to":"${alice.name}"`);
    expect(changed).not.toBe(delivery.body);
    expect(await verifyWebhook(delivery.headers, changed, bob.webhookSecret)).toBe(false);
    expect(await verifyWebhook(delivery.headers, delivery.body, alice.webhookSecret)).toBe(false);
    const timestampMs = Number(delivery.headers["webhook-timestamp"]) * 1000;
    expect(await verifyWebhook(delivery.headers, delivery.body, bob.webhookSecret, { now: timestampMs + 10 * 60_000 })).toBe(false);
    expect(await verifyWebhook(delivery.headers, delivery.body, bob.webhookSecret, { now: timestampMs + 60_000, toleranceS: 30 })).toBe(false);
    expect(await verifyWebhook(delivery.headers, delivery.body, bob.webhookSecret, { now: timestampMs + 60_000, toleranceS: 120 })).toBe(true);
  });

  test("during a secret rotation, deliveries verify with the new secret and with the old one", async () => {
    const path = `/hook/${randomBytes(6).toString("hex")}`;
    const bob = await agent("hookrot_bob", { webhookUrl: `${hookBase}${path}` });
    const alice = await agent("hookrot_alice");
    const rotated = await bob.client.request<{ webhookSecret: string }>("POST", "/agents/me/webhook/rotate-secret");
    expect(rotated.webhookSecret).toMatch(/^whsec_/);
    expect(rotated.webhookSecret).not.toBe(bob.webhookSecret);

    const sent = await alice.client.send({ to: bob.name, payload: "after the rotation" });
    const delivery = await deliveryOf(path, sent.id);
    expect(String(delivery.headers["webhook-signature"]).split(" ")).toHaveLength(2);
    expect(await verifyWebhook(delivery.headers, delivery.body, rotated.webhookSecret)).toBe(true);
    expect(await verifyWebhook(delivery.headers, delivery.body, bob.webhookSecret)).toBe(true);
    expect(await verifyWebhook(delivery.headers, delivery.body, [bob.webhookSecret, rotated.webhookSecret])).toBe(true);
    expect(await verifyWebhook(delivery.headers, delivery.body, alice.webhookSecret)).toBe(false);
  });

  test("testWebhook's event verifies too, and deliveries() lists the attempts", async () => {
    const path = `/hook/${randomBytes(6).toString("hex")}`;
    const bob = await agent("hooktest_bob", { webhookUrl: `${hookBase}${path}` });
    const result = await bob.client.testWebhook();
    expect(result).toMatchObject({ ok: true, status: 200 });
    const delivery = await vi.waitFor(
      () => {
        const event = hookRequests.find((r) => r.path === path && r.headers["webhook-id"] === result.webhookId);
        expect(event, "the test event").toBeDefined();
        return event!;
      },
      { timeout: WAIT_MS, interval: 100 },
    );
    expect(await verifyWebhook(delivery.headers, delivery.body, bob.webhookSecret)).toBe(true);
    const attempts = await vi.waitFor(
      async () => {
        const list = await bob.client.deliveries({ limit: 10 });
        expect(list.map((a) => a.webhookId), "the attempt log").toContain(result.webhookId);
        return list;
      },
      { timeout: WAIT_MS, interval: 100 },
    );
    expect(attempts.find((a) => a.webhookId === result.webhookId)).toMatchObject({ agent: bob.name, status: 200, outcome: "test" });
  });
});

// ---------------------------------------------------------------------------------------------

describe("watch (SPEC §6): long-poll loop with a cursor and de-duplication", () => {
  /** Runs a watch in the background, collecting messages; `stopWhen` aborts it. */
  function watching(client: ClawTalkClient, options: WatchOptions, stopWhen: (m: ReceivedMessage) => boolean) {
    const controller = new AbortController();
    const seen: ReceivedMessage[] = [];
    const done = (async () => {
      for await (const message of client.watch({ ...options, signal: controller.signal })) {
        seen.push(message);
        if (stopWhen(message)) controller.abort();
      }
    })();
    return { seen, controller, done };
  }

  const texts = (messages: ReceivedMessage[]) => messages.map((m) => m.plaintext);

  test("yields each message exactly once, oldest first, decrypted, and saves the cursor", async () => {
    const alice = await agent("watch_alice");
    const bob = await agent("watch_bob");
    for (const text of ["m1", "m2", "m3"]) await alice.client.send({ to: bob.name, payload: text, encrypt: true });
    const store = memoryStore();
    const run = watching(bob.client, { cursor: store, wait: 5 }, (m) => m.plaintext === "end");
    for (const text of ["m4", "m5", "m6"]) await alice.client.send({ to: bob.name, payload: text, encrypt: true });
    await alice.client.send({ to: bob.name, payload: "end" });
    await within(run.done, WAIT_MS, "watch to reach the last message");

    expect(texts(run.seen)).toEqual(["m1", "m2", "m3", "m4", "m5", "m6", "end"]);
    expect(new Set(run.seen.map((m) => m.id)).size).toBe(7);
    expect(run.seen.every((m) => m.verified && m.problems.length === 0)).toBe(true);
    expect(store.value).toBe(run.seen.at(-1)!.ts);
  });

  test("resumes from a file-backed cursor after being stopped, with no repeat and no gap", async () => {
    const alice = await agent("resume_alice");
    const bob = await agent("resume_bob");
    const dir = scratch.make("clawtalk-cursor-");
    const cursorFile = join(dir, "cursor");
    for (const text of ["m1", "m2", "m3"]) await alice.client.send({ to: bob.name, payload: text });

    // Stopped (abort) right after handling m2, though m3 was in the same page.
    const first = watching(clientOf(bob), { cursor: fileStore(cursorFile), wait: 5 }, (m) => m.plaintext === "m2");
    await within(first.done, WAIT_MS, "the first watch to stop");
    expect(texts(first.seen)).toEqual(["m1", "m2"]);
    expect(readFileSync(cursorFile, "utf8")).toBe(first.seen[1]!.ts);

    for (const text of ["m4", "m5"]) await alice.client.send({ to: bob.name, payload: text });
    // A new process: a new client (no memory of what it saw), the same cursor file.
    const second = watching(clientOf(bob), { cursor: fileStore(cursorFile), wait: 5 }, (m) => m.plaintext === "end");
    await vi.waitFor(() => expect(second.seen.length, "messages the resumed watch caught up with").toBeGreaterThanOrEqual(3), {
      timeout: WAIT_MS,
      interval: 100,
    });
    await alice.client.send({ to: bob.name, payload: "m6" });
    await alice.client.send({ to: bob.name, payload: "end" });
    await within(second.done, WAIT_MS, "the second watch to reach the last message");
    expect(texts(second.seen)).toEqual(["m3", "m4", "m5", "m6", "end"]);
  });

  test("stops promptly when its AbortSignal aborts during a long-poll, and at once if already aborted", async () => {
    const bob = await agent("abort_bob");
    const controller = new AbortController();
    const seen: ReceivedMessage[] = [];
    const done = (async () => {
      // Default wait: a 30 s long-poll is held when the abort comes.
      for await (const message of bob.client.watch({ signal: controller.signal })) seen.push(message);
    })();
    await sleep(500);
    controller.abort();
    await within(done, 10_000, "watch to stop after the abort");
    expect(seen).toEqual([]);

    const aborted = AbortSignal.abort();
    const iterator = bob.client.watch({ signal: aborted });
    expect(await within(iterator.next(), 5_000, "an aborted watch")).toEqual({ done: true, value: undefined });
  });

  test("backs off while the relay is down and delivers new messages after it restarts on the same state", async () => {
    const alice = await agent("outage_alice");
    const bob = await agent("outage_bob");
    const retries: number[] = [];
    const run = watching(bob.client, { cursor: memoryStore(), wait: 5, onError: (_error, retryInMs) => retries.push(retryInMs) }, (m) => m.plaintext === "after");
    let stopped = false;
    try {
      await alice.client.send({ to: bob.name, payload: "before", encrypt: true });
      await vi.waitFor(() => expect(run.seen.length, "messages seen").toBe(1), { timeout: WAIT_MS, interval: 100 });

      stopped = true;
      await testRelay.relay.stop();
      await vi.waitFor(() => expect(retries.length, "failed polls reported").toBeGreaterThanOrEqual(2), { timeout: WAIT_MS, interval: 100 });
      await testRelay.start();
      stopped = false;
      await alice.client.send({ to: bob.name, payload: "after", encrypt: true });
      await within(run.done, 90_000, "watch to recover and deliver the message sent after the restart");
    } finally {
      run.controller.abort();
      // A failure while the relay was down must not leave it down for the tests after this one.
      if (stopped) await testRelay.start();
    }

    expect(texts(run.seen)).toEqual(["before", "after"]);
    expect(run.seen.every((m) => m.verified && m.problems.length === 0)).toBe(true);
    // Exponential backoff from 1 s, doubling, capped at 30 s.
    expect(retries[0]).toBe(1000);
    retries.slice(1).forEach((delay, i) => expect(delay).toBe(Math.min(retries[i]! * 2, 30_000)));
  }, 180_000);
});
