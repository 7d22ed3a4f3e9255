// SPEC §4.1 inbox quota, under the limits project's INBOX_MAX=5: a full inbox refuses new
// messages with 507 INBOX_FULL naming the recipient, and nothing is dropped to make room.
// Each sender may send only 5 a minute (RATE_LIMIT_PER_MIN=5), so tests use several senders.

import { describe, expect, it } from "vitest";
import type { MessagePage, SendResponse } from "../../protocol/envelope.js";
import type { ErrorBody } from "../../protocol/errors.js";
import { call, inbox, register, send, textMessage, type TestAgent } from "../support/relay.js";

const INBOX_MAX = 5;

async function agents(prefix: string, n: number): Promise<TestAgent[]> {
  return Promise.all(Array.from({ length: n }, () => register(prefix)));
}

/** Fills `recipient`'s inbox to INBOX_MAX from `sender`; returns the stored ids in send order. */
async function fill(sender: TestAgent, recipient: TestAgent): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < INBOX_MAX; i++) {
    const sent = await send<SendResponse>(sender, textMessage(recipient.name, `fill${i}`));
    expect(sent.status).toBe(201);
    ids.push(sent.body.id as string);
  }
  return ids;
}

/** Every id in an agent's inbox (the inbox never holds more than INBOX_MAX < PAGE_MAX here). */
async function storedIds(agent: TestAgent): Promise<string[]> {
  const got = await inbox<MessagePage>(agent, "sort=asc&limit=10");
  expect(got.status).toBe(200);
  expect(got.body.hasMore).toBe(false);
  return got.body.messages.map((m: { id: string }) => m.id);
}

describe("a full inbox", () => {
  it("accepts INBOX_MAX messages and refuses the next direct send with 507 naming the recipient", async () => {
    const [filler, other, bob] = await agents("q_direct", 3);
    const ids = await fill(filler!, bob!);

    const refused = await send<ErrorBody>(other!, textMessage(bob!.name, "one too many"));
    expect(refused.status).toBe(507);
    expect(refused.body.code).toBe("INBOX_FULL");
    expect(refused.body.names).toEqual([bob!.name]);
    expect(refused.body.error).toContain(bob!.name);

    // Nothing was dropped to make room, and nothing of the refused send was stored.
    expect(await storedIds(bob!)).toEqual(ids);
  });

  it("is refused the same way whatever the case of the name in `to`", async () => {
    const [filler, other, bob] = await agents("q_case", 3);
    await fill(filler!, bob!);
    const refused = await send<ErrorBody>(other!, textMessage(bob!.name.toUpperCase(), "shouting"));
    expect(refused.status).toBe(507);
    expect(refused.body.code).toBe("INBOX_FULL");
    // The registered spelling is named.
    expect(refused.body.names).toEqual([bob!.name]);
  });

  it("in a multicast: stores the other copies, answers 201 and lists the full inbox under `rejected`", async () => {
    const [filler, sender, full, open] = await agents("q_multi", 4);
    const fullIds = await fill(filler!, full!);

    const sent = await send<SendResponse>(sender!, textMessage([full!.name, open!.name], "to both"));
    expect(sent.status).toBe(201);
    expect(sent.body.rejected).toEqual([{ name: full!.name, code: "INBOX_FULL" }]);
    expect(sent.body.recipients).toHaveLength(1);
    expect(sent.body.recipients[0]!.name).toBe(open!.name);
    expect(typeof sent.body.recipients[0]!.ts).toBe("string");

    // The open inbox holds the copy with the answered id and ts; the full one is unchanged.
    const got = await inbox<MessagePage>(open!);
    expect(got.body.messages).toHaveLength(1);
    expect(got.body.messages[0]).toMatchObject({ id: sent.body.id, ts: sent.body.recipients[0]!.ts, payload: "to both" });
    expect(await storedIds(full!)).toEqual(fullIds);
  });

  it("in a multicast where every inbox is full: stores nothing and answers 507 naming them all", async () => {
    const [filler1, filler2, sender, a, b] = await agents("q_allfull", 5);
    await fill(filler1!, a!);
    await fill(filler2!, b!);
    const refused = await send<ErrorBody>(sender!, textMessage([a!.name, b!.name], "nowhere"));
    expect(refused.status).toBe(507);
    expect(refused.body.code).toBe("INBOX_FULL");
    expect([...refused.body.names!].sort()).toEqual([a!.name, b!.name].sort());
  });

  it("accepts a send again after the recipient deletes a message, and is full again after it", async () => {
    const [filler, other, bob] = await agents("q_ack", 3);
    const ids = await fill(filler!, bob!);
    expect((await send(other!, textMessage(bob!.name, "refused"))).status).toBe(507);

    const deleted = await call("DELETE", `/messages/${ids[0]}`, { key: bob!.apiKey });
    expect(deleted.status).toBe(204);

    const accepted = await send<SendResponse>(other!, textMessage(bob!.name, "room again"));
    expect(accepted.status).toBe(201);
    expect(await storedIds(bob!)).toEqual([...ids.slice(1), accepted.body.id]);

    const fullAgain = await send<ErrorBody>(other!, textMessage(bob!.name, "full again"));
    expect(fullAgain.status).toBe(507);
    expect(fullAgain.body.code).toBe("INBOX_FULL");
  });

  it("makes room for as many messages as POST /messages/ack deletes", async () => {
    const [filler, other, bob] = await agents("q_bulkack", 3);
    const ids = await fill(filler!, bob!);
    const acked = await call("POST", "/messages/ack", { key: bob!.apiKey, json: { ids: ids.slice(0, 2) } });
    expect(acked.status).toBe(200);
    expect(acked.body).toEqual({ deleted: ids.slice(0, 2), missing: [] });

    const results = [];
    for (let i = 0; i < 3; i++) results.push((await send(other!, textMessage(bob!.name, `after-ack${i}`))).status);
    expect(results).toEqual([201, 201, 507]);
  });

  it("is per recipient: other inboxes still accept messages", async () => {
    const [filler, other, bob, carol] = await agents("q_peer", 4);
    await fill(filler!, bob!);
    expect((await send(other!, textMessage(bob!.name, "bob is full"))).status).toBe(507);
    expect((await send(other!, textMessage(carol!.name, "carol has room"))).status).toBe(201);
    expect((await send(other!, textMessage(filler!.name, "the sender has room"))).status).toBe(201);
  });
});
