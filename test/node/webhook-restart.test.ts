// Webhook deliveries survive a crash (SPEC §4.4: "a down endpoint delays, it does not reorder or
// drop"; §1.3 nothing is lost silently). A real `wrangler dev` on on-disk state is SIGKILLed (whole
// process group, workerd included) while deliveries are pending, then restarted on the same state
// directory; the pending deliveries must go out after the restart, in inbox order, with the same
// `webhook-id` as before the crash and a valid Standard Webhooks signature.

import { randomBytes } from "node:crypto";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Webhook } from "standardwebhooks";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { freePort, startLocalRelay, type LocalRelay } from "../../scripts/local-relay.js";
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

interface Reply {
  status: number;
  body: any;
  text: string;
}

interface Agent {
  name: string;
  apiKey: string;
  webhookSecret: string;
}

async function call(base: string, method: string, path: string, key: string, json?: unknown): Promise<Reply> {
  const headers: Record<string, string> = { Authorization: `Bearer ${key}` };
  if (json !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch(`${base}${path}`, {
    method,
    headers,
    body: json === undefined ? undefined : JSON.stringify(json),
    signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
  });
  const text = await response.text();
  let body: unknown;
  try {
    body = text === "" ? undefined : JSON.parse(text);
  } catch {
    body = undefined;
  }
  return { status: response.status, body, text };
}

async function register(base: string, adminKey: string, prefix: string, fields: Record<string, unknown> = {}): Promise<Agent> {
  const name = `${prefix}_${randomBytes(6).toString("hex")}`;
  const reply = await call(base, "POST", "/agents", adminKey, { name, ...fields });
  if (reply.status !== 201) throw new Error(`register ${name}: ${reply.status} ${reply.text}`);
  return { name: reply.body.name, apiKey: reply.body.apiKey, webhookSecret: reply.body.webhookSecret };
}

async function sendText(base: string, from: Agent, to: Agent, payload: string): Promise<Reply> {
  return call(base, "POST", "/messages", from.apiKey, { to: to.name, type: "notification", encrypted: false, payload });
}

async function script(receiver: Receiver, box: string, otherwise: ScriptedResponse): Promise<void> {
  const response = await fetch(`http://127.0.0.1:${receiver.port}/_script/${box}`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ responses: [], otherwise }),
    signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
  });
  if (!response.ok) throw new Error(`script ${box}: ${response.status}`);
}

async function receivedLog(receiver: Receiver, box: string): Promise<Received[]> {
  const response = await fetch(`http://127.0.0.1:${receiver.port}/_log/${box}`, { signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
  return (await response.json()) as Received[];
}

/** Polls `check` until it returns a value (not null), or fails after `timeoutMs`. */
async function eventually<T>(check: () => Promise<T | null>, timeoutMs: number, what: string): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== null) return value;
    if (Date.now() > until) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
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

/** Live (non-zombie) processes in process group `pgid`. */
function processesInGroup(pgid: number): number[] {
  const found: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      if (fields[0] !== "Z" && Number(fields[2]) === pgid) found.push(Number(entry));
    } catch {
      // the process ended while we looked
    }
  }
  return found;
}

// ---------------------------------------------------------------------------------------------

let receiver: Receiver;
const relays: LocalRelay[] = [];
const stateDirs: string[] = [];

/** One relay's life on one state directory: started, then (after a crash) restarted the same way. */
async function relayOnNewState(prefix: string): Promise<{ start(): Promise<LocalRelay> }> {
  const stateDir = mkdtempSync(join(tmpdir(), prefix));
  stateDirs.push(stateDir);
  const port = await freePort();
  const adminKey = `adm_${randomBytes(24).toString("base64url")}`;
  return {
    async start() {
      const relay = await startLocalRelay({ port, stateDir, adminKey, vars: RELAY_VARS, startTimeoutMs: 45_000 });
      relays.push(relay);
      return relay;
    },
  };
}

beforeAll(async () => {
  receiver = await startReceiver();
});

afterAll(async () => {
  for (const relay of relays) await relay.stop();
  // Anything still alive in the relays' own process groups (workerd included) is ours: end it by id.
  for (const relay of relays) {
    for (const pid of processesInGroup(relay.pid)) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        // already gone
      }
    }
  }
  await receiver?.close();
  for (const dir of stateDirs) rmSync(dir, { recursive: true, force: true });
}, 60_000);

describe("webhooks across a crash: deliveries pending at a SIGKILL go out after the restart", () => {
  test(
    "deliveries held back by a failing endpoint when the relay is killed all arrive after restart, in send order, with the same webhook-id and a valid signature",
    async () => {
      const life = await relayOnNewState("clawtalk-webhook-restart-");
      const relay = await life.start();
      const box = `restart_${randomBytes(8).toString("hex")}`;
      await script(receiver, box, { status: 503 });
      const bob = await register(relay.url, relay.adminKey, "wh_bob", { webhookUrl: receiver.url(box) });
      const alice = await register(relay.url, relay.adminKey, "wh_alice");

      const ids: string[] = [];
      for (const payload of ["first", "second", "third"]) {
        const reply = await sendText(relay.url, alice, bob, payload);
        expect(reply.status, reply.text).toBe(201);
        ids.push(reply.body.id);
      }

      // At least one attempt was answered 503: the head of the queue now waits for its retry.
      await eventually(async () => ((await receivedLog(receiver, box)).length > 0 ? true : null), DELIVERY_WAIT_MS, "a first attempt");
      await relay.kill();
      const beforeCrash = await receivedLog(receiver, box);
      expect(beforeCrash.length).toBeGreaterThan(0);
      // A down endpoint holds the queue at its head: only the first message was tried.
      expect(new Set(beforeCrash.map(messageIdOf))).toEqual(new Set([ids[0]]));

      await script(receiver, box, { status: 200 });
      await life.start();

      const log = await eventually(
        async () => {
          const got = await receivedLog(receiver, box);
          const delivered = new Set(got.filter((d) => d.status === 200).map(messageIdOf));
          return ids.every((id) => delivered.has(id)) ? got : null;
        },
        DELIVERY_WAIT_MS,
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
      const life = await relayOnNewState("clawtalk-webhook-restart-");
      const relay = await life.start();
      const box = `kill_after_201_${randomBytes(8).toString("hex")}`;
      await script(receiver, box, { status: 200, delayMs: 0 });
      const bob = await register(relay.url, relay.adminKey, "wh_bob", { webhookUrl: receiver.url(box) });
      const alice = await register(relay.url, relay.adminKey, "wh_alice");

      const reply = await sendText(relay.url, alice, bob, "sent just before the crash");
      await relay.kill(); // at once: the relay's first attempt may or may not have happened
      expect(reply.status, reply.text).toBe(201);
      const id: string = reply.body.id;
      const attemptedBeforeCrash = (await receivedLog(receiver, box)).length;

      await life.start();
      const log = await eventually(
        async () => {
          const got = await receivedLog(receiver, box);
          return got.some((d) => d.status === 200 && messageIdOf(d) === id) ? got : null;
        },
        DELIVERY_WAIT_MS,
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
