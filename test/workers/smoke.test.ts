import { describe, expect, it } from "vitest";
import type { MessagePage, SendResponse } from "../../protocol/envelope.js";
import { call, inbox, register, send, textMessage } from "../support/relay.js";

describe("a message's path", () => {
  it("is stored by send and returned by the recipient's next poll", async () => {
    const alice = await register("alice");
    const bob = await register("bob");
    const sent = await send<SendResponse>(alice, textMessage(bob.name, "hi"));
    expect(sent.status).toBe(201);
    const got = await inbox<MessagePage>(bob);
    expect(got.status).toBe(200);
    expect(got.body.messages).toHaveLength(1);
    expect(got.body.messages[0]).toMatchObject({ id: sent.body.id, from: alice.name, to: bob.name, payload: "hi" });
    const health = await call<{ agents: number }>("GET", "/health");
    expect(health.body.agents).toBeGreaterThanOrEqual(2);
  });
});
