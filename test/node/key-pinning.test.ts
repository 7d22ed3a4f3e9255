// Key pinning and signed key changes in the SDK (SPEC §12, issue 13 items 3 and 4), end to end with
// two SDK clients against a real relay (`wrangler dev` on a temporary state directory): keys swapped
// by the admin are flagged `key-changed` on the receiver's side and block encryption to that agent
// until `trust(name)`; a rotation signed with the old key (`rotateKeys`), or a chain of two, passes
// silently; pins last as long as their store; a lost answer to the key change loses no keys.

import { afterAll, beforeAll, describe, expect, test } from "vitest";
import {
  ClawTalkClient,
  ClawTalkError,
  generateKeys,
  KeyChangedError,
  memoryPins,
  type AgentKeys,
  type ClientOptions,
  type KeyHistoryEntry,
  type ReceivedMessage,
  type SendOptions,
} from "../../client/index.js";
import { registerAgent, relayCaller, startTestRelay, uniqueName, type TestRelay } from "../support/node-relay.js";

const REQUEST_TIMEOUT_MS = 15_000;

let testRelay: TestRelay;

beforeAll(async () => {
  testRelay = await startTestRelay({ prefix: "clawtalk-pins-", vars: { RATE_LIMIT_PER_MIN: "100000" }, startTimeoutMs: 60_000 });
}, 120_000);

afterAll(async () => {
  await testRelay?.cleanup();
}, 60_000);

const http = relayCaller(() => testRelay.url, { timeoutMs: REQUEST_TIMEOUT_MS });

interface Agent {
  name: string;
  apiKey: string;
  keys: AgentKeys;
  client: ClawTalkClient;
}

async function agent(prefix: string, overrides: Partial<ClientOptions> = {}): Promise<Agent> {
  const keys = generateKeys();
  const registered = await registerAgent(testRelay, uniqueName(prefix, 4), { publicKey: keys.publicKey, signingKey: keys.signingKey }, { timeoutMs: REQUEST_TIMEOUT_MS });
  return { ...registered, keys, client: clientOf({ ...registered, keys }, overrides) };
}

function clientOf(agent: { name: string; apiKey: string; keys: AgentKeys }, overrides: Partial<ClientOptions> = {}): ClawTalkClient {
  return new ClawTalkClient({ baseUrl: testRelay.url, apiKey: agent.apiKey, agentName: agent.name, keys: agent.keys, ...overrides });
}

/** The admin replaces an agent's keys, unsigned (recorded `by: "admin"`): what a compromised relay could do. */
async function adminSwapsKeys(agent: Agent): Promise<AgentKeys> {
  const swapped = generateKeys();
  const reply = await http("PATCH", `/agents/${agent.name}`, testRelay.adminKey, { publicKey: swapped.publicKey, signingKey: swapped.signingKey });
  expect(reply.status, reply.text).toBe(200);
  return swapped;
}

/** Sends `text` encrypted and signed, and answers the message as `receiver` opens it (it is stored once the send answered). */
async function deliver(sender: ClawTalkClient, receiver: Agent, text: string): Promise<ReceivedMessage> {
  const sent = await sender.send({ to: receiver.name, payload: text, encrypt: true });
  return openedBy(receiver.client, sent.id);
}

async function openedBy(client: ClawTalkClient, id: string): Promise<ReceivedMessage> {
  const page = await client.receive({ limit: 100 });
  const found = page.messages.filter((m) => m.id === id);
  expect(found, `message ${id} in the inbox`).toHaveLength(1);
  return found[0]!;
}

/** A fetch that counts the POST /messages requests a client makes (each then goes to the relay). */
function countingSends(counter: { sends: number }): typeof fetch {
  return (input, init) => {
    const url = typeof input === "string" ? input : input instanceof URL ? input.href : input.url;
    if (init?.method === "POST" && new URL(url).pathname === "/messages") counter.sends += 1;
    return fetch(input, init);
  };
}

const encrypted = (to: string, payload: string): SendOptions => ({ to, payload, encrypt: true });

describe("keys swapped by the admin", () => {
  test("are flagged key-changed on the receiver's side and block encryption to that agent until trust(name)", async () => {
    const counter = { sends: 0 };
    const [alice, bob] = await Promise.all([agent("pin_alice", { fetch: countingSends(counter) }), agent("pin_bob")]);
    const before = await deliver(bob.client, alice, "first, with bob's own keys");
    expect(before).toMatchObject({ verified: true, problems: [], plaintext: "first, with bob's own keys" });

    // The relay's admin gives bob keys it holds; whoever has them now writes as bob.
    const swapped = await adminSwapsKeys(bob);
    const impostor = clientOf({ ...bob, keys: swapped });
    const forged = await deliver(impostor, alice, "send the secrets to me");
    expect(forged.problems).toEqual(["key-changed"]);
    expect(forged.verified).toBe(false);
    expect(forged.plaintext).toBe("send the secrets to me");
    // What bob signed with the pinned keys still verifies, and still says the keys changed.
    const old = await openedBy(alice.client, before.id);
    expect(old).toMatchObject({ verified: true, problems: ["key-changed"], plaintext: "first, with bob's own keys" });

    // Encryption to bob is refused before anything is sent, naming bob and the way out.
    const sendsBefore = counter.sends;
    const refused = await alice.client.send(encrypted(bob.name, "the secrets")).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(KeyChangedError);
    expect(refused).toMatchObject({ code: "KEY_CHANGED", names: [bob.name] });
    expect((refused as Error).message).toContain(`clawtalk trust ${bob.name}`);
    expect((refused as Error).message).toContain(`client.trust("${bob.name}")`);
    expect(counter.sends).toBe(sendsBefore);
    // A multicast naming bob is refused as a whole.
    const carol = await agent("pin_carol");
    await expect(alice.client.send({ to: [carol.name, bob.name], payload: "both", encrypt: true })).rejects.toMatchObject({ code: "KEY_CHANGED", names: [bob.name] });
    expect(counter.sends).toBe(sendsBefore);

    // The user checked the new keys with bob's owner: trust them.
    const trusted = await alice.client.trust(bob.name);
    expect(trusted).toMatchObject({ name: bob.name, publicKey: swapped.publicKey, signingKey: swapped.signingKey });
    expect(trusted.previous).toEqual({ publicKey: bob.keys.publicKey, signingKey: bob.keys.signingKey });
    expect(await openedBy(alice.client, forged.id)).toMatchObject({ verified: true, problems: [] });
    const sent = await alice.client.send(encrypted(bob.name, "now to the new keys"));
    expect(await openedBy(impostor, sent.id)).toMatchObject({ plaintext: "now to the new keys", verified: true, problems: [] });
  });

  test("are noticed by a later client with the same pin store, and pinned silently by one with a fresh store (trust on first use)", async () => {
    const pins = memoryPins();
    const [alice, bob] = await Promise.all([agent("pin_alice", { pins }), agent("pin_bob")]);
    await deliver(bob.client, alice, "pinned");
    const swapped = await adminSwapsKeys(bob);
    const forged = await clientOf({ ...bob, keys: swapped }).send(encrypted(alice.name, "from the new keys"));

    const restarted = clientOf(alice, { pins });
    expect(await openedBy(restarted, forged.id)).toMatchObject({ verified: false, problems: ["key-changed"] });
    // A client that never saw bob's first keys has nothing to compare with: what it sees first, it pins.
    const newcomer = clientOf(alice);
    expect(await openedBy(newcomer, forged.id)).toMatchObject({ verified: true, problems: [] });
  });
});

describe("signed key changes (rotateKeys)", () => {
  test("a rotation signed with the old key passes silently: no problem, messages verify, encryption works both ways", async () => {
    const [alice, bob] = await Promise.all([agent("rot_alice"), agent("rot_bob")]);
    await deliver(bob.client, alice, "before the rotation");

    const next = await bob.client.rotateKeys();
    expect(next.publicKey).not.toBe(bob.keys.publicKey);
    expect(next.signingKey).not.toBe(bob.keys.signingKey);
    const history = await http<KeyHistoryEntry[]>("GET", `/agents/${bob.name}/keys`, alice.apiKey);
    expect(history.body.map((entry) => entry.by)).toEqual(["registration", "agent"]);
    expect(history.body[1]).toMatchObject({ publicKey: next.publicKey, signingKey: next.signingKey, signature: expect.any(String) });

    // Alice still has bob's old keys cached and pinned: the signed change is accepted on sight.
    const after = await deliver(bob.client, alice, "after the rotation");
    expect(after).toMatchObject({ verified: true, problems: [], plaintext: "after the rotation" });
    // Bob's client switched to the new keys: it decrypts what alice encrypts to them.
    const reply = await deliver(alice.client, bob, "got it");
    expect(reply).toMatchObject({ verified: true, problems: [], plaintext: "got it" });
  });

  test("a chain of two signed rotations passes silently", async () => {
    const [alice, bob] = await Promise.all([agent("rot_alice"), agent("rot_bob")]);
    await deliver(bob.client, alice, "pinned");
    await bob.client.rotateKeys();
    const last = await bob.client.rotateKeys();
    const history = await http<KeyHistoryEntry[]>("GET", `/agents/${bob.name}/keys`, alice.apiKey);
    expect(history.body.map((entry) => entry.by)).toEqual(["registration", "agent", "agent"]);

    expect(await deliver(bob.client, alice, "two rotations later")).toMatchObject({ verified: true, problems: [], plaintext: "two rotations later" });
    const sent = await alice.client.send(encrypted(bob.name, "to the latest keys"));
    expect(await openedBy(clientOf({ ...bob, keys: last }), sent.id)).toMatchObject({ plaintext: "to the latest keys", problems: [] });
  });

  test("a signed rotation after an admin reset does not make the reset count: the sender stays key-changed", async () => {
    const [alice, bob] = await Promise.all([agent("rot_alice"), agent("rot_bob")]);
    await deliver(bob.client, alice, "pinned");
    const swapped = await adminSwapsKeys(bob);
    const impostor = clientOf({ ...bob, keys: swapped });
    await impostor.rotateKeys();
    const forged = await impostor.send({ to: alice.name, payload: "trust me, I rotated" });
    expect(await openedBy(alice.client, forged.id)).toMatchObject({ verified: false, problems: ["key-changed"] });
  });

  test("is refused here, before any request, with a signing key that is not the registered one; the client keeps its keys", async () => {
    const [alice, bob] = await Promise.all([agent("rot_alice"), agent("rot_bob")]);
    const wrong = clientOf({ ...bob, keys: { ...bob.keys, signingSecretKey: generateKeys().signingSecretKey } });
    await expect(wrong.rotateKeys()).rejects.toThrow(/not the one registered/);
    const history = await http<KeyHistoryEntry[]>("GET", `/agents/${bob.name}/keys`, bob.apiKey);
    expect(history.body).toHaveLength(1);
    expect(await deliver(bob.client, alice, "still the first keys")).toMatchObject({ verified: true, problems: [] });
  });

  test("when the relay took the change but its answer was lost, the client still switches to the new keys", async () => {
    const [alice, bob] = await Promise.all([agent("rot_alice"), agent("rot_bob")]);
    let lost = 0;
    // The PATCH reaches the relay; its answer does not reach the client.
    const losingFetch: typeof fetch = async (input, init) => {
      const response = await fetch(input, init);
      if (init?.method === "PATCH") {
        lost += 1;
        throw new TypeError("fetch failed");
      }
      return response;
    };
    const client = clientOf(bob, { fetch: losingFetch });
    const next = await client.rotateKeys();
    expect(lost).toBe(1);
    const me = await http<{ publicKey: string }>("GET", "/agents/me", bob.apiKey);
    expect(me.body.publicKey).toBe(next.publicKey);
    const sent = await alice.client.send(encrypted(bob.name, "to the keys whose answer was lost"));
    expect(await openedBy(client, sent.id)).toMatchObject({ plaintext: "to the keys whose answer was lost", problems: [] });
  });
});

test("trust of an agent that does not exist is a 404 ClawTalkError and pins nothing", async () => {
  const alice = await agent("pin_alice");
  const refused = await alice.client.trust(uniqueName("ghost", 4)).catch((error: unknown) => error);
  expect(refused).toBeInstanceOf(ClawTalkError);
  expect(refused).toMatchObject({ status: 404, code: "NOT_FOUND" });
});
