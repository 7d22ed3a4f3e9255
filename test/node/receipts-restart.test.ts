// A receipt is never lost (SPEC §11.1): the recipient's inbox records a state change with the
// change itself and reports it from its alarm. Here the relay is SIGKILLed (whole process group)
// after the recipient read the message but before its inbox reported that to the sender's; after
// the restart, on the same state, the report goes out and the sender sees `delivered`.

import { afterAll, beforeAll, describe, expect, test, vi } from "vitest";
import type { Receipts, SendResponse } from "../../protocol/envelope.js";
import { httpCall, prepareTestRelay, registerAgent, uniqueName, type TestRelay } from "../support/node-relay.js";

type Rows = Extract<Receipts, { recipients: unknown }>;

/** Long enough that the kill below lands before the report, short enough for the test. */
const FLUSH_MS = 8_000;

let life: TestRelay;

beforeAll(async () => {
  life = await prepareTestRelay({ prefix: "clawtalk-receipts-restart-", vars: { FEED_FLUSH_MS: String(FLUSH_MS), RATE_LIMIT_PER_MIN: "1000" }, startTimeoutMs: 45_000 });
});

afterAll(async () => {
  await life?.cleanup();
}, 60_000);

describe("receipts across a crash", () => {
  test("a read the recipient made just before a SIGKILL is reported to the sender after the restart", async () => {
    let relay = await life.start();
    const [alice, bob] = [await registerAgent(relay, uniqueName("rr_alice")), await registerAgent(relay, uniqueName("rr_bob"))];
    const sent = await httpCall<SendResponse>(relay.url, "POST", "/messages", { key: alice.apiKey, json: { to: bob.name, type: "notification", encrypted: false, payload: "read me" } });
    expect(sent.status).toBe(201);
    const read = await httpCall<{ messages: { id: string; delivered: boolean }[] }>(relay.url, "GET", "/messages", { key: bob.apiKey });
    expect(read.body.messages.map((m) => [m.id, m.delivered])).toEqual([[sent.body.id, false]]);

    // Not reported yet (the flush is FLUSH_MS away): the sender still sees the copy stored.
    const before = await httpCall<Rows>(relay.url, "GET", `/messages/${sent.body.id}/receipts`, { key: alice.apiKey });
    expect(before.body.recipients.map((r) => r.status)).toEqual(["stored"]);
    await relay.kill();

    relay = await life.start();
    const after = await vi.waitFor(
      async () => {
        const reply = await httpCall<Rows>(relay.url, "GET", `/messages/${sent.body.id}/receipts`, { key: alice.apiKey });
        expect(reply.status).toBe(200);
        expect(reply.body.recipients[0]?.status).toBe("delivered");
        return reply.body.recipients[0]!;
      },
      { timeout: 60_000, interval: 500 },
    );
    expect(after).toMatchObject({ name: bob.name, status: "delivered", via: "poll" });
    // The copy stays read: bob's next page says so.
    const again = await httpCall<{ messages: { delivered: boolean }[] }>(relay.url, "GET", "/messages", { key: bob.apiKey });
    expect(again.body.messages.map((m) => m.delivered)).toEqual([true]);
  }, 150_000);
});
