// Presence (SPEC §4.3): any authenticated request of an agent updates its `lastSeen`; `online`
// is lastSeen within 5 minutes. The agent's own view is exact at once; the directory's view
// (GET /agents, other agents' GET /agents/:name) is pushed by the agent's inbox in batches, at
// once when its last push is over a minute old — so an agent's first request shows up quickly.
// Later pushes wait out the 60 s interval, which these tests do not: each uses fresh agents.

import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import type { AgentPrivate, AgentPublic, MessagePage } from "../../protocol/envelope.js";
import { ADMIN_KEY, call, inbox, register, send, textMessage, type Reply, type TestAgent } from "../support/relay.js";

const ISO_MS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
/** Slack for clocks read in different places of the runtime. */
const SKEW_MS = 1000;

async function directoryRecord(name: string, key = ADMIN_KEY): Promise<AgentPublic | undefined> {
  const reply = await call<AgentPublic[]>("GET", "/agents", { key });
  expect(reply.status).toBe(200);
  return reply.body.find((record) => record.name === name);
}

/** Waits until the directory's view (as `key` sees it) shows the agent seen. */
function seenInDirectory(name: string, key = ADMIN_KEY): Promise<AgentPublic> {
  return vi.waitFor(
    async () => {
      const record = await directoryRecord(name, key);
      expect(record?.lastSeen, `${name} seen in GET /agents`).toEqual(expect.any(String));
      return record!;
    },
    { timeout: 10_000, interval: 50 },
  );
}

/**
 * What the agent's own Inbox object knows of its presence: when it was last seen, and whether a
 * push to the directory is due. The directory learns of an agent only from these pushes.
 */
function presenceInInbox(agent: TestAgent): Promise<{ lastSeen: number | null; presenceDueAt: number | null }> {
  return runInDurableObject(env.INBOX.getByName(agent.name.toLowerCase()), (instance) => {
    const { views } = instance as unknown as { views: { lastSeen: number | null; presenceDueAt: number | null } };
    return { lastSeen: views.lastSeen, presenceDueAt: views.presenceDueAt };
  });
}

function expectSeenSince(record: AgentPublic | undefined, since: number): void {
  expect(record?.online).toBe(true);
  expect(record?.lastSeen).toMatch(ISO_MS);
  const lastSeen = Date.parse(record!.lastSeen!);
  expect(lastSeen).toBeGreaterThanOrEqual(since - SKEW_MS);
  expect(lastSeen).toBeLessThanOrEqual(Date.now() + SKEW_MS);
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The first authenticated request an agent makes, one of each kind the spec names. */
const FIRST_REQUESTS: [string, (agent: TestAgent, peer: TestAgent) => Promise<Reply>, number][] = [
  ["a send", (agent, peer) => send(agent, textMessage(peer.name, "hi")), 201],
  ["a poll", (agent) => inbox(agent), 200],
  ["an ack", (agent) => call("POST", "/messages/ack", { key: agent.apiKey, json: { ids: [crypto.randomUUID()] } }), 200],
  ["a delete of one message", (agent) => call("DELETE", `/messages/${crypto.randomUUID()}`, { key: agent.apiKey }), 404],
  ["a patch of its record", (agent) => call("PATCH", "/agents/me", { key: agent.apiKey, json: { capabilities: ["p"] } }), 200],
  ["a directory read", (agent) => call("GET", "/agents", { key: agent.apiKey }), 200],
  ["a channels read", (agent) => call("GET", "/channels", { key: agent.apiKey }), 200],
];

describe("an agent never seen", () => {
  it("is offline with lastSeen null", async () => {
    const agent = await register("unseen");
    const listed = await directoryRecord(agent.name);
    expect(listed).toMatchObject({ online: false, lastSeen: null });
    const one = await call("GET", `/agents/${agent.name}`, { key: ADMIN_KEY });
    expect(one.body).toMatchObject({ online: false, lastSeen: null });
  });

  it("is not marked seen by receiving messages or by the admin's actions on it", async () => {
    const quiet = await register("quiet");
    const peer = await register("chatty");
    expect((await send(peer, textMessage(quiet.name, "are you there?"))).status).toBe(201);
    expect((await call("PATCH", `/agents/${quiet.name}`, { key: ADMIN_KEY, json: { capabilities: ["x"] } })).status).toBe(200);
    expect((await call("POST", `/agents/${quiet.name}/webhook/rotate-secret`, { key: ADMIN_KEY })).status).toBe(200);
    // The quiet agent's inbox handled all of that and never marked it seen, so it has nothing to
    // push to the directory: its view can only stay as it is.
    expect(await presenceInInbox(quiet)).toEqual({ lastSeen: null, presenceDueAt: null });
    // The sender's own presence did reach the directory meanwhile.
    await seenInDirectory(peer.name);
    expect(await directoryRecord(quiet.name)).toMatchObject({ online: false, lastSeen: null });
  });
});

describe("lastSeen after an authenticated request", () => {
  it.each(FIRST_REQUESTS)("is updated by %s and reaches the directory's view", async (_what, request, status) => {
    const agent = await register("seen");
    const peer = await register("peer");
    const before = Date.now();
    const reply = await request(agent, peer);
    expect(reply.status, reply.text).toBe(status);
    expectSeenSince(await seenInDirectory(agent.name), before);
    // Other agents see the same public record.
    const asPeer = await call<AgentPublic>("GET", `/agents/${agent.name}`, { key: peer.apiKey });
    expectSeenSince(asPeer.body, before);
  });

  it("is shown at once on the agent's own GET /agents/me and in its own GET /agents", async () => {
    const agent = await register("self");
    const peer = await register("peer");
    const before = Date.now();
    expect((await send(agent, textMessage(peer.name, "x"))).status).toBe(201);
    const me = await call<AgentPrivate>("GET", "/agents/me", { key: agent.apiKey });
    expect(me.status).toBe(200);
    expectSeenSince(me.body, before);
    const own = await directoryRecord(agent.name, agent.apiKey);
    expectSeenSince(own, before);
  });

  it("moves forward with each request on the agent's own view", async () => {
    const agent = await register("moving");
    const first = await call<AgentPrivate>("GET", "/agents/me", { key: agent.apiKey });
    await pause(25);
    expect((await inbox(agent)).status).toBe(200);
    const second = await call<AgentPrivate>("GET", "/agents/me", { key: agent.apiKey });
    expect(Date.parse(second.body.lastSeen!)).toBeGreaterThan(Date.parse(first.body.lastSeen!));
    expect(second.body.online).toBe(true);
  });

  it("is updated while a long-poll is held", async () => {
    const agent = await register("waiter");
    const peer = await register("waker");
    const before = Date.now();
    let answered = false;
    const held = inbox<MessagePage>(agent, "wait=10&sort=asc").finally(() => (answered = true));
    // The directory shows the agent online while the long-poll is still held.
    expectSeenSince(await seenInDirectory(agent.name), before);
    expect(answered, "the long-poll answered before any message arrived").toBe(false);
    expect((await send(peer, textMessage(agent.name, "wake up"))).status).toBe(201);
    const woke = await held;
    expect(woke.status).toBe(200);
    expect(woke.body.messages.map((m) => m.payload)).toEqual(["wake up"]);
  });

  it("is not updated by a request with an invalid key", async () => {
    const agent = await register("guarded");
    const rotated = await call("POST", `/agents/${agent.name}/rotate-key`, { key: ADMIN_KEY });
    expect(rotated.status).toBe(200);
    expect((await inbox(agent)).status).toBe(401); // the old key
    expect((await call("GET", "/agents/me", { key: agent.apiKey })).status).toBe(401);
    // Refused in the agent's inbox, which therefore never marked it seen (nothing to push).
    expect(await presenceInInbox(agent)).toEqual({ lastSeen: null, presenceDueAt: null });
    const witness = await register("witness");
    expect((await inbox(witness)).status).toBe(200);
    await seenInDirectory(witness.name);
    expect(await directoryRecord(agent.name)).toMatchObject({ online: false, lastSeen: null });
  });
});
