// The admin's views (SPEC §7): the global feed paged by arrival (`afterSeq`), and /admin/stats.

import { describe, expect, it } from "vitest";
import { ADMIN_KEY, call, eventually, register, send, textMessage } from "../support/relay.js";

describe("the admin feed", () => {
  it("afterSeq walks the feed in arrival order, every item exactly once, long-polling at the end", async () => {
    const [alice, bob, carol] = await Promise.all([register("feedseq"), register("feedseq"), register("feedseq")]);
    const topic = `seq.${crypto.randomUUID().slice(0, 8)}`;
    const start = await call("GET", "/messages?limit=1", { key: ADMIN_KEY });
    let cursor: number = start.body.lastSeq ?? 0;
    const sent: string[] = [];
    for (let i = 0; i < 6; i++) {
      const reply = await send(alice, textMessage(i % 2 ? bob.name : carol.name, `m${i}`, { topic }));
      sent.push(reply.body.id);
    }
    const seen: string[] = [];
    await eventually(async () => {
      const page = await call("GET", `/messages?afterSeq=${cursor}&limit=2&topic=${topic}`, { key: ADMIN_KEY });
      expect(page.status).toBe(200);
      for (const item of page.body.messages) {
        expect(item.seq).toBeGreaterThan(cursor);
        seen.push(item.id);
      }
      cursor = page.body.lastSeq ?? cursor;
      return seen.length >= 6 ? true : null;
    }, 15_000, "all six feed items");
    expect([...seen].sort()).toEqual([...sent].sort());
    // Nothing after the end: a long-poll answers empty at its deadline, keeping the cursor.
    const idle = await call("GET", `/messages?afterSeq=${cursor}&topic=${topic}&wait=1`, { key: ADMIN_KEY });
    expect(idle.body).toMatchObject({ messages: [], count: 0, lastSeq: cursor });
  });

  it("refuses an afterSeq that is not a whole number", async () => {
    for (const bad of ["-1", "abc", "1.5", "1e3"]) {
      const reply = await call("GET", `/messages?afterSeq=${bad}`, { key: ADMIN_KEY });
      expect(reply.status, bad).toBe(400);
      expect(reply.body.code).toBe("BAD_REQUEST");
    }
  });
});

describe("GET /admin/stats", () => {
  it("answers one entry per minute with exact counts, and webhook health per agent", async () => {
    const [alice, bob] = await Promise.all([register("stats"), register("stats")]);
    const before = await call("GET", "/admin/stats?minutes=5", { key: ADMIN_KEY });
    expect(before.status).toBe(200);
    expect(before.body.perMinute.length).toBeGreaterThanOrEqual(5);
    expect(before.body.perMinute.length).toBeLessThanOrEqual(6);
    const storedBefore = before.body.perMinute.reduce((n: number, m: { stored: number }) => n + m.stored, 0);
    for (let i = 0; i < 3; i++) expect((await send(alice, textMessage(bob.name, `s${i}`))).status).toBe(201);
    await eventually(async () => {
      const after = await call("GET", "/admin/stats?minutes=5", { key: ADMIN_KEY });
      const stored = after.body.perMinute.reduce((n: number, m: { stored: number }) => n + m.stored, 0);
      return stored >= storedBefore + 3 ? true : null;
    }, 15_000, "the three sends counted");
    expect(Array.isArray(before.body.webhooks)).toBe(true);
  });

  it("refuses minutes that are not 1..1440 whole numbers, and agents", async () => {
    for (const bad of ["0", "-5", "x"]) expect((await call("GET", `/admin/stats?minutes=${bad}`, { key: ADMIN_KEY })).status).toBe(400);
    const agent = await register("stats");
    expect((await call("GET", "/admin/stats", { key: agent.apiKey })).status).toBe(401);
  });
});
