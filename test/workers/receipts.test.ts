// Delivery state and receipts (SPEC §11.1), through HTTP on the real Worker and objects: each
// stored copy goes stored → delivered (first handed to its recipient: a page, a long-poll, GET by
// id, an MCP read) → acked; the recipient's inbox reports it to the sender's inbox from its alarm
// (within FEED_FLUSH_MS, 2 s here), and the sender reads it at GET /messages/:id/receipts, which
// long-polls with `wait` and `until`.

import { describe, expect, it } from "vitest";
import type { DeliveryReceipt, Envelope, MessagePage, Receipts, SendResponse } from "../../protocol/envelope.js";
import type { ErrorBody } from "../../protocol/errors.js";
import { ADMIN_KEY, call, inbox, register, send, textMessage, uniqueName, type TestAgent } from "../support/relay.js";

type Rows = Extract<Receipts, { recipients: unknown }>;

async function sendTo(from: TestAgent, to: TestAgent | TestAgent[], payload = "hello", extra: Record<string, unknown> = {}): Promise<SendResponse> {
  const names = Array.isArray(to) ? to.map((a) => a.name) : to.name;
  const reply = await send<SendResponse>(from, textMessage(names, payload, extra));
  expect(reply.status, reply.text).toBe(201);
  return reply.body;
}

function receipts(agent: TestAgent | "admin", id: string, query = "") {
  return call<Rows & ErrorBody>("GET", `/messages/${id}/receipts${query ? `?${query}` : ""}`, { key: agent === "admin" ? ADMIN_KEY : agent.apiKey });
}

/** Holds (wait) until every copy reached `until`, and checks it did. */
async function settled(sender: TestAgent, id: string, until: "delivered" | "acked"): Promise<Rows> {
  const reply = await receipts(sender, id, `wait=20&until=${until}`);
  expect(reply.status, reply.text).toBe(200);
  return reply.body;
}

const byName = (rows: Rows) => Object.fromEntries(rows.recipients.map((r) => [r.name, r])) as Record<string, DeliveryReceipt>;
const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

describe("a direct message's receipt", () => {
  it("is `stored` at once (read-your-writes), `delivered` via poll after the recipient's page, `acked` after its DELETE", async () => {
    const [alice, bob] = await Promise.all([register("rc_a"), register("rc_b")]);
    const sent = await sendTo(alice, bob);
    const first = await receipts(alice, sent.id);
    expect(first.status).toBe(200);
    expect(first.body).toEqual({ id: sent.id, ts: first.body.ts, recipients: [{ name: bob.name, status: "stored", ts: sent.recipients[0]!.ts }] });

    const page = await inbox<MessagePage>(bob, "sort=asc");
    expect(page.body.messages[0]).toMatchObject({ id: sent.id, delivered: false });
    const delivered = byName(await settled(alice, sent.id, "delivered"))[bob.name]!;
    expect(delivered).toMatchObject({ status: "delivered", via: "poll", ts: sent.recipients[0]!.ts });
    expect(delivered.deliveredAt).toMatch(ISO);
    expect(Date.parse(delivered.deliveredAt!)).toBeGreaterThanOrEqual(Date.parse(sent.recipients[0]!.ts));

    expect((await call("DELETE", `/messages/${sent.id}`, { key: bob.apiKey })).status).toBe(204);
    const acked = byName(await settled(alice, sent.id, "acked"))[bob.name]!;
    expect(acked).toMatchObject({ status: "acked", via: "poll", deliveredAt: delivered.deliveredAt });
    expect(Date.parse(acked.ackedAt!)).toBeGreaterThanOrEqual(Date.parse(delivered.deliveredAt!));
  });

  it.each([
    ["a long-poll answer", "poll", (bob: TestAgent) => inbox(bob, `sort=asc&wait=10&after=${encodeURIComponent(new Date(Date.now() - 60_000).toISOString())}`)],
    ["GET /messages/:id", "poll", (bob: TestAgent, id: string) => call("GET", `/messages/${id}`, { key: bob.apiKey })],
    ["a page read with via=mcp", "mcp", (bob: TestAgent) => inbox(bob, "via=mcp")],
    ["GET /messages/:id?via=mcp", "mcp", (bob: TestAgent, id: string) => call("GET", `/messages/${id}?via=mcp`, { key: bob.apiKey })],
  ] as const)("is `delivered` via %s", async (_how, via, read) => {
    const [alice, bob] = await Promise.all([register("rc_a"), register("rc_b")]);
    const sent = await sendTo(alice, bob);
    expect((await read(bob, sent.id)).status).toBe(200);
    expect(byName(await settled(alice, sent.id, "delivered"))[bob.name]).toMatchObject({ status: "delivered", via });
  });

  it("a long-poll held before the message arrives delivers it the moment it is stored", async () => {
    const [alice, bob] = await Promise.all([register("rc_a"), register("rc_b")]);
    const held = inbox<MessagePage>(bob, `sort=asc&wait=20&after=${encodeURIComponent(new Date().toISOString())}`);
    const sent = await sendTo(alice, bob, "while waiting");
    const page = await held;
    expect(page.body.messages.map((m) => [m.id, m.delivered])).toEqual([[sent.id, false]]);
    expect(byName(await settled(alice, sent.id, "delivered"))[bob.name]).toMatchObject({ status: "delivered", via: "poll" });
  });
});

describe("a multicast's receipts", () => {
  it("follow each recipient on its own: one reads, one acks, one never reads", async () => {
    const [alice, reader, acker, idle] = await Promise.all([register("rc_a"), register("rc_r"), register("rc_k"), register("rc_i")]);
    const sent = await sendTo(alice, [reader, acker, idle], "to three");
    expect((await inbox(reader)).status).toBe(200);
    expect((await call("POST", "/messages/ack", { key: acker.apiKey, json: { ids: [sent.id] } })).status).toBe(200);
    // Held until every copy reached `acked` or the wait ends (the idle one never will): 3 s.
    const reply = await receipts(alice, sent.id, "wait=3&until=acked");
    const rows = byName(reply.body);
    expect(rows[reader.name]).toMatchObject({ status: "delivered", via: "poll" });
    expect(rows[acker.name]).toMatchObject({ status: "acked" });
    expect(rows[acker.name]).not.toHaveProperty("deliveredAt"); // acked without ever being read
    expect(rows[idle.name]).toEqual({ name: idle.name, status: "stored", ts: sent.recipients.find((r) => r.name === idle.name)!.ts });
    expect(reply.body.recipients.map((r) => r.name)).toEqual([reader.name, acker.name, idle.name].sort());
  });
});

describe("GET /messages/:id/receipts with wait", () => {
  it("wakes on the state it waits for, not on an earlier one, and at its deadline answers the current state", async () => {
    const [alice, bob] = await Promise.all([register("rc_a"), register("rc_b")]);
    const sent = await sendTo(alice, bob);
    const waiting = receipts(alice, sent.id, "wait=20&until=acked");
    await inbox(bob); // delivered: the acked wait keeps holding
    const early = await receipts(alice, sent.id, "wait=20&until=delivered");
    expect(byName(early.body)[bob.name]!.status).toBe("delivered");
    await call("DELETE", `/messages/${sent.id}`, { key: bob.apiKey });
    expect(byName((await waiting).body)[bob.name]!.status).toBe("acked");

    const unread = await sendTo(alice, bob, "never read");
    const started = Date.now();
    const atDeadline = await receipts(alice, unread.id, "wait=1&until=delivered");
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    expect(byName(atDeadline.body)[bob.name]!.status).toBe("stored");
  });
});

describe("who may read receipts", () => {
  it("the sender and the admin (naming the sender with from=); the recipient and anyone else get 404", async () => {
    const [alice, bob, eve] = await Promise.all([register("rc_a"), register("rc_b"), register("rc_e")]);
    const sent = await sendTo(alice, bob);
    expect((await receipts(alice, sent.id)).status).toBe(200);
    for (const outsider of [bob, eve]) {
      const reply = await receipts(outsider, sent.id);
      expect(reply.status).toBe(404);
      expect(reply.body.code).toBe("NOT_FOUND");
    }
    expect((await receipts("admin", sent.id, `from=${alice.name}`)).body.recipients[0]!.name).toBe(bob.name);
    expect((await receipts("admin", sent.id, `from=${eve.name}`)).status).toBe(404);
    const noFrom = await receipts("admin", sent.id);
    expect(noFrom.status).toBe(400);
    expect(noFrom.body.error).toContain("from");
    expect((await receipts(alice, "no-such-id")).status).toBe(404);
  });
});

describe("GET /messages?unread=true", () => {
  it("answers only copies not yet delivered, each with `delivered`, and pages with after", async () => {
    const [alice, bob] = await Promise.all([register("rc_a"), register("rc_b")]);
    const first = await sendTo(alice, bob, "m1");
    await call("GET", `/messages/${first.id}`, { key: bob.apiKey }); // m1 is now delivered
    const rest = [await sendTo(alice, bob, "m2"), await sendTo(alice, bob, "m3"), await sendTo(alice, bob, "m4")];
    const page1 = await inbox<MessagePage>(bob, "unread=true&sort=asc&limit=2");
    expect(page1.body.messages.map((m) => [m.payload, m.delivered])).toEqual([["m2", false], ["m3", false]]);
    expect(page1.body.hasMore).toBe(true);
    const page2 = await inbox<MessagePage>(bob, `unread=true&sort=asc&limit=2&after=${encodeURIComponent(page1.body.newestTs!)}`);
    expect(page2.body.messages.map((m) => m.payload)).toEqual(["m4"]);
    expect(page2.body.hasMore).toBe(false);
    // Having been answered, all of them are read now: nothing is unread, everything is `delivered`.
    expect((await inbox<MessagePage>(bob, "unread=true")).body.messages).toEqual([]);
    const all = await inbox<MessagePage>(bob, "sort=asc");
    expect(all.body.messages.map((m) => [m.payload, m.delivered])).toEqual([["m1", true], ["m2", true], ["m3", true], ["m4", true]]);
    expect(rest).toHaveLength(3);
  });

  it("a long-poll with unread=true is not answered by delivered messages and wakes for a new one", async () => {
    const [alice, bob] = await Promise.all([register("rc_a"), register("rc_b")]);
    const old = await sendTo(alice, bob, "already read");
    await inbox(bob);
    const held = inbox<MessagePage>(bob, "unread=true&wait=20");
    const fresh = await sendTo(alice, bob, "new");
    const page = await held;
    expect(page.body.messages.map((m) => m.id)).toEqual([fresh.id]);
    expect(page.body.messages.map((m) => m.id)).not.toContain(old.id);
  });
});

describe("marking is exact under concurrency", () => {
  it("50 concurrent readers of one page: each copy is answered undelivered exactly once and has one deliveredAt", async () => {
    const [alice, bob] = await Promise.all([register("rc_a"), register("rc_b")]);
    const sent = [await sendTo(alice, bob, "c1"), await sendTo(alice, bob, "c2"), await sendTo(alice, bob, "c3")];
    const pages = await Promise.all(Array.from({ length: 50 }, () => inbox<MessagePage<Envelope>>(bob, "sort=asc")));
    for (const message of sent) {
      const firsts = pages.filter((p) => p.body.messages.find((m) => m.id === message.id)?.delivered === false);
      expect(firsts, message.id).toHaveLength(1);
    }
    const stamps = await Promise.all(sent.map(async (m) => byName(await settled(alice, m.id, "delivered"))[bob.name]!.deliveredAt));
    for (const stamp of stamps) expect(stamp).toMatch(ISO);
  });
});

describe("hostile values", () => {
  it.each([
    ["GET", "/messages?unread=yes", "unread"],
    ["GET", "/messages?unread=1", "unread"],
    ["GET", "/messages?via=webhook", "via"],
    ["GET", "/messages?via=", "via"],
    ["GET", "/messages/x?via=sms", "via"],
  ])("%s %s is a 400 naming %s", async (method, path, field) => {
    const bob = await register("rc_h");
    const reply = await call<ErrorBody>(method, path, { key: bob.apiKey });
    expect(reply.status).toBe(400);
    expect(reply.body.error).toContain(field);
  });

  it.each(["until=read", "until=", "wait=-1", "wait=abc", "wait=1e3", "until=ACKED"])("receipts with %s is a 400", async (query) => {
    const [alice, bob] = await Promise.all([register("rc_a"), register("rc_b")]);
    const sent = await sendTo(alice, bob);
    const reply = await receipts(alice, sent.id, query);
    expect(reply.status).toBe(400);
    expect(reply.body.code).toBe("BAD_REQUEST");
  });

  it("unread and via on the admin feed are a 400 (it shows each item's state but is not filtered by it)", async () => {
    for (const query of ["unread=true", "via=mcp"]) {
      const reply = await call<ErrorBody>("GET", `/messages?${query}`, { key: ADMIN_KEY });
      expect(reply.status).toBe(400);
      expect(reply.body.error).toContain(query.split("=")[0]);
    }
  });

  it("receipts of an id with a slash or of 200 characters are 404, never 500", async () => {
    const alice = await register("rc_a");
    expect((await receipts(alice, "a%2Fb")).status).toBe(404);
    expect((await receipts(alice, uniqueName("x").repeat(10))).status).toBe(404);
  });
});
