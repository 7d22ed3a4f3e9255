import { expect, inject, it } from "vitest";
import { call, eventually, register, send, textMessage } from "../support/relay.js";

const receiver = `http://127.0.0.1:${inject("receiverPort")}`;

it("delivers a stored message to the agent's webhook", async () => {
  const box = crypto.randomUUID();
  const bob = await register("wh", { webhookUrl: `${receiver}/hooks/${box}` });
  const alice = await register("wh");
  const sent = await send(alice, textMessage(bob.name, "ping"));
  expect(sent.status).toBe(201);
  const log = await eventually(async () => {
    const got = (await (await fetch(`${receiver}/_log/${box}`)).json()) as { body: string; headers: Record<string, string> }[];
    return got.length > 0 ? got : null;
  });
  expect(JSON.parse(log[0]!.body)).toMatchObject({ id: sent.body.id, payload: "ping" });
  expect(log[0]!.headers["webhook-signature"]).toMatch(/^v1,/);
  const attempts = await call("GET", "/webhooks/deliveries", { key: bob.apiKey });
  expect(attempts.body[0]).toMatchObject({ outcome: "delivered", status: 200, messageId: sent.body.id });
});
