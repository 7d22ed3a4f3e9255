// An endpoint that answers one of two shapes declares a union; zod takes its first option that
// parses. GET /messages answers an agent's page or the admin's feed page (which adds lastSeq): an
// empty admin page parses as either, so the declared answer must keep its lastSeq. (Found in a
// CI run where the auth matrix read the admin feed before any test had stored a message.)

import { expect, it } from "vitest";
import { routes } from "../../worker/index.js";
import { expectDeclaredAnswer } from "../support/declared-answers.js";
import { ADMIN_KEY, call, inbox, register } from "../support/relay.js";

const messagesRoute = () => {
  const endpoint = routes["/messages"]?.GET;
  expect(endpoint).toBeDefined();
  return { method: "GET", path: "/messages", endpoint: endpoint! };
};

it("an empty admin feed page (afterSeq past every item) matches GET /messages' declared answer with its lastSeq", async () => {
  const reply = await call<{ messages: unknown[]; lastSeq: string }>("GET", "/messages?afterSeq=999999999999", { key: ADMIN_KEY });
  expect(reply.status).toBe(200);
  expect(reply.body.messages).toEqual([]);
  expect(reply.body.lastSeq).toMatch(/^\d+(_\d+)*$/);
  expectDeclaredAnswer(messagesRoute(), reply);
});

it("an agent's empty inbox page matches GET /messages' declared answer (no lastSeq)", async () => {
  const agent = await register("union");
  const reply = await inbox<Record<string, unknown>>(agent);
  expect(reply.status).toBe(200);
  expect(reply.body).not.toHaveProperty("lastSeq");
  expectDeclaredAnswer(messagesRoute(), reply);
});
