// A webhook URL is checked against the deployment's policy before every delivery, not only when
// it is set (issue: hardening, defect 5). An agent registered while ALLOW_PRIVATE_WEBHOOKS=true
// with a loopback URL must not receive anything after the relay restarts with false: the attempt
// fails with a recorded error, the webhook is disabled (visible on the record), and no request
// reaches the network. A real `wrangler dev` on on-disk state, restarted with the other policy.

import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test, vi } from "vitest";
import { freePort, startLocalRelay, type LocalRelay } from "../../scripts/local-relay.js";
import type { AgentPrivate, WebhookAttempt } from "../../protocol/envelope.js";
import { httpCall, killToolchainLeftovers, randomAdminKey, receivedLog, registerAgent, scriptReceiver, uniqueName } from "../support/node-relay.js";
import { startReceiver, type Receiver } from "../support/receiver.js";

let receiver: Receiver;
const relays: LocalRelay[] = [];
const stateDir = mkdtempSync(join(tmpdir(), "clawtalk-webhook-policy-"));
const adminKey = randomAdminKey();
let port: number;

async function startRelay(allowPrivate: boolean): Promise<LocalRelay> {
  const relay = await startLocalRelay({ port, stateDir, adminKey, vars: { ALLOW_PRIVATE_WEBHOOKS: String(allowPrivate) }, startTimeoutMs: 45_000 });
  relays.push(relay);
  return relay;
}

beforeAll(async () => {
  receiver = await startReceiver();
  port = await freePort();
});

afterAll(async () => {
  for (const relay of relays) await relay.stop();
  killToolchainLeftovers(relays.map((relay) => relay.pid));
  rmSync(stateDir, { recursive: true, force: true });
  await receiver?.close();
}, 60_000);

describe("the webhook URL policy applies to every delivery", () => {
  test("a loopback URL set under ALLOW_PRIVATE_WEBHOOKS=true gets nothing after a restart with false, and the webhook is disabled", async () => {
    const box = `policy_${randomBytes(6).toString("hex")}`;
    await scriptReceiver(receiver, box, { status: 200 });

    // Allowed at first: a delivery arrives (so the URL itself works).
    let relay = await startRelay(true);
    const bob = await registerAgent(relay, uniqueName("pol_bob"), { webhookUrl: receiver.url(box) });
    const alice = await registerAgent(relay, uniqueName("pol_alice"));
    const send = (text: string) =>
      httpCall<{ id: string }>(relay.url, "POST", "/messages", { key: alice.apiKey, json: { to: bob.name, type: "notification", encrypted: false, payload: text } });
    expect((await send("while allowed")).status).toBe(201);
    await vi.waitFor(async () => expect((await receivedLog(receiver, box)).length).toBe(1), { timeout: 30_000, interval: 200 });

    // Restarted with the production policy: the same URL is refused at delivery time.
    await relay.stop();
    relay = await startRelay(false);
    const sent = await send("after the restart");
    expect(sent.status).toBe(201);
    const refused = await vi.waitFor(
      async () => {
        const log = await httpCall(relay.url, "GET", "/webhooks/deliveries?limit=10", { key: bob.apiKey });
        const attempt = (log.body as WebhookAttempt[]).find((a) => a.messageId === sent.body.id);
        expect(attempt).toBeDefined();
        return attempt!;
      },
      { timeout: 30_000, interval: 200 },
    );
    expect(refused.outcome).toBe("disabled");
    expect(refused.status).toBeNull();
    expect(refused.error).toMatch(/private, loopback or link-local|localhost|https/);
    expect(refused.error).toContain("ALLOW_PRIVATE_WEBHOOKS=false");

    // The record shows the webhook off, and why.
    const record = await httpCall(relay.url, "GET", "/agents/me", { key: bob.apiKey });
    expect((record.body as AgentPrivate).webhook).toBe(false);
    expect((record.body as AgentPrivate).webhookDisabled).toContain("not sent");

    // A test event is refused the same way, without a request.
    const tested = await httpCall(relay.url, "POST", "/agents/me/webhook/test", { key: bob.apiKey });
    expect(tested.body).toMatchObject({ ok: false, status: null });

    // Nothing after the restart reached the receiver; the message is still in bob's inbox.
    expect((await receivedLog(receiver, box)).length).toBe(1);
    const inbox = await httpCall(relay.url, "GET", `/messages/${sent.body.id}`, { key: bob.apiKey });
    expect(inbox.status).toBe(200);
  }, 150_000);
});
