// Presence over three presence shards (this project's PRESENCE_SHARDS, pushed every
// PRESENCE_PUSH_S = 2 s): each inbox pushes its agent's lastSeen to the shard of its name, and
// GET /agents lists the Directory's records with lastSeen merged from every shard. The Directory
// takes no presence pushes at all.

import { describe, expect, it, vi } from "vitest";
import type { AgentPublic } from "../../protocol/envelope.js";
import type { AdminStats } from "../../protocol/wire-schemas.js";
import { ADMIN_KEY, call, inbox, register, send, textMessage, type TestAgent } from "../support/relay.js";
import { limits, onePerShard } from "../support/shards.js";

/** Slack for clocks read in different places of the runtime, and for a slow machine. */
const SLACK_MS = 5000;

async function listed(): Promise<AgentPublic[]> {
  const reply = await call<AgentPublic[]>("GET", "/agents", { key: ADMIN_KEY });
  expect(reply.status).toBe(200);
  return reply.body;
}

/** Waits until GET /agents (and another agent's GET /agents/:name) shows each agent seen at or after `since`. */
async function seenSince(agents: TestAgent[], since: number, peer: TestAgent, timeout: number): Promise<void> {
  await vi.waitFor(
    async () => {
      const records = new Map((await listed()).map((record) => [record.name, record]));
      for (const agent of agents) {
        const record = records.get(agent.name);
        expect(record?.online, agent.name).toBe(true);
        expect(Date.parse(record!.lastSeen!), agent.name).toBeGreaterThanOrEqual(since);
        const one = await call<AgentPublic>("GET", `/agents/${agent.name}`, { key: peer.apiKey });
        expect(Date.parse(one.body.lastSeen!), `${agent.name} by name`).toBeGreaterThanOrEqual(since);
      }
    },
    { timeout, interval: 50 },
  );
}

const stats = async () => (await call<AdminStats>("GET", "/admin/stats?minutes=1", { key: ADMIN_KEY })).body;

describe("presence over several shards", () => {
  it("shows an agent of every shard in GET /agents once its inbox pushed, and each later request within PRESENCE_PUSH_S", async () => {
    expect(limits.presenceShards).toBeGreaterThan(1);
    const agents = await onePerShard("seen", limits.presenceShards);
    const peer = await register("peer");
    const first = Date.now();
    for (const agent of agents) expect((await inbox(agent)).status).toBe(200);
    // The first push of an agent goes at once.
    await seenSince(agents, first - 1000, peer, 10_000);
    // Later ones wait out the interval: the view catches up within PRESENCE_PUSH_S. (The pause
    // only makes `later` newer than any lastSeen the first pushes carried.)
    await new Promise((resolve) => setTimeout(resolve, 10));
    const later = Date.now();
    for (const agent of agents) expect((await inbox(agent)).status).toBe(200);
    await seenSince(agents, later, peer, limits.presencePushS * 1000 + SLACK_MS);
  });

  it("reaches the Directory with none of the sends, polls and presence pushes of known agents", async () => {
    const agents = await onePerShard("quiet", limits.presenceShards);
    const peer = await register("peer");
    // Warm the caches (keys and names) with one request each.
    for (const agent of agents) expect((await send(agent, textMessage(peer.name, "warm"))).status).toBe(201);
    const before = await stats();
    for (let round = 0; round < 3; round++) {
      for (const agent of agents) {
        expect((await send(agent, textMessage(peer.name, `r${round}`))).status).toBe(201);
        expect((await inbox(agent)).status).toBe(200);
      }
    }
    // Every shard took pushes meanwhile (the positive signal that presence moved), the Directory nothing.
    const after = await vi.waitFor(
      async () => {
        const now = await stats();
        now.objects.presence.forEach((shard, i) => expect(shard.requests, `presence shard ${i}`).toBeGreaterThan(before.objects.presence[i]!.requests));
        return now;
      },
      { timeout: limits.presencePushS * 1000 + SLACK_MS, interval: 100 },
    );
    expect(after.objects.directory.since).toBe(before.objects.directory.since);
    expect(after.objects.directory.requests).toBe(before.objects.directory.requests);
  });

  it("shows a name registered again as never seen, whatever its shard held for the removed agent", async () => {
    const agent = await register("again");
    const peer = await register("peer");
    expect((await inbox(agent)).status).toBe(200);
    await seenSince([agent], Date.now() - 5000, peer, 10_000);
    expect((await call("DELETE", `/agents/${agent.name}`, { key: ADMIN_KEY })).status).toBe(204);
    expect((await call("POST", "/agents", { key: ADMIN_KEY, json: { name: agent.name } })).status).toBe(201);
    expect((await listed()).find((record) => record.name === agent.name)).toMatchObject({ online: false, lastSeen: null });
    expect((await call("GET", `/agents/${agent.name}`, { key: peer.apiKey })).body).toMatchObject({ online: false, lastSeen: null });
  });
});
