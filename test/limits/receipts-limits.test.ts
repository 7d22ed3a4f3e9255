// Receipts at the edges (SPEC §11.1), with the limits project's small numbers (INBOX_MAX=5,
// MIN_TTL_S=1, MULTICAST_MAX=3): a copy refused by a full inbox is `rejected` with its code, and
// a copy whose TTL passed unread becomes `expired`.

import { describe, expect, it } from "vitest";
import type { Receipts, SendResponse } from "../../protocol/envelope.js";
import { call, register, send, textMessage } from "../support/relay.js";

type Rows = Extract<Receipts, { recipients: unknown }>;

describe("receipts at the limits", () => {
  it("a multicast copy refused by a full inbox is `rejected` with INBOX_FULL; the stored one is `stored`", async () => {
    const [alice, full, roomy, filler] = await Promise.all([register("rl_a"), register("rl_full"), register("rl_roomy"), register("rl_fill")]);
    for (let i = 0; i < 5; i++) expect((await send(filler, textMessage(full.name, `fill ${i}`))).status).toBe(201);
    const sent = await send<SendResponse>(alice, textMessage([full.name, roomy.name], "to two"));
    expect(sent.status).toBe(201);
    expect(sent.body.rejected).toEqual([{ name: full.name, code: "INBOX_FULL" }]);
    const reply = await call<Rows>("GET", `/messages/${sent.body.id}/receipts`, { key: alice.apiKey });
    expect(reply.status).toBe(200);
    const rows = Object.fromEntries(reply.body.recipients.map((r) => [r.name, r]));
    expect(rows[full.name]).toMatchObject({ status: "rejected", code: "INBOX_FULL" });
    expect(rows[roomy.name]).toMatchObject({ status: "stored", ts: sent.body.recipients[0]!.ts });
    // The stored copy is not read, so a wait for delivery runs to its deadline, and the refused copy stays refused.
    const quick = await call<Rows>("GET", `/messages/${sent.body.id}/receipts?wait=1`, { key: alice.apiKey });
    expect(quick.body.recipients.find((r) => r.name === full.name)!.status).toBe("rejected");
  });

  it("a copy whose TTL passed unread is `expired`, reported by the recipient's alarm", async () => {
    const [alice, bob] = await Promise.all([register("rl_a"), register("rl_b")]);
    const sent = await send<SendResponse>(alice, textMessage(bob.name, "short-lived", { ttl: 1 }));
    expect(sent.status).toBe(201);
    // Held until the copy can no longer be delivered (expired), within the long-poll maximum.
    const reply = await call<Rows>("GET", `/messages/${sent.body.id}/receipts?wait=25&until=delivered`, { key: alice.apiKey });
    expect(reply.status).toBe(200);
    expect(reply.body.recipients[0]).toMatchObject({ name: bob.name, status: "expired" });
    expect(reply.body.recipients[0]).not.toHaveProperty("deliveredAt");
  });
});
