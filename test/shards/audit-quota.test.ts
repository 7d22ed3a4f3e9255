// AUDIT_MAX_ENTRIES split over the audit shards: this project's 31 entries over 3 shards are
// shares of 11, 10 and 10. Each shard refuses past its share with 507 AUDIT_FULL, storing nothing,
// while the others still take entries; the whole log never holds more than the maximum.

import { expect, it } from "vitest";
import type { AuditPage } from "../../protocol/envelope.js";
import type { ErrorBody } from "../../protocol/errors.js";
import { ADMIN_KEY, call, type TestAgent } from "../support/relay.js";
import { limits, onePerShard } from "../support/shards.js";

const post = (agent: TestAgent) =>
  call<ErrorBody>("POST", "/audit", {
    key: agent.apiKey,
    json: { messageId: crypto.randomUUID(), direction: "sent", from: agent.name, to: "bob", payload: "p", ts: new Date().toISOString() },
  });

it("gives each shard its share of AUDIT_MAX_ENTRIES, refusing past it with 507 while other shards still take entries", async () => {
  expect([limits.auditShards, limits.auditMaxEntries]).toEqual([3, 31]);
  const agents = await onePerShard("quota", 3);
  const shares = [11, 10, 10];
  for (const [i, agent] of agents.entries()) {
    for (let n = 0; n < shares[i]!; n++) expect((await post(agent)).status, `shard ${i} entry ${n}`).toBe(201);
    const refused = await post(agent);
    expect(refused.status, `shard ${i} past its share`).toBe(507);
    expect(refused.body.code).toBe("AUDIT_FULL");
  }
  const log = await call<AuditPage>("GET", "/audit?limit=200", { key: ADMIN_KEY });
  expect(log.body.entries).toHaveLength(31);
  // Clearing makes room again.
  const future = new Date(Date.now() + 86_400_000).toISOString();
  expect((await call("DELETE", `/audit?before=${future}`, { key: ADMIN_KEY })).body).toEqual({ deleted: 31 });
  expect((await post(agents[2]!)).status).toBe(201);
});
