// The broadcast rate limit (SPEC §4.1), with BROADCAST_PER_HOUR=2 in this project.

import { describe, expect, it, vi } from "vitest";
import type { MessagePage } from "../../protocol/envelope.js";
import type { ErrorBody } from "../../protocol/errors.js";
import { inbox, register, send, textMessage } from "../support/relay.js";

describe("the broadcast rate limit", () => {
  it("allows BROADCAST_PER_HOUR broadcasts, refuses the next with 429, and leaves direct sends alone", async () => {
    const alice = await register("rl_bcast");
    const bob = await register("rl_bcast");
    const topic = `rl.bcast.${crypto.randomUUID()}`;
    const broadcast = (n: number) => send(alice, textMessage("broadcast", `b${n}`, { topic: `${topic}.${n}` }));
    expect((await broadcast(1)).status).toBe(201);
    expect((await broadcast(2)).status).toBe(201);

    const third = await send<ErrorBody>(alice, textMessage("broadcast", "b3", { topic: `${topic}.3` }));
    expect(third.status).toBe(429);
    expect(third.body).toMatchObject({ code: "RATE_LIMITED" });
    const retryAfter = Number(third.headers.get("Retry-After"));
    expect(third.body.retryAfter).toBe(retryAfter);
    // 2 per hour refill one every 30 minutes.
    expect(retryAfter).toBeGreaterThan(60);
    expect(retryAfter).toBeLessThanOrEqual(3600);

    // The broadcast limit is its own: a direct send still goes through.
    expect((await send(alice, textMessage(bob.name, "direct"))).status).toBe(201);

    // Both accepted broadcasts reach bob; the refused one does not.
    const topics = await vi.waitFor(
      async () => {
        const got = await inbox<MessagePage>(bob, `from=${alice.name}&limit=100`);
        const seen = got.body.messages.map((m) => m.topic);
        expect(seen, "both broadcasts to reach bob").toEqual(expect.arrayContaining([`${topic}.1`, `${topic}.2`]));
        return seen;
      },
      { timeout: 20_000, interval: 100 },
    );
    expect(topics).not.toContain(`${topic}.3`);
  });

  it("is per sending agent", async () => {
    const [carol, dave, erin] = await Promise.all([register("rl_bc"), register("rl_bc"), register("rl_bc")]);
    for (const n of [1, 2]) expect((await send(carol, textMessage("broadcast", `c${n}`))).status).toBe(201);
    expect((await send(carol, textMessage("broadcast", "c3"))).status).toBe(429);
    expect((await send(dave, textMessage("broadcast", "d1"))).status).toBe(201);
    await vi.waitFor(async () => expect((await inbox<MessagePage>(erin, `from=${dave.name}`)).body.count, "dave's broadcast").toBe(1), {
      timeout: 20_000,
      interval: 100,
    });
  });
});
