// Webhook deliveries survive a crash (SPEC §4.4: "a down endpoint delays, it does not reorder or
// drop"; §1.3 nothing is lost silently). A real `wrangler dev` on on-disk state is SIGKILLed (whole
// process group, workerd included) while deliveries are pending, then restarted on the same state
// directory; the pending deliveries must go out after the restart, in inbox order, with the same
// `webhook-id` as before the crash and a valid Standard Webhooks signature.

import { randomBytes } from "node:crypto";
import { Webhook } from "standardwebhooks";
import { afterAll, beforeAll, describe, expect, test, vi } from "vitest";
import type { SendResponse } from "../../protocol/envelope.js";
import {
  httpCall,
  prepareTestRelay,
  receivedLog,
  registerAgent,
  scriptReceiver,
  uniqueName,
  type RegisteredAgent,
  type Reply,
  type TestRelay,
} from "../support/node-relay.js";
import { startReceiver, type Received, type Receiver, type ScriptedResponse } from "../support/receiver.js";

/** Each scenario (two relay starts, a crash, deliveries) must finish within this. */
const SCENARIO_TIMEOUT_MS = 150_000;
/** How long deliveries may take to arrive after the restart. */
const DELIVERY_WAIT_MS = 30_000;
const REQUEST_TIMEOUT_MS = 10_000;

const RELAY_VARS = {
  RATE_LIMIT_PER_MIN: "100000",
  WEBHOOK_RETRY_BASE_MS: "1500",
  WEBHOOK_RETRY_MAX_MS: "1500",
  WEBHOOK_RETRY_HORIZON_S: "600",
};

// ---------------------------------------------------------------------------------------------
// Small helpers (Node side: plain fetch against the relay and the receiver's control API).

type Agent = RegisteredAgent;

async function sendText(base: string, from: Agent, to: Agent, payload: string): Promise<Reply<SendResponse>> {
  const json = { to: to.name, type: "notification", encrypted: false, payload };
  return httpCall<SendResponse>(base, "POST", "/messages", { key: from.apiKey, json, timeoutMs: REQUEST_TIMEOUT_MS });
}

/** The message id a delivery carried (the body is the stored envelope). */
const messageIdOf = (delivery: Received): string => (JSON.parse(delivery.body) as { id: string }).id;

/** Ids in the order of their first arrival at the receiver. */
function firstArrivals(log: Received[]): string[] {
  const order: string[] = [];
  for (const delivery of log) {
    const id = messageIdOf(delivery);
    if (!order.includes(id)) order.push(id);
  }
  return order;
}

/** Null when the delivery's Standard Webhooks signature verifies with the agent's secret, else why not. */
function signatureProblem(delivery: Received, secret: string): string | null {
  try {
    new Webhook(secret).verify(delivery.body, {
      "webhook-id": delivery.headers["webhook-id"] ?? "",
      "webhook-timestamp": delivery.headers["webhook-timestamp"] ?? "",
      "webhook-signature": delivery.headers["webhook-signature"] ?? "",
    });
    return null;
  } catch (error) {
    return `${delivery.headers["webhook-id"]}: ${error instanceof Error ? error.message : String(error)}`;
  }
}

// ---------------------------------------------------------------------------------------------

let receiver: Receiver;
const lives: TestRelay[] = [];

/** One relay's life on one state directory: started, then (after a crash) restarted the same way. */
async function relayOnNewState(prefix: string): Promise<TestRelay> {
  const life = await prepareTestRelay({ prefix, vars: RELAY_VARS, startTimeoutMs: 45_000 });
  lives.push(life);
  return life;
}

/**
 * A scenario's start: a relay on a new state directory, a receiver box answering `otherwise`, bob
 * with his webhook on that box, and alice to send to him.
 */
async function startScenario(boxPrefix: string, otherwise: ScriptedResponse) {
  const life = await relayOnNewState("clawtalk-webhook-restart-");
  const relay = await life.start();
  const box = `${boxPrefix}_${randomBytes(8).toString("hex")}`;
  await scriptReceiver(receiver, box, otherwise);
  const bob = await registerAgent(relay, uniqueName("wh_bob"), { webhookUrl: receiver.url(box) });
  const alice = await registerAgent(relay, uniqueName("wh_alice"));
  return { life, relay, box, bob, alice };
}

/** Polls the receiver's log of `box` until `ready(log)`, and answers that log. */
function logWhen(box: string, ready: (log: Received[]) => boolean, what: string): Promise<Received[]> {
  return vi.waitFor(
    async () => {
      const log = await receivedLog(receiver, box);
      expect(ready(log), `${what} (log: ${log.length} deliveries)`).toBe(true);
      return log;
    },
    { timeout: DELIVERY_WAIT_MS, interval: 200 },
  );
}

beforeAll(async () => {
  receiver = await startReceiver();
});

afterAll(async () => {
  for (const life of lives) await life.cleanup();
  await receiver?.close();
}, 60_000);

describe("webhooks across a crash: deliveries pending at a SIGKILL go out after the restart", () => {
  test(
    "deliveries held back by a failing endpoint when the relay is killed all arrive after restart, in send order, with the same webhook-id and a valid signature",
    async () => {
      const { life, relay, box, bob, alice } = await startScenario("restart", { status: 503 });

      const ids: string[] = [];
      for (const payload of ["first", "second", "third"]) {
        const reply = await sendText(relay.url, alice, bob, payload);
        expect(reply.status, reply.text).toBe(201);
        ids.push(reply.body.id);
      }

      // At least one attempt was answered 503: the head of the queue now waits for its retry.
      await logWhen(box, (log) => log.length > 0, "a first attempt");
      await relay.kill();
      const beforeCrash = await receivedLog(receiver, box);
      expect(beforeCrash.length).toBeGreaterThan(0);
      // A down endpoint holds the queue at its head: only the first message was tried.
      expect(new Set(beforeCrash.map(messageIdOf))).toEqual(new Set([ids[0]]));

      await scriptReceiver(receiver, box, { status: 200 });
      await life.start();

      const log = await logWhen(
        box,
        (got) => {
          const delivered = new Set(got.filter((d) => d.status === 200).map(messageIdOf));
          return ids.every((id) => delivered.has(id));
        },
        "all three messages to be delivered after the restart",
      );

      expect(firstArrivals(log)).toEqual(ids);
      const afterCrash = log.slice(beforeCrash.length);
      // Each message's first successful delivery (all after the restart) comes in send order as well.
      expect(firstArrivals(log.filter((d) => d.status === 200))).toEqual(ids);

      // One webhook-id per message, the same before and after the crash, distinct between messages.
      const webhookIds = new Map<string, Set<string>>();
      for (const delivery of log) {
        const id = messageIdOf(delivery);
        if (!webhookIds.has(id)) webhookIds.set(id, new Set());
        webhookIds.get(id)!.add(delivery.headers["webhook-id"] ?? "");
      }
      for (const id of ids) expect(webhookIds.get(id)?.size, `webhook-ids for ${id}`).toBe(1);
      expect(new Set(ids.map((id) => [...webhookIds.get(id)!][0])).size).toBe(3);
      const preCrashId = beforeCrash[0]!.headers["webhook-id"];
      expect(preCrashId).toBeTruthy();
      expect(afterCrash.filter((d) => messageIdOf(d) === ids[0]).map((d) => d.headers["webhook-id"])).toContain(preCrashId);

      // Every attempt, before and after the crash, is signed with bob's secret.
      for (const delivery of log) expect(delivery.headers["webhook-signature"]).toMatch(/^v1,/);
      expect(log.map((d) => signatureProblem(d, bob.webhookSecret)).filter((p) => p !== null)).toEqual([]);
    },
    SCENARIO_TIMEOUT_MS,
  );

  test(
    "a message answered 201 just before a SIGKILL is delivered to the webhook after the restart",
    async () => {
      const { life, relay, box, bob, alice } = await startScenario("kill_after_201", { status: 200, delayMs: 0 });

      const reply = await sendText(relay.url, alice, bob, "sent just before the crash");
      await relay.kill(); // at once: the relay's first attempt may or may not have happened
      expect(reply.status, reply.text).toBe(201);
      const id: string = reply.body.id;
      const attemptedBeforeCrash = (await receivedLog(receiver, box)).length;

      await life.start();
      const log = await logWhen(
        box,
        (got) => got.some((d) => d.status === 200 && messageIdOf(d) === id),
        "the message to be delivered after the restart",
      );
      console.log(`webhook-restart: ${attemptedBeforeCrash} attempt(s) before the kill, ${log.length} in all`);

      expect(log.map(messageIdOf).every((m) => m === id)).toBe(true);
      expect(JSON.parse(log[0]!.body)).toMatchObject({ id, from: alice.name, payload: "sent just before the crash" });
      // A repeated delivery (attempted before the kill, outcome lost) carries the same webhook-id.
      expect(new Set(log.map((d) => d.headers["webhook-id"])).size).toBe(1);
      expect(log[0]!.headers["webhook-id"]).toBeTruthy();
      for (const delivery of log) expect(delivery.headers["webhook-signature"]).toMatch(/^v1,/);
      expect(log.map((d) => signatureProblem(d, bob.webhookSecret)).filter((p) => p !== null)).toEqual([]);
    },
    SCENARIO_TIMEOUT_MS,
  );
});
