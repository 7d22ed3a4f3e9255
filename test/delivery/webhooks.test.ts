// Webhook push (SPEC §4.4) against a real HTTP receiver on 127.0.0.1 (test/support/receiver.ts,
// started by the project's globalSetup). Each test uses a box of its own on the receiver and
// fresh agents, and scripts the box's answers: failures, Retry-After, slow answers, dropped
// connections. The delivery project runs retries in milliseconds (base 100 ms, max 400 ms,
// horizon 5 s, timeout 1 s), so every behaviour here shows within seconds.

import { describe, expect, inject, it, vi } from "vitest";
import type { AgentPrivate, AgentPublic, SendResponse, WebhookAttempt } from "../../protocol/envelope.js";
import type { ErrorBody } from "../../protocol/errors.js";
import { ADMIN_KEY, call, register, send, textMessage, type TestAgent } from "../support/relay.js";

const RECEIVER = `http://127.0.0.1:${inject("receiverPort")}`;
/** The delivery project's WEBHOOK_TIMEOUT_MS (vitest.config.ts). */
const WEBHOOK_TIMEOUT_MS = 1000;
/** How long a test waits for something the relay does within milliseconds to seconds. */
const WAIT = { timeout: 10_000, interval: 50 };

// ---- The receiver's control API ----

interface ScriptedAnswer {
  status?: number;
  headers?: Record<string, string>;
  delayMs?: number;
  destroy?: boolean;
}

/** One request that reached the receiver, as its log records it. */
interface Arrival {
  headers: Record<string, string>;
  body: string;
  receivedAt: number;
  answeredAt: number | null;
  status: number | null;
}

interface Box {
  name: string;
  url: string;
}

function newBox(): Box {
  const name = crypto.randomUUID();
  return { name, url: `${RECEIVER}/hooks/${name}` };
}

/** The box answers `answers` in turn, then `otherwise` (default 200). Replaces any earlier script. */
async function script(box: Box, answers: ScriptedAnswer[], otherwise: ScriptedAnswer = { status: 200 }): Promise<void> {
  const response = await fetch(`${RECEIVER}/_script/${box.name}`, { method: "POST", body: JSON.stringify({ responses: answers, otherwise }) });
  expect(response.status).toBe(200);
}

async function arrivals(box: Box): Promise<Arrival[]> {
  return (await (await fetch(`${RECEIVER}/_log/${box.name}`)).json()) as Arrival[];
}

/** Waits until the box received at least `n` requests. */
function arrivalsAtLeast(box: Box, n: number): Promise<Arrival[]> {
  return vi.waitFor(async () => {
    const got = await arrivals(box);
    expect(got.length, "arrivals at the receiver").toBeGreaterThanOrEqual(n);
    return got;
  }, WAIT);
}

/** The message id carried by an arrival's body. */
function messageIdOf(arrival: Arrival): string {
  return (JSON.parse(arrival.body) as { id: string }).id;
}

/** Arrivals answered with a 2xx, i.e. deliveries the relay saw succeed. */
function successes(log: Arrival[]): Arrival[] {
  return log.filter((a) => a.status !== null && a.status >= 200 && a.status < 300);
}

// ---- Standard Webhooks signatures, computed independently of the relay ----

function base64ToBytes(base64: string): Uint8Array {
  return Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
}

function bytesToBase64(bytes: Uint8Array): string {
  return btoa(String.fromCharCode(...bytes));
}

/** base64(HMAC-SHA256(base64-decode(secret without "whsec_"), `${id}.${timestamp}.${body}`)). */
async function expectedSignature(secret: string, id: string, timestamp: string, body: string): Promise<string> {
  const key = await crypto.subtle.importKey("raw", base64ToBytes(secret.replace(/^whsec_/, "")), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  const mac = await crypto.subtle.sign("HMAC", key, new TextEncoder().encode(`${id}.${timestamp}.${body}`));
  return bytesToBase64(new Uint8Array(mac));
}

/** The signatures of a `webhook-signature` header (`v1,<base64>` entries, space-separated). */
function signaturesOf(arrival: Arrival): string[] {
  const header = arrival.headers["webhook-signature"] ?? "";
  return header.split(" ").map((entry) => {
    expect(entry).toMatch(/^v1,[A-Za-z0-9+/]+={0,2}$/);
    return entry.slice(3);
  });
}

async function signedWith(secret: string, arrival: Arrival): Promise<boolean> {
  const expected = await expectedSignature(secret, arrival.headers["webhook-id"]!, arrival.headers["webhook-timestamp"]!, arrival.body);
  return signaturesOf(arrival).includes(expected);
}

function randomSecret(): string {
  return `whsec_${bytesToBase64(crypto.getRandomValues(new Uint8Array(32)))}`;
}

// ---- Relay helpers ----

/** What POST /agents/:name/webhook/test answers. */
interface WebhookTestResult {
  ok: boolean;
  webhookId: string;
  status: number | null;
  latencyMs: number;
  error: string | null;
}

async function deliveries(key: string, query = ""): Promise<WebhookAttempt[]> {
  const reply = await call<WebhookAttempt[]>("GET", `/webhooks/deliveries${query ? `?${query}` : ""}`, { key });
  expect(reply.status).toBe(200);
  return reply.body;
}

/** Waits until the agent's attempt log shows `outcome` for `messageId`; answers the whole log. */
function outcomeLogged(agent: TestAgent, messageId: string, outcome: WebhookAttempt["outcome"], timeoutMs = WAIT.timeout): Promise<WebhookAttempt[]> {
  return vi.waitFor(async () => {
    const log = await deliveries(agent.apiKey, "limit=100");
    expect(log.map((a) => [a.messageId, a.outcome]), `${outcome} for ${messageId}`).toContainEqual([messageId, outcome]);
    return log;
  }, { ...WAIT, timeout: timeoutMs });
}

async function sendText(from: TestAgent, to: TestAgent, payload: unknown = "hello", extra: Record<string, unknown> = {}): Promise<string> {
  const reply = await send<SendResponse>(from, textMessage(to.name, payload, extra));
  expect(reply.status).toBe(201);
  return reply.body.id;
}

/** A recipient whose webhook points at a fresh box (scripted before it is registered), and a sender. */
async function pair(answers: ScriptedAnswer[] = [], otherwise?: ScriptedAnswer): Promise<{ box: Box; bob: TestAgent; alice: TestAgent }> {
  const box = newBox();
  await script(box, answers, otherwise);
  const [bob, alice] = await Promise.all([register("whbob", { webhookUrl: box.url }), register("whalice")]);
  return { box, bob, alice };
}

async function messageStatus(agent: TestAgent, id: string): Promise<number> {
  return (await call("GET", `/messages/${id}`, { key: agent.apiKey })).status;
}

// ---- Tests ----

describe("a delivery", () => {
  it("POSTs the exact stored envelope with Standard Webhooks headers and a verifiable signature", async () => {
    const { box, bob, alice } = await pair();
    const id = await sendText(alice, bob, { text: "héllo ✓ — 🦀" }, { topic: "sync", correlationId: "c-1" });
    const [arrival] = await arrivalsAtLeast(box, 1);

    const stored = await call("GET", `/messages/${id}`, { key: bob.apiKey });
    expect(stored.status).toBe(200);
    // The webhook body is the stored envelope, byte for byte (the same on every retry); a read by
    // the recipient adds only its `delivered` flag at the end.
    expect(stored.text).toMatch(/,"delivered":(true|false)\}$/);
    expect(arrival!.body).toBe(stored.text.replace(/,"delivered":(true|false)\}$/, "}"));
    expect(JSON.parse(arrival!.body)).toMatchObject({ id, from: alice.name, to: bob.name, payload: { text: "héllo ✓ — 🦀" }, topic: "sync" });
    expect(arrival!.headers["content-type"]).toBe("application/json");

    expect(arrival!.headers["webhook-id"]).toBeTruthy();
    const timestamp = arrival!.headers["webhook-timestamp"]!;
    expect(timestamp).toMatch(/^\d+$/);
    expect(Math.abs(Number(timestamp) - Date.now() / 1000)).toBeLessThan(60);
    expect(signaturesOf(arrival!)).toHaveLength(1);
    expect(await signedWith(bob.webhookSecret, arrival!)).toBe(true);
    expect(await signedWith(randomSecret(), arrival!)).toBe(false);
    expect(await signedWith(alice.webhookSecret, arrival!)).toBe(false);

    const log = await outcomeLogged(bob, id, "delivered");
    expect(log[0]).toMatchObject({ outcome: "delivered", status: 200, messageId: id, agent: bob.name, attempt: 1, error: null });
    expect(log[0]!.webhookId).toBe(arrival!.headers["webhook-id"]);
  });

  it("is retried after 500s with the same webhook-id until it succeeds, every attempt logged", async () => {
    const { box, bob, alice } = await pair([{ status: 500 }, { status: 500 }]);
    const id = await sendText(alice, bob);
    const log = await outcomeLogged(bob, id, "delivered");

    const got = await arrivals(box);
    expect(got.map((a) => a.status)).toEqual([500, 500, 200]);
    expect(new Set(got.map((a) => a.headers["webhook-id"])).size).toBe(1);
    expect(got.every((a) => messageIdOf(a) === id)).toBe(true);
    expect(successes(got)).toHaveLength(1);

    const mine = log.filter((a) => a.messageId === id);
    expect(mine.map((a) => [a.outcome, a.status, a.attempt])).toEqual([
      ["delivered", 200, 3],
      ["retrying", 500, 2],
      ["retrying", 500, 1],
    ]);
    for (const attempt of mine) {
      expect(attempt.latencyMs).toBeGreaterThanOrEqual(0);
      expect(attempt.webhookId).toBe(got[0]!.headers["webhook-id"]);
    }
    expect(mine[1]!.error).toMatch(/500/);
  });

  it.each([429, 503])("honours Retry-After on a %i before trying again", async (status) => {
    const { box, bob, alice } = await pair([{ status, headers: { "Retry-After": "2" } }]);
    const id = await sendText(alice, bob);
    const [first, second] = await arrivalsAtLeast(box, 2);
    // Backoff alone would retry after about 100 ms.
    expect(second!.receivedAt - first!.receivedAt).toBeGreaterThanOrEqual(1900);
    expect(second!.status).toBe(200);
    const log = await outcomeLogged(bob, id, "delivered");
    expect(log.filter((a) => a.messageId === id).map((a) => [a.outcome, a.status])).toEqual([
      ["delivered", 200],
      ["retrying", status],
    ]);
  });

  it.each([400, 404])("that gets a %i fails for that message only; the next message is delivered", async (status) => {
    const { box, bob, alice } = await pair([{ status }]);
    const first = await sendText(alice, bob, "first");
    const second = await sendText(alice, bob, "second");
    const log = await outcomeLogged(bob, second, "delivered");

    expect(log.filter((a) => a.messageId === first).map((a) => [a.outcome, a.status, a.attempt])).toEqual([["failed", status, 1]]);
    const got = await arrivals(box);
    expect(got.map((a) => [messageIdOf(a), a.status])).toEqual([
      [first, status],
      [second, 200],
    ]);
    expect(await messageStatus(bob, first)).toBe(200); // still in the inbox for polling
  });

  it("that gets no answer within WEBHOOK_TIMEOUT_MS counts as a failure and is retried", async () => {
    // Far beyond the timeout, so a timer that fires late on a loaded machine still fires first.
    const { box, bob, alice } = await pair([{ status: 200, delayMs: 10 * WEBHOOK_TIMEOUT_MS }]);
    const id = await sendText(alice, bob);
    const log = await outcomeLogged(bob, id, "delivered");

    const mine = log.filter((a) => a.messageId === id);
    expect(mine.map((a) => a.outcome)).toEqual(["delivered", "retrying"]);
    expect(mine[1]).toMatchObject({ status: null, attempt: 1 });
    expect(mine[1]!.error).toMatch(/no answer/);
    const got = await arrivals(box);
    expect(got).toHaveLength(2);
    expect(got[0]!.headers["webhook-id"]).toBe(got[1]!.headers["webhook-id"]);
  });

  it("never happens inline: the send answers 201 before the receiver has answered", async () => {
    const { box, bob, alice } = await pair([{ status: 200, delayMs: 1500 }]);
    const reply = await send<SendResponse>(alice, textMessage(bob.name, "slow"));
    const returnedAt = Date.now();
    expect(reply.status).toBe(201);
    const answered = await vi.waitFor(async () => {
      const [first] = await arrivals(box);
      expect(first?.answeredAt, "the receiver's answer").toEqual(expect.any(Number));
      return first!;
    }, WAIT);
    expect(messageIdOf(answered)).toBe(reply.body.id);
    expect(returnedAt).toBeLessThan(answered.answeredAt!);
  });
});

describe("ordering and outages", () => {
  it("keeps inbox order across an outage: all messages arrive once it recovers, in send order, none missing", async () => {
    const { box, bob, alice } = await pair([{ status: 503 }, { destroy: true }, { status: 503 }, { destroy: true }]);
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push(await sendText(alice, bob, `message ${i}`));
    await outcomeLogged(bob, ids[4]!, "delivered");

    const got = await arrivals(box);
    expect(got.length).toBeGreaterThanOrEqual(9); // 4 failures + 5 deliveries
    // First arrivals of each message, in arrival order, follow the send order.
    expect([...new Set(got.map(messageIdOf))]).toEqual(ids);
    // Successful deliveries: every message, in send order.
    const delivered = successes(got).map(messageIdOf);
    expect([...new Set(delivered)]).toEqual(ids);
    // A message sent again carries the same webhook-id and body; different messages never share one.
    const byWebhookId = new Map<string, string>();
    for (const arrival of got) {
      const webhookId = arrival.headers["webhook-id"]!;
      const previous = byWebhookId.get(webhookId);
      if (previous !== undefined) expect(arrival.body).toBe(previous);
      byWebhookId.set(webhookId, arrival.body);
    }
    expect(byWebhookId.size).toBe(5);
  });

  it("gives up on a message after WEBHOOK_RETRY_HORIZON_S of failures and moves on to the next", async () => {
    const { box, bob, alice } = await pair([], { status: 500 });
    const first = await sendText(alice, bob, "doomed");
    const second = await sendText(alice, bob, "survivor");

    const log = await outcomeLogged(bob, first, "failed", 15_000);
    const gaveUp = log.find((a) => a.messageId === first && a.outcome === "failed")!;
    expect(gaveUp.error).toMatch(/gave up/);
    await script(box, [], { status: 200 }); // the endpoint recovers
    await outcomeLogged(bob, second, "delivered");

    const got = await arrivals(box);
    const firstTries = got.filter((a) => messageIdOf(a) === first);
    expect(firstTries.every((a) => a.status === 500)).toBe(true);
    expect(firstTries).toHaveLength(gaveUp.attempt);
    // The horizon is 5 s; the last retry falls at most one backoff (≤ 480 ms) short of it.
    expect(firstTries.at(-1)!.receivedAt - firstTries[0]!.receivedAt).toBeGreaterThanOrEqual(4000);
    // Nothing of the second message went out before the first was given up.
    const firstSecondTry = got.findIndex((a) => messageIdOf(a) === second);
    expect(firstSecondTry).toBeGreaterThan(got.indexOf(firstTries.at(-1)!));
    expect(successes(got).map(messageIdOf)).toEqual([second]);
    expect(await messageStatus(bob, first)).toBe(200); // given up, but still in the inbox
  });

  it("does not deliver a message acked while it waited in the queue", async () => {
    // The first attempt fails with Retry-After: 2, so the message waits 2 s at the head of the queue.
    const { box, bob, alice } = await pair([{ status: 503, headers: { "Retry-After": "2" } }]);
    const acked = await sendText(alice, bob, "acked before delivery");
    await arrivalsAtLeast(box, 1);
    expect((await call("DELETE", `/messages/${acked}`, { key: bob.apiKey })).status).toBe(204);
    const next = await sendText(alice, bob, "next");
    const log = await outcomeLogged(bob, next, "delivered");

    const got = await arrivals(box);
    expect(got.map((a) => [messageIdOf(a), a.status])).toEqual([
      [acked, 503],
      [next, 200],
    ]);
    expect(log.filter((a) => a.messageId === acked).map((a) => a.outcome)).toEqual(["retrying"]);
  });
});

describe("410 Gone", () => {
  it.each([
    ["the same URL", false],
    ["a new URL", true],
  ])("disables the webhook; setting %s turns it back on for new messages", async (_label, newUrl) => {
    const { box, bob, alice } = await pair([{ status: 410 }]);
    const gone = await sendText(alice, bob, "answered 410");
    await outcomeLogged(bob, gone, "disabled");

    const record = await vi.waitFor(async () => {
      const me = await call<AgentPrivate>("GET", "/agents/me", { key: bob.apiKey });
      expect(me.body.webhookDisabled, "the record shows the webhook disabled").toEqual(expect.stringContaining("410"));
      return me.body;
    }, WAIT);
    expect(record.webhook).toBe(false);
    const listed = await call<AgentPublic>("GET", `/agents/${bob.name}`, { key: alice.apiKey });
    expect(listed.body.webhook).toBe(false);

    const whileOff = await sendText(alice, bob, "while disabled");
    expect(await messageStatus(bob, whileOff)).toBe(200); // still in the inbox for polling

    const target = newUrl ? newBox() : box;
    const patched = await call<AgentPrivate>("PATCH", "/agents/me", { key: bob.apiKey, json: { webhookUrl: target.url } });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ webhook: true, webhookDisabled: null, webhookUrl: target.url });

    const after = await sendText(alice, bob, "after re-enabling");
    const log = await outcomeLogged(bob, after, "delivered");
    // Deliveries go out in inbox order, so had the message stored while the webhook was off been
    // queued, it would have been tried before this later one: it never was, and is not pushed
    // later either (it remains for polling).
    expect(log.map((a) => a.messageId)).not.toContain(whileOff);
    const got = await arrivals(target);
    expect(successes(got).map(messageIdOf)).toEqual([after]);
    expect(got.map(messageIdOf)).not.toContain(whileOff);
    expect((await arrivals(box)).map(messageIdOf)).toEqual(newUrl ? [gone] : [gone, after]);
  });
});

describe("deleteOnDelivery", () => {
  it("removes a delivered message from the inbox when set, and keeps it otherwise", async () => {
    const { box, bob, alice } = await pair();
    const patched = await call<AgentPrivate>("PATCH", "/agents/me", { key: bob.apiKey, json: { deleteOnDelivery: true } });
    expect(patched.status).toBe(200);
    expect(patched.body.deleteOnDelivery).toBe(true);
    const keeper = await register("whkeep", { webhookUrl: newBox().url });

    const dropped = await sendText(alice, bob, "webhook only");
    const kept = await sendText(alice, keeper, "also polled");
    await arrivalsAtLeast(box, 1);
    await vi.waitFor(async () => expect(await messageStatus(bob, dropped), "the delivered message's status").toBe(404), WAIT);
    await outcomeLogged(bob, dropped, "delivered");

    await outcomeLogged(keeper, kept, "delivered");
    expect(await messageStatus(keeper, kept)).toBe(200);
  });
});

describe("POST /agents/:name/webhook/test", () => {
  it("sends a signed test event now and answers the attempt's outcome", async () => {
    const { box, bob } = await pair();
    const reply = await call<WebhookTestResult>("POST", `/agents/${bob.name}/webhook/test`, { key: bob.apiKey });
    expect(reply.status).toBe(200);
    expect(reply.body).toEqual({ ok: true, webhookId: expect.any(String), status: 200, latencyMs: expect.any(Number), error: null });

    const [arrival] = await arrivalsAtLeast(box, 1);
    expect(arrival!.headers["webhook-id"]).toBe(reply.body.webhookId);
    expect(JSON.parse(arrival!.body)).toMatchObject({ type: "webhook.test", agent: bob.name });
    expect(await signedWith(bob.webhookSecret, arrival!)).toBe(true);

    const log = await deliveries(bob.apiKey);
    expect(log[0]).toMatchObject({ outcome: "test", webhookId: reply.body.webhookId, messageId: null, status: 200 });
  });

  it("reports a failing endpoint as not ok with its status and error", async () => {
    const { bob } = await pair([{ status: 500 }]);
    const reply = await call("POST", `/agents/${bob.name}/webhook/test`, { key: bob.apiKey });
    expect(reply.status).toBe(200);
    expect(reply.body).toMatchObject({ ok: false, status: 500, error: expect.stringContaining("500") });
  });

  it("is 404 for an agent without a webhookUrl, open to the admin for any agent, 403 for another agent", async () => {
    const { box, bob, alice } = await pair();
    const noHook = await call<ErrorBody>("POST", `/agents/${alice.name}/webhook/test`, { key: alice.apiKey });
    expect(noHook.status).toBe(404);
    expect(noHook.body.code).toBe("NOT_FOUND");

    const byAdmin = await call<WebhookTestResult>("POST", `/agents/${bob.name}/webhook/test`, { key: ADMIN_KEY });
    expect(byAdmin.status).toBe(200);
    expect(byAdmin.body.ok).toBe(true);
    await arrivalsAtLeast(box, 1);

    const byOther = await call<ErrorBody>("POST", `/agents/${bob.name}/webhook/test`, { key: alice.apiKey });
    expect(byOther.status).toBe(403);
    expect(byOther.body.code).toBe("FORBIDDEN");
    expect(await arrivals(box)).toHaveLength(1);
  });
});

describe("GET /webhooks/deliveries", () => {
  it("shows an agent only its own attempts, newest first, paginated by limit and before; the admin sees every agent's", async () => {
    // Bob's first attempt loses its connection, so his log also holds an error.
    const { box, bob, alice } = await pair([{ destroy: true }]);
    const carolBox = newBox();
    const carol = await register("whcarol", { webhookUrl: carolBox.url });

    const bobIds: string[] = [];
    for (let i = 0; i < 3; i++) {
      // One at a time, so every attempt has its own millisecond and `before` pages exactly.
      bobIds.push(await sendText(alice, bob, `to bob ${i}`));
      await outcomeLogged(bob, bobIds[i]!, "delivered");
    }
    const carolId = await sendText(alice, carol, "to carol");
    await outcomeLogged(carol, carolId, "delivered");

    const bobLog = await deliveries(bob.apiKey, "limit=100");
    expect(bobLog.map((a) => [a.messageId, a.outcome])).toEqual([
      [bobIds[2], "delivered"],
      [bobIds[1], "delivered"],
      [bobIds[0], "delivered"],
      [bobIds[0], "retrying"],
    ]);
    expect(bobLog.every((a) => a.agent === bob.name)).toBe(true);
    expect(bobLog[3]!.status).toBeNull();
    expect(bobLog[3]!.error).toBeTruthy();
    const times = bobLog.map((a) => Date.parse(a.at));
    expect([...times].sort((a, b) => b - a)).toEqual(times);
    expect((await deliveries(carol.apiKey)).map((a) => a.messageId)).toEqual([carolId]);
    expect(await deliveries(alice.apiKey)).toEqual([]);

    const page1 = await deliveries(bob.apiKey, "limit=2");
    expect(page1).toEqual(bobLog.slice(0, 2));
    const page2 = await deliveries(bob.apiKey, `limit=2&before=${encodeURIComponent(page1[1]!.at)}`);
    expect(page2).toEqual(bobLog.slice(2, 4));
    expect(await deliveries(bob.apiKey, `limit=2&before=${encodeURIComponent(page2[1]!.at)}`)).toEqual([]);

    // The admin's view is fed by the inboxes in batches (FEED_FLUSH_MS), so it may lag a moment.
    const adminLog = await vi.waitFor(async () => {
      const all = await deliveries(ADMIN_KEY, "limit=100");
      const ours = all.filter((a) => a.agent === bob.name || a.agent === carol.name);
      expect(ours, "the admin's view of both agents' attempts").toHaveLength(5);
      return all;
    }, WAIT);
    expect(adminLog.filter((a) => a.agent === bob.name)).toEqual(bobLog);
    expect(adminLog.filter((a) => a.agent === carol.name).map((a) => a.messageId)).toEqual([carolId]);

    // No webhook URL (nor any part of it) is exposed in either log.
    for (const text of [JSON.stringify(bobLog), JSON.stringify(adminLog)]) {
      expect(text).not.toContain(box.name);
      expect(text).not.toContain(carolBox.name);
      expect(text).not.toContain("/hooks/");
      expect(text).not.toContain(`127.0.0.1:${inject("receiverPort")}`);
    }
    expect(await arrivals(box)).toHaveLength(4);
  });
});

describe("delivery state (SPEC §11.1)", () => {
  it("a 2xx from the webhook marks the copy delivered via webhook; a page read after that says delivered: true", async () => {
    const { box, bob, alice } = await pair();
    const id = await sendText(alice, bob, "to the hook");
    await arrivalsAtLeast(box, 1);
    const reply = await call<{ recipients: { name: string; status: string; via?: string; deliveredAt?: string }[] }>(
      "GET",
      `/messages/${id}/receipts?wait=5&until=delivered`,
      { key: alice.apiKey },
    );
    expect(reply.body.recipients).toEqual([expect.objectContaining({ name: bob.name, status: "delivered", via: "webhook", deliveredAt: expect.any(String) })]);
    const page = await call<{ messages: { id: string; delivered: boolean }[] }>("GET", "/messages", { key: bob.apiKey });
    expect(page.body.messages.find((m) => m.id === id)?.delivered).toBe(true);
  });

  it("a failing webhook leaves the copy stored", async () => {
    const { box, bob, alice } = await pair([], { status: 500 });
    const id = await sendText(alice, bob, "to a failing hook");
    await arrivalsAtLeast(box, 2); // tried, and retried: not delivered
    const reply = await call<{ recipients: { status: string }[] }>("GET", `/messages/${id}/receipts`, { key: alice.apiKey });
    expect(reply.body.recipients.map((r) => r.status)).toEqual(["stored"]);
  });
});

describe("secrets", () => {
  it("signs with both the new and the old secret after a rotation", async () => {
    const { box, bob, alice } = await pair();
    const rotated = await call<{ webhookSecret: string }>("POST", `/agents/${bob.name}/webhook/rotate-secret`, { key: bob.apiKey });
    expect(rotated.status).toBe(200);
    const newSecret = rotated.body.webhookSecret;
    expect(newSecret).toMatch(/^whsec_/);
    expect(newSecret).not.toBe(bob.webhookSecret);

    await sendText(alice, bob, "after rotation");
    const [arrival] = await arrivalsAtLeast(box, 1);
    expect(signaturesOf(arrival!)).toHaveLength(2);
    expect(await signedWith(newSecret, arrival!)).toBe(true);
    expect(await signedWith(bob.webhookSecret, arrival!)).toBe(true);
    expect(await signedWith(randomSecret(), arrival!)).toBe(false);
  });

  it("stops signing with the old secret when the overlap ends (WEBHOOK_SECRET_OVERLAP_S=2 here)", async () => {
    const { box, bob, alice } = await pair();
    const rotated = await call<{ webhookSecret: string; previousSecretValidUntil: string }>("POST", `/agents/${bob.name}/webhook/rotate-secret`, { key: bob.apiKey });
    const until = Date.parse(rotated.body.previousSecretValidUntil);
    const newSecret = rotated.body.webhookSecret;
    await sendText(alice, bob, "during the overlap");
    const [during] = await arrivalsAtLeast(box, 1);
    // Signed during the overlap: both secrets (the attempt's own timestamp says when it was signed).
    expect(Number(during!.headers["webhook-timestamp"]) * 1000).toBeLessThan(until);
    expect(signaturesOf(during!)).toHaveLength(2);

    // The overlap is a deadline: wait for it to pass, then every delivery is signed once.
    await vi.waitFor(() => expect(Date.now()).toBeGreaterThan(until), { timeout: 10_000, interval: 100 });
    await sendText(alice, bob, "after the overlap");
    const [, after] = await arrivalsAtLeast(box, 2);
    expect(signaturesOf(after!)).toHaveLength(1);
    expect(await signedWith(newSecret, after!)).toBe(true);
    expect(await signedWith(bob.webhookSecret, after!)).toBe(false);

    // The test event follows the same rule.
    const test = await call<{ ok: boolean }>("POST", `/agents/${bob.name}/webhook/test`, { key: bob.apiKey });
    expect(test.body.ok).toBe(true);
    const [, , tested] = await arrivalsAtLeast(box, 3);
    expect(signaturesOf(tested!)).toHaveLength(1);
  });

  it("gives a new URL a new secret, returned by the PATCH, which signs deliveries to it", async () => {
    const { box, bob, alice } = await pair();
    const moved = newBox();
    const patched = await call<AgentPrivate & { webhookSecret: string }>("PATCH", `/agents/${bob.name}`, { key: bob.apiKey, json: { webhookUrl: moved.url } });
    expect(patched.status).toBe(200);
    const secret = patched.body.webhookSecret;
    expect(secret).toMatch(/^whsec_/);
    expect(secret).not.toBe(bob.webhookSecret);

    const id = await sendText(alice, bob, "to the new endpoint");
    const [arrival] = await arrivalsAtLeast(moved, 1);
    expect(messageIdOf(arrival!)).toBe(id);
    expect(await signedWith(secret, arrival!)).toBe(true);
    // No overlap for a new endpoint: the old endpoint's secret does not sign for the new one.
    expect(signaturesOf(arrival!)).toHaveLength(1);
    expect(await signedWith(bob.webhookSecret, arrival!)).toBe(false);
    expect(await arrivals(box)).toHaveLength(0);
  });
});
