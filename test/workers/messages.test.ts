// Sending (SPEC §4.1) and the message routes around it: read one, delete, ack, channels, and the
// admin's global feed. Every request goes through the real Worker to the real Inbox objects.

import { describe, expect, it, vi } from "vitest";
import type { Envelope, FeedItem, MessagePage, SendResponse } from "../../protocol/envelope.js";
import type { ErrorBody } from "../../protocol/errors.js";
import { ADMIN_KEY, base64Bytes, call, inbox, register, send, textMessage, type TestAgent } from "../support/relay.js";

const ISO_MS_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const DAY_S = 86400;

async function page(agent: TestAgent, query = ""): Promise<MessagePage<Envelope>> {
  const reply = await inbox<MessagePage<Envelope>>(agent, query);
  expect(reply.status).toBe(200);
  return reply.body;
}

/** The one copy of message `id` in the agent's inbox, read through GET /messages/:id. */
async function stored(agent: TestAgent, id: string): Promise<Envelope> {
  const reply = await call<Envelope>("GET", `/messages/${encodeURIComponent(id)}`, { key: agent.apiKey });
  expect(reply.status).toBe(200);
  return reply.body;
}

/** The admin feed's items from one sender (the feed is global and filled in batches). */
async function feedFrom(sender: TestAgent): Promise<FeedItem[]> {
  const reply = await call<MessagePage<FeedItem>>("GET", `/messages?from=${sender.name}&limit=100`, { key: ADMIN_KEY });
  expect(reply.status).toBe(200);
  return reply.body.messages;
}

describe("direct send", () => {
  it("answers 201 with the id, the ts and one receipt per recipient", async () => {
    const alice = await register("alice");
    const bob = await register("bob");
    const sent = await send(alice, textMessage(bob.name, "hi"));
    expect(sent.status).toBe(201);
    const body = sent.body as SendResponse;
    expect(Object.keys(body).sort()).toEqual(["id", "recipients", "ts"]);
    expect(body.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(body.ts).toMatch(ISO_MS_UTC);
    expect(body.recipients).toEqual([{ name: bob.name, ts: body.ts }]);
  });

  it("stores the message with the same id and ts the sender was told", async () => {
    const alice = await register("alice");
    const bob = await register("bob");
    const sent = (await send(alice, textMessage(bob.name, "hi"))).body as SendResponse;
    const got = await page(bob);
    expect(got.messages).toHaveLength(1);
    expect(got.messages[0]).toMatchObject({ id: sent.id, ts: sent.ts, from: alice.name, to: bob.name, payload: "hi" });
  });

  it("stamps every ts as ISO-8601 UTC with milliseconds", async () => {
    const alice = await register("alice");
    const bob = await register("bob");
    const sent = (await send(alice, textMessage(bob.name))).body as SendResponse;
    const got = await page(bob);
    for (const ts of [sent.ts, sent.recipients[0]!.ts, got.messages[0]!.ts, got.oldestTs, got.newestTs]) {
      expect(ts).toMatch(ISO_MS_UTC);
    }
  });

  it("keeps the registered spelling of both names while `to` stays as the sender wrote it", async () => {
    const alice = await register("AliceMixed");
    const bob = await register("BobMixed");
    const written = bob.name.toLowerCase();
    const sent = await send<SendResponse>(alice, textMessage(written, "case"));
    expect(sent.status).toBe(201);
    expect(sent.body.recipients).toEqual([{ name: bob.name, ts: sent.body.ts }]);
    const copy = await stored(bob, sent.body.id);
    expect(copy.from).toBe(alice.name);
    expect(copy.to).toBe(written);
  });
});

describe("multicast", () => {
  it("stores one copy per recipient with the same id, each inbox with its own ts", async () => {
    const alice = await register("alice");
    const group = await Promise.all([register("bob"), register("carol"), register("dave")]);
    const sent = await send(alice, textMessage(group.map((a) => a.name), "to all three"));
    expect(sent.status).toBe(201);
    const body = sent.body as SendResponse;
    expect(body.recipients.map((r) => r.name).sort()).toEqual(group.map((a) => a.name).sort());
    expect(body.rejected).toBeUndefined();
    for (const agent of group) {
      const got = await page(agent);
      expect(got.messages).toHaveLength(1);
      const copy = got.messages[0]!;
      expect(copy.id).toBe(body.id);
      expect(copy.ts).toBe(body.recipients.find((r) => r.name === agent.name)!.ts);
      expect(copy.to).toEqual(group.map((a) => a.name));
    }
    // The answer's ts is one of the recipients' (the earliest).
    expect(body.ts).toBe(body.recipients.map((r) => r.ts).sort()[0]);
  });

  it("keeps `to` as the array the sender wrote, in its order and spelling", async () => {
    const alice = await register("alice");
    const bob = await register("BobCase");
    const carol = await register("CarolCase");
    const to = [carol.name.toLowerCase(), bob.name.toUpperCase()];
    const sent = await send<SendResponse>(alice, textMessage(to, "order"));
    expect(sent.status).toBe(201);
    expect((await stored(bob, sent.body.id)).to).toEqual(to);
    expect((await stored(carol, sent.body.id)).to).toEqual(to);
  });
});

describe("unknown recipients", () => {
  it("a direct send to an unknown agent answers 404 UNKNOWN_RECIPIENT naming it", async () => {
    const alice = await register("alice");
    const sent = await send<ErrorBody>(alice, textMessage("nobody_by_this_name", "lost?"));
    expect(sent.status).toBe(404);
    expect(sent.body).toMatchObject({ code: "UNKNOWN_RECIPIENT", names: ["nobody_by_this_name"] });
    expect(typeof sent.body.error).toBe("string");
  });

  it("a multicast naming one unknown agent stores nothing for anyone", async () => {
    const alice = await register("alice");
    const bob = await register("bob");
    const carol = await register("carol");
    const sent = await send(alice, textMessage([bob.name, "ghost_agent_xyz", carol.name], "partial?"));
    expect(sent.status).toBe(404);
    expect(sent.body).toMatchObject({ code: "UNKNOWN_RECIPIENT", names: ["ghost_agent_xyz"] });
    for (const agent of [bob, carol]) {
      const got = await page(agent);
      expect(got.messages).toEqual([]);
    }
  });

  it("lists every unknown name of a multicast", async () => {
    const alice = await register("alice");
    const bob = await register("bob");
    const sent = await send<ErrorBody>(alice, textMessage(["ghost_one", bob.name, "ghost_two"]));
    expect(sent.status).toBe(404);
    expect([...(sent.body.names as string[])].sort()).toEqual(["ghost_one", "ghost_two"]);
    expect((await page(bob)).messages).toEqual([]);
  });
});

describe("the stored envelope", () => {
  it("is everything the sender sent plus id, from, ts and to, with signed fields unchanged", async () => {
    const alice = await register("alice");
    const bob = await register("bob");
    const payload = 'héllo 👋🏽 👩‍👩‍👧 "quoted" \\ back\\slash\nnew line\ttab \u0000 \u2028 \u{1F600} ₿ 日本語 \ud800 </script>';
    const sent = {
      to: bob.name,
      type: "request",
      encrypted: true,
      payload,
      nonce: base64Bytes(24, 1),
      signature: base64Bytes(64, 2),
      sentAt: "2026-01-31T12:00:00.123Z",
      correlationId: "corr-Ω-42 with spaces",
      replyTo: "earlier.message:id-1",
      topic: "sync/v1.deltas:a-b_c",
      ttl: 3600,
    };
    const reply = await send<SendResponse>(alice, sent);
    expect(reply.status).toBe(201);
    const copy = await stored(bob, reply.body.id);
    // Plus what the relay adds: the reply depth (SPEC §12) and, for the recipient, `delivered`.
    expect(copy).toEqual({ ...sent, id: reply.body.id, from: alice.name, ts: reply.body.ts, depth: 0, delivered: false });
    // And the same through the inbox listing, now read before.
    expect((await page(bob)).messages[0]).toEqual({ ...copy, delivered: true });
  });

  it("keeps a client-chosen id and a sentAt with an offset exactly as sent", async () => {
    const alice = await register("alice");
    const bob = await register("bob");
    const id = crypto.randomUUID();
    const sentAt = "2026-02-01T09:30:00+02:00";
    const reply = await send<SendResponse>(alice, textMessage(bob.name, "x", { id, sentAt }));
    expect(reply.status).toBe(201);
    expect(reply.body.id).toBe(id);
    const copy = await stored(bob, id);
    expect(copy.id).toBe(id);
    expect(copy.sentAt).toBe(sentAt);
  });

  it("returns an object payload deep-equal to what was sent", async () => {
    const alice = await register("alice");
    const bob = await register("bob");
    const payload = {
      text: "structured ✓",
      nested: { list: [1, 2.5, -3, 0, true, false, null, "s"], empty: {}, none: [] },
      unicode: "🙂\u0001",
      big: 9007199254740991,
      small: 1e-7,
      "key with spaces": "v",
      constructor: "not a function",
    };
    const reply = await send<SendResponse>(alice, textMessage(bob.name, payload, { type: "response" }));
    expect(reply.status).toBe(201);
    expect((await stored(bob, reply.body.id)).payload).toEqual(payload);
  });

  it("keeps an own `__proto__` key of an object payload", async () => {
    const alice = await register("alice");
    const bob = await register("bob");
    const raw = `{"to":"${bob.name}","type":"notification","encrypted":false,"payload":{"__proto__":{"polluted":true},"a":1}}`;
    const reply = await call<SendResponse>("POST", "/messages", { key: alice.apiKey, raw });
    expect(reply.status).toBe(201);
    const got = await call("GET", `/messages/${reply.body.id}`, { key: bob.apiKey });
    expect(got.text).toContain('"__proto__":{"polluted":true}');
    expect(JSON.parse(got.text).payload).toEqual(JSON.parse(raw).payload);
  });

  it("reads JSON escapes in the request as the characters they stand for", async () => {
    const alice = await register("alice");
    const bob = await register("bob");
    const raw = `{"to":"${bob.name}","type":"notification","encrypted":false,"payload":"caf\\u00e9 \\ud83d\\ude00 \\\\ \\/"}`;
    const reply = await call<SendResponse>("POST", "/messages", { key: alice.apiKey, raw });
    expect(reply.status).toBe(201);
    expect((await stored(bob, reply.body.id)).payload).toBe("café 😀 \\ /");
  });

  it("leaves out an optional field sent as null", async () => {
    const alice = await register("alice");
    const bob = await register("bob");
    const reply = await send<SendResponse>(alice, textMessage(bob.name, "n", { topic: null, correlationId: null, ttl: null }));
    expect(reply.status).toBe(201);
    const copy = await stored(bob, reply.body.id);
    expect(Object.keys(copy).sort()).toEqual(["delivered", "depth", "encrypted", "from", "id", "payload", "to", "ts", "type"]);
  });

  it("does not add a ttl the sender left out", async () => {
    const alice = await register("alice");
    const bob = await register("bob");
    const reply = await send<SendResponse>(alice, textMessage(bob.name));
    expect(reply.status).toBe(201);
    expect("ttl" in (await stored(bob, reply.body.id))).toBe(false);
  });
});

describe("encrypted multicast with `payloads`", () => {
  it("gives each recipient its own payload, nonce and signature", async () => {
    const alice = await register("alice");
    const bob = await register("bob");
    const carol = await register("carol");
    const payloads = {
      [bob.name]: { payload: "Ym9iLWNpcGhlcnRleHQ=", nonce: base64Bytes(24, 11), signature: base64Bytes(64, 12) },
      [carol.name]: { payload: "Y2Fyb2wtY2lwaGVydGV4dA==", nonce: base64Bytes(24, 21), signature: base64Bytes(64, 22) },
    };
    const to = [bob.name, carol.name];
    const body = { to, type: "request", encrypted: true, topic: "sealed", sentAt: "2026-03-01T00:00:00.000Z", payloads };
    const reply = await send<SendResponse>(alice, body);
    expect(reply.status).toBe(201);
    const id = reply.body.id as string;
    for (const agent of [bob, carol]) {
      const copy = await stored(agent, id);
      const receipt = (reply.body as SendResponse).recipients.find((r) => r.name === agent.name)!;
      expect(copy).toEqual({
        id,
        from: alice.name,
        to,
        ts: receipt.ts,
        type: "request",
        encrypted: true,
        topic: "sealed",
        sentAt: "2026-03-01T00:00:00.000Z",
        depth: 0,
        delivered: false,
        ...payloads[agent.name],
      });
      expect("payloads" in copy).toBe(false);
    }
  });

  it("matches `payloads` keys to recipients case-insensitively and allows leaving a signature out", async () => {
    const alice = await register("alice");
    const bob = await register("BobSealed");
    const carol = await register("CarolSealed");
    const payloads = {
      [bob.name.toLowerCase()]: { payload: "YQ==", nonce: base64Bytes(24, 3) },
      [carol.name.toUpperCase()]: { payload: "Yg==", nonce: base64Bytes(24, 4), signature: base64Bytes(64, 5) },
    };
    const reply = await send<SendResponse>(alice, { to: [bob.name, carol.name], type: "notification", encrypted: true, payloads });
    expect(reply.status).toBe(201);
    const bobCopy = await stored(bob, reply.body.id);
    expect(bobCopy).toMatchObject({ payload: "YQ==", nonce: base64Bytes(24, 3) });
    expect("signature" in bobCopy).toBe(false);
    expect(await stored(carol, reply.body.id)).toMatchObject({ payload: "Yg==", nonce: base64Bytes(24, 4), signature: base64Bytes(64, 5) });
  });

  it.each([
    ["a recipient without an entry", (b: string, _c: string) => ({ [b]: { payload: "YQ==", nonce: base64Bytes(24) } })],
    [
      "an entry for someone not in `to`",
      (b: string, c: string) => ({
        [b]: { payload: "YQ==", nonce: base64Bytes(24) },
        [c]: { payload: "Yg==", nonce: base64Bytes(24) },
        someone_else: { payload: "Yw==", nonce: base64Bytes(24) },
      }),
    ],
    ["a nonce of the wrong length", (b: string, c: string) => ({ [b]: { payload: "YQ==", nonce: base64Bytes(23) }, [c]: { payload: "Yg==", nonce: base64Bytes(24) } })],
  ])("refuses `payloads` with %s (400) and stores nothing", async (_what, build) => {
    const alice = await register("alice");
    const bob = await register("bob");
    const carol = await register("carol");
    const reply = await send<ErrorBody>(alice, { to: [bob.name, carol.name], type: "notification", encrypted: true, payloads: build(bob.name, carol.name) });
    expect(reply.status).toBe(400);
    expect(reply.body.code).toBe("BAD_REQUEST");
    expect((await page(bob)).messages).toEqual([]);
  });
});

describe("reading, deleting and acking", () => {
  it("GET /messages/:id returns one message of the caller's inbox", async () => {
    const alice = await register("alice");
    const bob = await register("bob");
    const reply = await send<SendResponse>(alice, textMessage(bob.name, "one", { topic: "t1" }));
    const copy = await stored(bob, reply.body.id);
    expect(copy).toMatchObject({ id: reply.body.id, from: alice.name, payload: "one", topic: "t1", ts: reply.body.ts });
  });

  it("GET /messages/:id answers 404 for an id that is not in the caller's inbox, whoever holds it", async () => {
    const alice = await register("alice");
    const bob = await register("bob");
    const reply = await send<SendResponse>(alice, textMessage(bob.name, "bob's"));
    for (const [agent, id] of [
      [alice, reply.body.id],
      [bob, "no-such-id"],
    ] as const) {
      const got = await call<ErrorBody>("GET", `/messages/${id}`, { key: agent.apiKey });
      expect(got.status).toBe(404);
      expect(got.body.code).toBe("NOT_FOUND");
    }
  });

  it("DELETE /messages/:id answers 204, then 404 for the same id", async () => {
    const alice = await register("alice");
    const bob = await register("bob");
    const reply = await send<SendResponse>(alice, textMessage(bob.name, "delete me"));
    const first = await call("DELETE", `/messages/${reply.body.id}`, { key: bob.apiKey });
    expect(first.status).toBe(204);
    expect(first.text).toBe("");
    const second = await call<ErrorBody>("DELETE", `/messages/${reply.body.id}`, { key: bob.apiKey });
    expect(second.status).toBe(404);
    expect(second.body.code).toBe("NOT_FOUND");
    expect((await call("GET", `/messages/${reply.body.id}`, { key: bob.apiKey })).status).toBe(404);
    expect((await page(bob)).messages).toEqual([]);
  });

  it("DELETE /messages/:id cannot remove a message from another agent's inbox", async () => {
    const alice = await register("alice");
    const bob = await register("bob");
    const reply = await send<SendResponse>(alice, textMessage(bob.name, "bob keeps this"));
    const attempt = await call("DELETE", `/messages/${reply.body.id}`, { key: alice.apiKey });
    expect(attempt.status).toBe(404);
    expect((await stored(bob, reply.body.id)).payload).toBe("bob keeps this");
  });

  it("POST /messages/ack deletes the listed ids and reports the missing ones", async () => {
    const alice = await register("alice");
    const bob = await register("bob");
    const ids: string[] = [];
    for (const text of ["a", "b", "c"]) ids.push((await send<SendResponse>(alice, textMessage(bob.name, text))).body.id);
    const acked = await call("POST", "/messages/ack", { key: bob.apiKey, json: { ids: [ids[0], "missing-1", ids[2]] } });
    expect(acked.status).toBe(200);
    expect(acked.body).toEqual({ deleted: [ids[0], ids[2]], missing: ["missing-1"] });
    const left = await page(bob);
    expect(left.messages.map((m) => m.id)).toEqual([ids[1]]);
    const again = await call("POST", "/messages/ack", { key: bob.apiKey, json: { ids: [ids[0]] } });
    expect(again.body).toEqual({ deleted: [], missing: [ids[0]] });
  });

  it("POST /messages/ack refuses a body without a list of ids", async () => {
    const bob = await register("bob");
    for (const json of [{}, { ids: [] }, { ids: "abc" }]) {
      const reply = await call<ErrorBody>("POST", "/messages/ack", { key: bob.apiKey, json });
      expect(reply.status).toBe(400);
      expect(reply.body.code).toBe("BAD_REQUEST");
    }
  });
});

describe("ttl", () => {
  it.each([
    ["the default (left out)", undefined],
    ["the minimum, 60 s", 60],
    ["the maximum, 90 days", 90 * DAY_S],
  ])("accepts %s", async (_what, ttl) => {
    const alice = await register("alice");
    const bob = await register("bob");
    const reply = await send<SendResponse>(alice, textMessage(bob.name, "t", ttl === undefined ? {} : { ttl }));
    expect(reply.status).toBe(201);
    expect((await stored(bob, reply.body.id)).ttl).toBe(ttl);
  });

  it.each([
    ["59 s", 59],
    ["90 days + 1 s", 90 * DAY_S + 1],
    ["0", 0],
    ["negative", -60],
    ["fractional", 90.5],
    ["a string", "3600"],
  ])("refuses a ttl of %s with 400 and stores nothing", async (_what, ttl) => {
    const alice = await register("alice");
    const bob = await register("bob");
    const reply = await send<ErrorBody>(alice, textMessage(bob.name, "t", { ttl }));
    expect(reply.status).toBe(400);
    expect(reply.body.code).toBe("BAD_REQUEST");
    expect(reply.body.error).toMatch(/ttl/);
    expect((await page(bob)).messages).toEqual([]);
  });
});

describe("channels", () => {
  it("GET /channels lists the inbox's topics, most recent first, as strings", async () => {
    const alice = await register("alice");
    const bob = await register("bob");
    for (const topic of ["alpha", "beta", "gamma", "alpha", undefined]) {
      const reply = await send(alice, textMessage(bob.name, "c", topic === undefined ? {} : { topic }));
      expect(reply.status).toBe(201);
    }
    const channels = await call("GET", "/channels", { key: bob.apiKey });
    expect(channels.status).toBe(200);
    expect(channels.body).toEqual(["alpha", "gamma", "beta"]);
  });

  it("GET /channels of an inbox without topics is an empty array", async () => {
    const bob = await register("bob");
    const channels = await call("GET", "/channels", { key: bob.apiKey });
    expect(channels.status).toBe(200);
    expect(channels.body).toEqual([]);
  });

  it("GET /channels shows only the caller's own topics", async () => {
    const alice = await register("alice");
    const bob = await register("bob");
    const carol = await register("carol");
    await send(alice, textMessage(bob.name, "x", { topic: "bob-only" }));
    await send(alice, textMessage(carol.name, "y", { topic: "carol-only" }));
    expect((await call("GET", "/channels", { key: bob.apiKey })).body).toEqual(["bob-only"]);
    expect((await call("GET", "/channels", { key: carol.apiKey })).body).toEqual(["carol-only"]);
  });
});

describe("the admin's views", () => {
  it("GET /messages with the admin key shows message metadata: a lock for encrypted ones, a preview for plaintext", async () => {
    const alice = await register("alice");
    const bob = await register("bob");
    const long = `${"0123456789".repeat(30)}tail`;
    const plain = await send<SendResponse>(alice, textMessage(bob.name, long, { topic: "feedcheck" }));
    const sealed = await send<SendResponse>(alice, {
      to: bob.name,
      type: "request",
      encrypted: true,
      payload: "c2VjcmV0LWNpcGhlcnRleHQ=",
      nonce: base64Bytes(24),
      signature: base64Bytes(64),
    });
    expect(plain.status).toBe(201);
    expect(sealed.status).toBe(201);
    // The feed is pushed by the inboxes in batches (every ~2 s), so it shows up eventually.
    const items = await vi.waitFor(
      async () => {
        const found = await feedFrom(alice);
        expect(found.length, "items in the admin feed").toBeGreaterThanOrEqual(2);
        return found;
      },
      { timeout: 15_000, interval: 100 },
    );
    const plainItem = items.find((i) => i.id === plain.body.id)!;
    const sealedItem = items.find((i) => i.id === sealed.body.id)!;
    expect(plainItem).toMatchObject({ from: alice.name, to: bob.name, ts: plain.body.ts, type: "notification", topic: "feedcheck", encrypted: false });
    expect(plainItem.preview).toBe(long.slice(0, 200));
    expect(sealedItem).toMatchObject({ from: alice.name, to: bob.name, ts: sealed.body.ts, type: "request", encrypted: true });
    for (const item of [plainItem, sealedItem]) expect("payload" in item).toBe(false);
    expect("preview" in sealedItem).toBe(false);
    const sealedText = JSON.stringify(sealedItem);
    expect(sealedText).not.toContain("c2VjcmV0LWNpcGhlcnRleHQ=");
    expect(sealedText).not.toContain(base64Bytes(24));
  });

  it("the admin feed previews at most 200 characters of a long plaintext payload with wide characters", async () => {
    const alice = await register("alice");
    const bob = await register("bob");
    const payload = { text: "🙂é".repeat(250) };
    const reply = await send<SendResponse>(alice, textMessage(bob.name, payload));
    expect(reply.status).toBe(201);
    const item = await vi.waitFor(
      async () => {
        const found = (await feedFrom(alice)).find((i) => i.id === reply.body.id);
        expect(found, "the feed item").toBeDefined();
        return found!;
      },
      { timeout: 15_000, interval: 100 },
    );
    expect(Array.from(item.preview!).length).toBeLessThanOrEqual(200);
    expect(payload.text.startsWith(item.preview!)).toBe(true);
  });

  it("the admin feed answers with the same page fields as an inbox, plus its arrival cursor lastSeq", async () => {
    const reply = await call<MessagePage<FeedItem> & { lastSeq: string }>("GET", "/messages?limit=1", { key: ADMIN_KEY });
    expect(reply.status).toBe(200);
    expect(Object.keys(reply.body).sort()).toEqual(["count", "cursor", "hasMore", "lastSeq", "messages", "newestTs", "oldestTs"]);
    expect(reply.body.count).toBe(reply.body.messages.length);
    expect(reply.body.cursor).toBe(reply.body.oldestTs);
  });

  it("GET /channels with the admin key lists topics across all inboxes", async () => {
    const alice = await register("alice");
    const bob = await register("bob");
    const carol = await register("carol");
    const topicA = `adm.${crypto.randomUUID().slice(0, 8)}`;
    const topicB = `adm.${crypto.randomUUID().slice(0, 8)}`;
    await send(alice, textMessage(bob.name, "1", { topic: topicA }));
    await send(alice, textMessage(carol.name, "2", { topic: topicB }));
    await send(alice, textMessage(carol.name, "3", { topic: topicB }));
    const channels = await vi.waitFor(
      async () => {
        const list = (await call<string[]>("GET", "/channels", { key: ADMIN_KEY })).body;
        expect(list, "admin channels").toEqual(expect.arrayContaining([topicA, topicB]));
        return list;
      },
      { timeout: 15_000, interval: 100 },
    );
    expect(channels.every((c) => typeof c === "string")).toBe(true);
    // Most recent first: topicB was used after topicA.
    expect(channels.indexOf(topicB)).toBeLessThan(channels.indexOf(topicA));
    // With ?detail=true each topic comes with its message count (batches add up, so poll).
    await vi.waitFor(
      async () => {
        const counts = (await call<{ topic: string; count: number }[]>("GET", "/channels?detail=true", { key: ADMIN_KEY })).body;
        const countOf = (topic: string) => counts.find((c) => c.topic === topic)?.count;
        expect([countOf(topicA), countOf(topicB)], "admin channel counts").toEqual([1, 2]);
      },
      { timeout: 15_000, interval: 100 },
    );
  });
});
