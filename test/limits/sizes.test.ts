// SPEC §4.1, §4.2, §8, §9 size limits, under the limits project's MAX_BODY_BYTES=2048,
// MULTICAST_MAX=3, PAGE_MAX=10, PAGE_DEFAULT=4 (and RATE_LIMIT_PER_MIN=5, INBOX_MAX=5).

import { exports } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import type { FeedItem, MessagePage, SendResponse } from "../../protocol/envelope.js";
import type { ErrorBody } from "../../protocol/errors.js";
import { ADMIN_KEY, BASE, call, inbox, register, send, textMessage, type TestAgent } from "../support/relay.js";

const MAX_BODY_BYTES = 2048;
const utf8 = (text: string) => new TextEncoder().encode(text);

/** A valid send body of exactly `bytes` UTF-8 bytes (ASCII padding in the payload). */
function bodyOfBytes(to: string, bytes: number): string {
  const overhead = utf8(JSON.stringify(textMessage(to, ""))).length;
  const text = JSON.stringify(textMessage(to, "x".repeat(bytes - overhead)));
  expect(utf8(text).length).toBe(bytes);
  return text;
}

/** POST /messages with a body that arrives as a stream of chunks, so no Content-Length is known. */
async function postStreamed(agent: TestAgent, bytes: Uint8Array, headers: Record<string, string> = {}) {
  const chunks = [bytes.slice(0, 1000), bytes.slice(1000, 2000), bytes.slice(2000)];
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      const next = chunks.shift();
      if (next === undefined) controller.close();
      else controller.enqueue(next);
    },
  });
  const request = new Request(`${BASE}/messages`, {
    method: "POST",
    headers: { Authorization: `Bearer ${agent.apiKey}`, ...headers },
    body: stream,
  });
  const response = await exports.default.fetch(request);
  const text = await response.text();
  return { status: response.status, body: text === "" ? undefined : (JSON.parse(text) as { code?: string; id?: string }) };
}

async function agents(prefix: string, n: number): Promise<TestAgent[]> {
  return Promise.all(Array.from({ length: n }, () => register(prefix)));
}

describe("the request body limit (MAX_BODY_BYTES)", () => {
  it("accepts a valid body of exactly the limit and refuses one byte more with 413", async () => {
    const [alice, bob] = await agents("sz_edge", 2);
    const exact = await call<SendResponse>("POST", "/messages", { key: alice!.apiKey, raw: bodyOfBytes(bob!.name, MAX_BODY_BYTES) });
    expect(exact.status).toBe(201);

    const over = await call<ErrorBody>("POST", "/messages", { key: alice!.apiKey, raw: bodyOfBytes(bob!.name, MAX_BODY_BYTES + 1) });
    expect(over.status).toBe(413);
    expect(over.body.code).toBe("PAYLOAD_TOO_LARGE");
    expect(typeof over.body.error).toBe("string");

    // Only the accepted one was stored.
    const got = await inbox<MessagePage>(bob!);
    expect(got.body.messages.map((m) => m.id)).toEqual([exact.body.id]);
  });

  it("counts bytes, not characters: multi-byte text under the limit in characters is refused", async () => {
    const [alice, bob] = await agents("sz_utf8", 2);
    for (const payload of ["😀".repeat(1000), "€".repeat(700)]) {
      const text = JSON.stringify(textMessage(bob!.name, payload));
      expect(Array.from(text).length).toBeLessThan(MAX_BODY_BYTES);
      expect(utf8(text).length).toBeGreaterThan(MAX_BODY_BYTES);
      const reply = await call<ErrorBody>("POST", "/messages", { key: alice!.apiKey, raw: text });
      expect(reply.status).toBe(413);
      expect(reply.body.code).toBe("PAYLOAD_TOO_LARGE");
    }
    expect((await inbox<MessagePage>(bob!)).body.messages).toEqual([]);
  });

  it("counts the bytes actually sent when Content-Length claims fewer", async () => {
    const [alice, bob] = await agents("sz_lie", 2);
    const reply = await call<ErrorBody>("POST", "/messages", {
      key: alice!.apiKey,
      raw: utf8(bodyOfBytes(bob!.name, MAX_BODY_BYTES + 1)),
      headers: { "Content-Length": "100" },
    });
    expect(reply.status).toBe(413);
    expect(reply.body.code).toBe("PAYLOAD_TOO_LARGE");

    const streamed = await postStreamed(alice!, utf8(bodyOfBytes(bob!.name, 3000)), { "Content-Length": "20" });
    expect(streamed.status).toBe(413);
    expect(streamed.body?.code).toBe("PAYLOAD_TOO_LARGE");
    expect((await inbox<MessagePage>(bob!)).body.messages).toEqual([]);
  });

  it("counts the bytes of a streamed body without Content-Length", async () => {
    const [alice, bob] = await agents("sz_stream", 2);
    const over = await postStreamed(alice!, utf8(bodyOfBytes(bob!.name, MAX_BODY_BYTES + 1)));
    expect(over.status).toBe(413);
    expect(over.body?.code).toBe("PAYLOAD_TOO_LARGE");

    const exact = await postStreamed(alice!, utf8(bodyOfBytes(bob!.name, MAX_BODY_BYTES)));
    expect(exact.status).toBe(201);
    const got = await inbox<MessagePage>(bob!);
    expect(got.body.messages.map((m: { id: string }) => m.id)).toEqual([exact.body?.id]);
  });

  it("applies to every route that reads a body", async () => {
    const [alice, bob] = await agents("sz_routes", 2);
    const big = JSON.stringify({ padding: "x".repeat(MAX_BODY_BYTES) });
    const cases: [string, string, string][] = [
      ["POST", "/agents", ADMIN_KEY],
      ["POST", "/invites", ADMIN_KEY],
      ["PATCH", `/agents/${alice!.name}`, alice!.apiKey],
      ["POST", "/messages/ack", alice!.apiKey],
      ["POST", "/audit", bob!.apiKey],
    ];
    for (const [method, path, key] of cases) {
      const reply = await call<ErrorBody>(method, path, { key, raw: big });
      expect(reply.status, `${method} ${path}`).toBe(413);
      expect(reply.body.code).toBe("PAYLOAD_TOO_LARGE");
    }
  });
});

describe("the order of checks around 413 (SPEC §9)", () => {
  const oversized = "{" + " ".repeat(MAX_BODY_BYTES) + "not json at all";

  it("answers 413, not 400, for a body that is both too large and invalid", async () => {
    const [alice, bob] = await agents("sz_order", 2);
    const notJson = await call<ErrorBody>("POST", "/messages", { key: alice!.apiKey, raw: oversized });
    expect(notJson.status).toBe(413);
    expect(notJson.body.code).toBe("PAYLOAD_TOO_LARGE");

    const badFields = JSON.stringify({ to: 42, type: "shout", unknownField: "x".repeat(MAX_BODY_BYTES) });
    const invalid = await call("POST", "/messages", { key: alice!.apiKey, raw: badFields });
    expect(invalid.status).toBe(413);

    const unknownRecipient = JSON.stringify(textMessage("nobody_" + bob!.name.slice(-10), "x".repeat(MAX_BODY_BYTES)));
    expect((await call("POST", "/messages", { key: alice!.apiKey, raw: unknownRecipient })).status).toBe(413);
  });

  it("answers 401, not 413, for an oversized body without a valid key", async () => {
    const missing = await call<ErrorBody>("POST", "/messages", { raw: oversized });
    expect(missing.status).toBe(401);
    expect(missing.body.code).toBe("UNAUTHORIZED");

    const unknownKey = await call<ErrorBody>("POST", "/messages", { key: `ct_${"A".repeat(43)}`, raw: oversized });
    expect(unknownKey.status).toBe(401);
    expect(unknownKey.body.code).toBe("UNAUTHORIZED");
  });

  it("answers 403 (wrong role) or 401 (an agent key on an admin route), not 413, for an oversized body", async () => {
    const admin = await call<ErrorBody>("POST", "/messages", { key: ADMIN_KEY, raw: oversized });
    expect(admin.status).toBe(403);
    expect(admin.body.code).toBe("FORBIDDEN");

    const alice = await register("sz_role");
    const agentOnAdminRoute = await call<ErrorBody>("POST", "/agents", { key: alice.apiKey, raw: oversized });
    expect(agentOnAdminRoute.status).toBe(401);
    expect(agentOnAdminRoute.body.code).toBe("UNAUTHORIZED");
  });
});

describe("recipients in one multicast (MULTICAST_MAX)", () => {
  it("accepts MULTICAST_MAX names and refuses one more with 400, storing nothing", async () => {
    const [alice, a, b, c, d] = await agents("sz_multi", 5);
    const three = await send<SendResponse>(alice!, textMessage([a!.name, b!.name, c!.name], "to three"));
    expect(three.status).toBe(201);
    expect(three.body.recipients).toHaveLength(3);

    const four = await send<ErrorBody>(alice!, textMessage([a!.name, b!.name, c!.name, d!.name], "to four"));
    expect(four.status).toBe(400);
    expect(four.body.code).toBe("BAD_REQUEST");
    expect(four.body.error).toContain("to");
    expect((await inbox<MessagePage>(d!)).body.messages).toEqual([]);
    expect((await inbox<MessagePage>(a!)).body.messages).toHaveLength(1);
  });
});

describe("page sizes (PAGE_DEFAULT, PAGE_MAX)", () => {
  it("pages an agent's inbox by PAGE_DEFAULT and accepts a limit above PAGE_MAX", async () => {
    const [alice, bob] = await agents("sz_page", 2);
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await send<SendResponse>(alice!, textMessage(bob!.name, `p${i}`))).body.id);

    // Filtered by sender, so a copy of another test's broadcast cannot change the count.
    const mine = `from=${alice!.name}`;
    const page = await inbox<MessagePage>(bob!, mine);
    expect(page.status).toBe(200);
    expect(page.body.count).toBe(4);
    expect(page.body.hasMore).toBe(true);
    expect(page.body.messages.map((m: { id: string }) => m.id)).toEqual(ids.slice(1).reverse());

    const clamped = await inbox<MessagePage>(bob!, `${mine}&limit=11`);
    expect(clamped.status).toBe(200);
    expect(clamped.body.count).toBe(5);
    expect(clamped.body.hasMore).toBe(false);

    for (const bad of ["0", "-1", "abc"]) expect((await inbox(bob!, `limit=${bad}`)).status, `limit=${bad}`).toBe(400);
  });

  it("clamps limit=11 to PAGE_MAX and defaults to PAGE_DEFAULT in the admin feed", async () => {
    // The inbox quota (5) is below PAGE_MAX (10), so the clamp is seen in the admin's global
    // feed: 12 messages under one topic, from 3 senders (5 sends/min each), 3 to each of 4 inboxes.
    const [s1, s2, s3, ...recipients] = await agents("sz_feed", 7);
    const topic = `sizes.${crypto.randomUUID()}`;
    for (const sender of [s1!, s2!, s3!]) {
      for (const recipient of recipients) {
        expect((await send(sender, textMessage(recipient.name, "x", { topic }))).status).toBe(201);
      }
    }
    const feed = (query: string) => call<MessagePage<FeedItem>>("GET", `/messages?topic=${encodeURIComponent(topic)}${query}`, { key: ADMIN_KEY });
    // The feed is filled by the inboxes in batches.
    await vi.waitFor(
      async () => {
        const all = await feed("&limit=10&sort=asc&after=" + new Date(0).toISOString());
        expect([all.body.count, all.body.hasMore], "the feed to hold more than 10 messages of the topic").toEqual([10, true]);
      },
      { timeout: 20_000, interval: 100 },
    );

    for (const limit of ["11", "1000"]) {
      const page = await feed(`&limit=${limit}`);
      expect(page.status).toBe(200);
      expect(page.body.count, `limit=${limit}`).toBe(10);
      expect(page.body.messages).toHaveLength(10);
      expect(page.body.hasMore).toBe(true);
    }
    const byDefault = await feed("");
    expect(byDefault.body.count).toBe(4);
    expect(byDefault.body.hasMore).toBe(true);
  });
});
