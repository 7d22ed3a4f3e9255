// Receiving (SPEC §4.2): order, time filters, limit, topic and sender filters, the page fields,
// and paging a large inbox whose oldest messages are no longer in the Inbox's memory cache.

import { describe, expect, it } from "vitest";
import type { Envelope, MessagePage, SendResponse } from "../../protocol/envelope.js";
import type { ErrorBody } from "../../protocol/errors.js";
import { inbox, register, send, textMessage, type TestAgent } from "../support/relay.js";

async function page(agent: TestAgent, query = ""): Promise<MessagePage<Envelope>> {
  const reply = await inbox<MessagePage<Envelope>>(agent, query);
  expect(reply.status, reply.text).toBe(200);
  return reply.body;
}

/** Sends `n` messages one after another (so their order is known); returns ids and ts in send order. */
async function sendInOrder(from: TestAgent, to: TestAgent, n: number, extra: (i: number) => Record<string, unknown> = () => ({})) {
  const sent: { id: string; ts: string }[] = [];
  for (let i = 0; i < n; i++) {
    const reply = await send<SendResponse>(from, textMessage(to.name, `m${i}`, extra(i)));
    expect(reply.status).toBe(201);
    sent.push({ id: reply.body.id, ts: reply.body.ts });
  }
  return sent;
}

/** Sends `n` messages at once; returns their ids. */
async function sendAtOnce(from: TestAgent, to: TestAgent, n: number): Promise<string[]> {
  const replies = await Promise.all(Array.from({ length: n }, (_, i) => send(from, textMessage(to.name, `c${i}`))));
  for (const reply of replies) expect(reply.status).toBe(201);
  return replies.map((r) => (r.body as SendResponse).id);
}

const ids = (p: MessagePage<Envelope>) => p.messages.map((m) => m.id);

function expectStrictlyIncreasing(ts: string[]): void {
  for (let i = 1; i < ts.length; i++) expect(Date.parse(ts[i]!)).toBeGreaterThan(Date.parse(ts[i - 1]!));
}

describe("order", () => {
  it("is newest first by default", async () => {
    const [alice, bob] = await Promise.all([register("alice"), register("bob")]);
    const sent = await sendInOrder(alice, bob, 5);
    const got = await page(bob);
    expect(ids(got)).toEqual(sent.map((s) => s.id).reverse());
    expect(got.messages.map((m) => m.ts)).toEqual(sent.map((s) => s.ts).reverse());
  });

  it("is oldest first with sort=asc, and newest first with sort=desc", async () => {
    const [alice, bob] = await Promise.all([register("alice"), register("bob")]);
    const sent = await sendInOrder(alice, bob, 5);
    expect(ids(await page(bob, "sort=asc"))).toEqual(sent.map((s) => s.id));
    expect(ids(await page(bob, "sort=desc"))).toEqual(sent.map((s) => s.id).reverse());
  });

  it("refuses any other sort with 400", async () => {
    const bob = await register("bob");
    const reply = await inbox<ErrorBody>(bob, "sort=newest");
    expect(reply.status).toBe(400);
    expect(reply.body.code).toBe("BAD_REQUEST");
  });
});

describe("time filters", () => {
  it.each(["after", "since"])("%s returns only messages strictly after the timestamp", async (param) => {
    const [alice, bob] = await Promise.all([register("alice"), register("bob")]);
    const sent = await sendInOrder(alice, bob, 6);
    const pivot = sent[2]!.ts;
    expect(ids(await page(bob, `sort=asc&${param}=${pivot}`))).toEqual(sent.slice(3).map((s) => s.id));
    expect(ids(await page(bob, `${param}=${pivot}`))).toEqual(sent.slice(3).map((s) => s.id).reverse());
    expect(ids(await page(bob, `${param}=${sent[5]!.ts}`))).toEqual([]);
  });

  it("before returns only messages strictly before the timestamp", async () => {
    const [alice, bob] = await Promise.all([register("alice"), register("bob")]);
    const sent = await sendInOrder(alice, bob, 6);
    const pivot = sent[3]!.ts;
    expect(ids(await page(bob, `before=${pivot}`))).toEqual(sent.slice(0, 3).map((s) => s.id).reverse());
    expect(ids(await page(bob, `sort=asc&before=${pivot}`))).toEqual(sent.slice(0, 3).map((s) => s.id));
    expect(ids(await page(bob, `before=${sent[0]!.ts}`))).toEqual([]);
  });

  it("after and before together select the window between them", async () => {
    const [alice, bob] = await Promise.all([register("alice"), register("bob")]);
    const sent = await sendInOrder(alice, bob, 7);
    const got = await page(bob, `sort=asc&after=${sent[1]!.ts}&before=${sent[5]!.ts}`);
    expect(ids(got)).toEqual(sent.slice(2, 5).map((s) => s.id));
  });

  it("accepts a timestamp with a zone offset", async () => {
    const [alice, bob] = await Promise.all([register("alice"), register("bob")]);
    const sent = await sendInOrder(alice, bob, 3);
    const ms = Date.parse(sent[0]!.ts) + 2 * 3600_000;
    const shifted = new Date(ms).toISOString().replace("Z", "+02:00");
    expect(ids(await page(bob, `sort=asc&after=${encodeURIComponent(shifted)}`))).toEqual(sent.slice(1).map((s) => s.id));
  });

  it.each(["after=yesterday", "since=12345", "before=2026-13-45T00:00:00Z"])("refuses %s with 400", async (query) => {
    const bob = await register("bob");
    const reply = await inbox<ErrorBody>(bob, query);
    expect(reply.status).toBe(400);
    expect(reply.body.code).toBe("BAD_REQUEST");
  });
});

describe("limit", () => {
  it("is 50 by default", async () => {
    const [alice, bob] = await Promise.all([register("alice"), register("bob")]);
    await sendAtOnce(alice, bob, 55);
    const got = await page(bob);
    expect(got.messages).toHaveLength(50);
    expect(got.count).toBe(50);
    expect(got.hasMore).toBe(true);
  });

  it("is clamped to 100 when larger", async () => {
    const [alice, bob] = await Promise.all([register("alice"), register("bob")]);
    await sendAtOnce(alice, bob, 110);
    for (const limit of [101, 1000, 99999999]) {
      const got = await page(bob, `limit=${limit}`);
      expect(got.messages).toHaveLength(100);
      expect(got.hasMore).toBe(true);
    }
    expect((await page(bob, "limit=7")).messages).toHaveLength(7);
  });

  it.each(["0", "-1", "abc", "1.5", "", "1e2"])("refuses limit=%s with 400", async (limit) => {
    const bob = await register("bob");
    const reply = await inbox<ErrorBody>(bob, `limit=${limit}`);
    expect(reply.status).toBe(400);
    expect(reply.body.code).toBe("BAD_REQUEST");
    expect(reply.body.error).toMatch(/limit/);
  });
});

describe("topic and sender filters", () => {
  it("topic returns only messages with that topic", async () => {
    const [alice, bob] = await Promise.all([register("alice"), register("bob")]);
    const sent = await sendInOrder(alice, bob, 6, (i) => (i % 2 === 0 ? { topic: "even" } : i === 1 ? {} : { topic: "odd.ones" }));
    expect(ids(await page(bob, "sort=asc&topic=even"))).toEqual([sent[0]!.id, sent[2]!.id, sent[4]!.id]);
    expect(ids(await page(bob, "sort=asc&topic=odd.ones"))).toEqual([sent[3]!.id, sent[5]!.id]);
    expect(ids(await page(bob, "topic=none"))).toEqual([]);
  });

  it("from returns only messages from that sender, compared case-insensitively", async () => {
    const [alice, carol, bob] = await Promise.all([register("AliceFrom"), register("CarolFrom"), register("bob")]);
    const a1 = await send<SendResponse>(alice, textMessage(bob.name, "a1"));
    const c1 = await send<SendResponse>(carol, textMessage(bob.name, "c1"));
    const a2 = await send<SendResponse>(alice, textMessage(bob.name, "a2"));
    for (const spelling of [alice.name, alice.name.toLowerCase(), alice.name.toUpperCase()]) {
      expect(ids(await page(bob, `sort=asc&from=${spelling}`))).toEqual([a1.body.id, a2.body.id]);
    }
    expect(ids(await page(bob, `from=${carol.name.toLowerCase()}`))).toEqual([c1.body.id]);
  });

  it("filters combine with each other and with time filters", async () => {
    const [alice, carol, bob] = await Promise.all([register("alice"), register("carol"), register("bob")]);
    const a1 = await send<SendResponse>(alice, textMessage(bob.name, "a1", { topic: "x" }));
    await send(carol, textMessage(bob.name, "c1", { topic: "x" }));
    await send(alice, textMessage(bob.name, "a2", { topic: "y" }));
    const a3 = await send<SendResponse>(alice, textMessage(bob.name, "a3", { topic: "x" }));
    expect(ids(await page(bob, `sort=asc&topic=x&from=${alice.name}`))).toEqual([a1.body.id, a3.body.id]);
    expect(ids(await page(bob, `topic=x&from=${alice.name}&after=${a1.body.ts}`))).toEqual([a3.body.id]);
  });

  it.each(["topic=bad%20topic", "from=x", "from=not%20a%20name"])("refuses an invalid filter %s with 400", async (query) => {
    const bob = await register("bob");
    const reply = await inbox<ErrorBody>(bob, query);
    expect(reply.status).toBe(400);
    expect(reply.body.code).toBe("BAD_REQUEST");
  });
});

describe("the page fields", () => {
  it("are messages, count, cursor (= oldestTs), oldestTs, newestTs and hasMore", async () => {
    const [alice, bob] = await Promise.all([register("alice"), register("bob")]);
    const sent = await sendInOrder(alice, bob, 4);
    for (const sort of ["desc", "asc"]) {
      const got = await page(bob, `sort=${sort}&limit=3`);
      expect(Object.keys(got).sort()).toEqual(["count", "cursor", "hasMore", "messages", "newestTs", "oldestTs"]);
      expect(got.count).toBe(3);
      const window = sort === "desc" ? sent.slice(1) : sent.slice(0, 3);
      expect(got.oldestTs).toBe(window[0]!.ts);
      expect(got.newestTs).toBe(window[2]!.ts);
      expect(got.cursor).toBe(got.oldestTs);
      expect(got.hasMore).toBe(true);
    }
  });

  it("an empty inbox gives no messages and null timestamps", async () => {
    const bob = await register("bob");
    const got = await page(bob);
    expect(got).toEqual({ messages: [], count: 0, cursor: null, oldestTs: null, newestTs: null, hasMore: false });
  });

  it("a filter matching nothing gives no messages and null timestamps", async () => {
    const [alice, bob] = await Promise.all([register("alice"), register("bob")]);
    const sent = await sendInOrder(alice, bob, 2);
    const got = await page(bob, `after=${sent[1]!.ts}`);
    expect(got).toEqual({ messages: [], count: 0, cursor: null, oldestTs: null, newestTs: null, hasMore: false });
  });
});

describe("hasMore", () => {
  it.each(["desc", "asc"])("says whether more messages match beyond the page (sort=%s)", async (sort) => {
    const [alice, bob] = await Promise.all([register("alice"), register("bob")]);
    const sent = await sendInOrder(alice, bob, 5);
    expect((await page(bob, `sort=${sort}&limit=4`)).hasMore).toBe(true);
    expect((await page(bob, `sort=${sort}&limit=5`)).hasMore).toBe(false);
    expect((await page(bob, `sort=${sort}&limit=6`)).hasMore).toBe(false);
    // With a time filter, only the matching messages count.
    expect((await page(bob, `sort=${sort}&limit=2&after=${sent[1]!.ts}`)).hasMore).toBe(true);
    expect((await page(bob, `sort=${sort}&limit=3&after=${sent[1]!.ts}`)).hasMore).toBe(false);
    expect((await page(bob, `sort=${sort}&limit=2&before=${sent[3]!.ts}`)).hasMore).toBe(true);
    expect((await page(bob, `sort=${sort}&limit=3&before=${sent[3]!.ts}`)).hasMore).toBe(false);
  });

  it.each(["desc", "asc"])("counts only messages that match the topic and sender filters (sort=%s)", async (sort) => {
    const [alice, carol, bob] = await Promise.all([register("alice"), register("carol"), register("bob")]);
    await sendInOrder(alice, bob, 3, () => ({ topic: "t" }));
    await sendInOrder(carol, bob, 3, () => ({ topic: "t" }));
    await sendInOrder(alice, bob, 3, () => ({ topic: "u" }));
    expect((await page(bob, `sort=${sort}&topic=t&limit=5`)).hasMore).toBe(true);
    expect((await page(bob, `sort=${sort}&topic=t&limit=6`)).hasMore).toBe(false);
    expect((await page(bob, `sort=${sort}&from=${alice.name}&limit=5`)).hasMore).toBe(true);
    expect((await page(bob, `sort=${sort}&from=${alice.name}&limit=6`)).hasMore).toBe(false);
    expect((await page(bob, `sort=${sort}&topic=u&from=${alice.name}&limit=3`)).hasMore).toBe(false);
    expect((await page(bob, `sort=${sort}&topic=u&from=${carol.name}&limit=1`)).hasMore).toBe(false);
  });
});

describe("reads", () => {
  it("never remove messages", async () => {
    const [alice, bob] = await Promise.all([register("alice"), register("bob")]);
    const sent = await sendInOrder(alice, bob, 3);
    const first = await page(bob);
    const second = await page(bob, "sort=asc");
    await page(bob, `after=${sent[0]!.ts}`);
    const third = await page(bob);
    expect(ids(first)).toEqual(sent.map((s) => s.id).reverse());
    expect(ids(second)).toEqual(sent.map((s) => s.id));
    // The same page, now marked as read before (`delivered`), and nothing removed.
    expect(third).toEqual({ ...first, messages: first.messages.map((m) => ({ ...m, delivered: true })) });
    expect(first.messages.map((m) => m.delivered)).toEqual([false, false, false]);
  });
});

describe("a large inbox", () => {
  // 260 messages: more than the Inbox keeps in memory (~256, and 200 when it warms from
  // storage), so the oldest pages are read from SQL and the newest from the cache.
  const TOTAL = 260;

  async function walk(agent: TestAgent, sort: "asc" | "desc", limit: number): Promise<Envelope[]> {
    const seen: Envelope[] = [];
    let query = `sort=${sort}&limit=${limit}`;
    for (let guard = 0; guard < 1000; guard++) {
      const got = await page(agent, query);
      seen.push(...got.messages);
      if (!got.hasMore) {
        // The last page says so, and nothing lies beyond it.
        const cursor = sort === "asc" ? `after=${got.newestTs}` : `before=${got.oldestTs}`;
        if (got.messages.length > 0) expect((await page(agent, `sort=${sort}&${cursor}`)).messages).toEqual([]);
        return seen;
      }
      expect(got.messages).toHaveLength(limit);
      query = sort === "asc" ? `sort=asc&limit=${limit}&after=${got.newestTs}` : `sort=desc&limit=${limit}&before=${got.oldestTs}`;
    }
    throw new Error("paging did not end");
  }

  it("pages newest first (before=oldestTs) and oldest first (after=newestTs) over the same set", async () => {
    const [alice, bob] = await Promise.all([register("alice"), register("bob")]);
    const sent = await sendAtOnce(alice, bob, TOTAL);
    const expected = [...sent].sort();
    for (const limit of [100, 37]) {
      const desc = await walk(bob, "desc", limit);
      const asc = await walk(bob, "asc", limit);
      expect(desc.map((m) => m.id).sort()).toEqual(expected);
      expect(asc.map((m) => m.id).sort()).toEqual(expected);
      expect(asc.map((m) => m.id)).toEqual(desc.map((m) => m.id).reverse());
      expectStrictlyIncreasing(asc.map((m) => m.ts));
    }
  }, 90_000);

  it("answers filters that reach below the cached messages from storage", async () => {
    const [alice, carol, bob] = await Promise.all([register("alice"), register("carol"), register("bob")]);
    const early = await sendInOrder(carol, bob, 3, () => ({ topic: "early" }));
    await sendAtOnce(alice, bob, TOTAL);
    const late = await sendInOrder(carol, bob, 2, () => ({ topic: "late" }));
    expect(ids(await page(bob, "sort=asc&topic=early"))).toEqual(early.map((s) => s.id));
    expect(ids(await page(bob, "topic=early&limit=2"))).toEqual([early[2]!.id, early[1]!.id]);
    expect((await page(bob, "topic=early&limit=2")).hasMore).toBe(true);
    expect(ids(await page(bob, `from=${carol.name}&sort=asc`))).toEqual([...early, ...late].map((s) => s.id));
    expect(ids(await page(bob, `before=${early[2]!.ts}&sort=asc`))).toEqual([early[0]!.id, early[1]!.id]);
    expect(ids(await page(bob, `after=${early[0]!.ts}&sort=asc&limit=2`))).toEqual([early[1]!.id, early[2]!.id]);
    const all = await page(bob, `after=${early[2]!.ts}&sort=asc&limit=100`);
    expect(all.messages).toHaveLength(100);
    expect(all.hasMore).toBe(true);
    expect((await page(bob)).messages.slice(0, 2).map((m) => m.id)).toEqual([late[1]!.id, late[0]!.id]);
  }, 90_000);
});
