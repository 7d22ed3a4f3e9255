// Safety between agents under the limits project's small numbers (SPEC §12): RATE_LIMIT_PER_MIN=5
// and MAX_REPLY_DEPTH=3. A send refused by a contact policy counts nothing against the sender's
// rate limit; the loop guard refuses a reply deeper than MAX_REPLY_DEPTH, storing and counting nothing.

import { describe, expect, it } from "vitest";
import type { Envelope, MessagePage, SendResponse } from "../../protocol/envelope.js";
import type { ErrorBody } from "../../protocol/errors.js";
import { call, inbox, register, send, textMessage, uniqueName, type TestAgent } from "../support/relay.js";

async function reply(from: TestAgent, to: TestAgent, replyTo: string | undefined, text: string) {
  return send<SendResponse & ErrorBody>(from, textMessage(to.name, text, replyTo === undefined ? {} : { replyTo }));
}

async function only(agent: TestAgent, id: string): Promise<Envelope> {
  const page = await inbox<MessagePage<Envelope>>(agent, "limit=10");
  return page.body.messages.find((m) => m.id === id)!;
}

describe("the contact policy and the rate limit", () => {
  it("six sends refused by a contacts-only recipient count nothing: the whole allowance is left", async () => {
    const [eve, bob, carol] = await Promise.all([register("sl_eve"), register("sl_bob"), register("sl_carol")]);
    expect((await call("PATCH", `/agents/${bob.name}`, { key: bob.apiKey, json: { accept: "contacts", contacts: [carol.name] } })).status).toBe(200);
    for (let i = 0; i < 6; i++) {
      const refused = await send<ErrorBody>(eve, textMessage(bob.name, `knock ${i}`));
      expect(refused.status).toBe(403);
      expect(refused.body).toMatchObject({ code: "NOT_ACCEPTED", names: [bob.name] });
    }
    const burst = await Promise.all([1, 2, 3, 4, 5].map((i) => send(eve, textMessage(carol.name, `ok ${i}`))));
    expect(burst.map((r) => r.status)).toEqual([201, 201, 201, 201, 201]);
    expect((await inbox<MessagePage>(bob)).body.messages).toEqual([]);
  });
});

describe("the loop guard (MAX_REPLY_DEPTH=3)", () => {
  it("counts depth along a thread and refuses the reply that would go beyond it, storing and counting nothing", async () => {
    const [alice, bob] = await Promise.all([register("sl_alice"), register("sl_bob")]);
    const m0 = await reply(alice, bob, undefined, "start");
    expect((await only(bob, m0.body.id)).depth).toBe(0);
    const m1 = await reply(bob, alice, m0.body.id, "re 1");
    expect((await only(alice, m1.body.id)).depth).toBe(1);
    const m2 = await reply(alice, bob, m1.body.id, "re 2");
    // bob deletes what he got: the depth is remembered after deletion (for the id's TTL).
    expect((await call("DELETE", `/messages/${m2.body.id}`, { key: bob.apiKey })).status).toBe(204);
    const m3 = await reply(bob, alice, m2.body.id, "re 3");
    expect((await only(alice, m3.body.id)).depth).toBe(3);

    const before = (await inbox<MessagePage>(bob, "limit=10")).body.messages.length;
    const m4 = await reply(alice, bob, m3.body.id, "re 4");
    expect(m4.status).toBe(409);
    expect(m4.body.code).toBe("LOOP_DETECTED");
    expect(m4.body.error).toContain("MAX_REPLY_DEPTH");
    expect((await inbox<MessagePage>(bob, "limit=10")).body.messages.length).toBe(before);
    // Refused, so not counted: alice (2 sends so far) still has 3 of her 5.
    const rest = await Promise.all([1, 2, 3].map((i) => reply(alice, bob, undefined, `fresh ${i}`)));
    expect(rest.map((r) => r.status)).toEqual([201, 201, 201]);
    expect((await reply(alice, bob, undefined, "over")).status).toBe(429);
  });

  it("a replyTo the sender never received counts as depth 0 and reveals nothing about that message", async () => {
    const [alice, bob, carol] = await Promise.all([register("sl_alice"), register("sl_bob"), register("sl_carol")]);
    // A deep message in carol's inbox: bob cannot borrow its depth by naming it.
    let last: string | undefined;
    let from = alice;
    let to = carol;
    for (let i = 0; i < 3; i++) {
      const sent = await reply(from, to, last, `thread ${i}`);
      expect(sent.status).toBe(201);
      last = sent.body.id;
      [from, to] = [to, from];
    }
    const borrowed = await reply(bob, alice, last, "pretending to reply");
    expect(borrowed.status).toBe(201);
    expect((await only(alice, borrowed.body.id)).depth).toBe(0);
    // A message the sender itself sent is not one it received either.
    const own = await reply(alice, bob, undefined, "mine");
    const selfReply = await reply(alice, bob, own.body.id, "replying to my own");
    expect((await only(bob, selfReply.body.id)).depth).toBe(0);
    const toNothing = await reply(alice, bob, uniqueName("nope"), "to no message at all");
    expect(toNothing.status).toBe(201);
    expect((await only(bob, toNothing.body.id)).depth).toBe(0);
  });
});
