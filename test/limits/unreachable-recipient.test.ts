// A recipient whose inbox cannot store (issue: hardening, defect 3). Its storage is broken for
// real — the messages table renamed away inside the live object — so its store call throws. A
// multicast must still store every other copy, report that recipient under `rejected` with
// UNAVAILABLE ("try again"), count against the rate limit (something was stored), and a retry
// with the same id must store only the missing copy. Limits project: RATE_LIMIT_PER_MIN=5.

import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { Envelope, SendResponse } from "../../protocol/envelope.js";
import type { ErrorBody } from "../../protocol/errors.js";
import { nameKey } from "../../protocol/names.js";
import { ADMIN_KEY, base64Bytes, call, inbox, register, send, textMessage, uniqueName, type TestAgent } from "../support/relay.js";

/** Renames one of an inbox's tables away inside the live object (or back), so its statements fail for real. */
async function setTableBroken(name: string, table: "messages" | "state", broken: boolean): Promise<void> {
  await runInDurableObject(env.INBOX.getByName(nameKey(name)), (_instance, state) => {
    state.storage.sql.exec(broken ? `ALTER TABLE ${table} RENAME TO ${table}_broken` : `ALTER TABLE ${table}_broken RENAME TO ${table}`);
  });
}

const setStorageBroken = (agent: TestAgent, broken: boolean) => setTableBroken(agent.name, "messages", broken);

async function ids(agent: TestAgent): Promise<string[]> {
  const page = await inbox(agent, "limit=10&sort=asc");
  return (page.body as { messages: Envelope[] }).messages.map((m) => m.id);
}

describe("a multicast with one recipient that cannot be reached", () => {
  it("stores the other copies, lists that one as UNAVAILABLE, counts once, and a retry stores only the missing copy", async () => {
    const [alice, bob, carol, dave] = await Promise.all([register("unr_a"), register("unr_b"), register("unr_c"), register("unr_d")]);
    await setStorageBroken(carol, true);
    const id = uniqueName("mc");
    const body = textMessage([bob.name, carol.name, dave.name], "to three", { id });

    const first = await send(alice, body);
    expect(first.status).toBe(201);
    const answer = first.body as SendResponse;
    expect(answer.recipients.map((r) => r.name).sort()).toEqual([bob.name, dave.name].sort());
    expect(answer.rejected).toEqual([{ name: carol.name, code: "UNAVAILABLE" }]);
    expect(await ids(bob)).toEqual([id]);
    expect(await ids(dave)).toEqual([id]);

    await setStorageBroken(carol, false);
    const retry = await send(alice, body);
    expect(retry.status).toBe(201);
    expect((retry.body as SendResponse).recipients.map((r) => r.name).sort()).toEqual([bob.name, carol.name, dave.name].sort());
    expect((retry.body as SendResponse).rejected).toBeUndefined();
    // bob and dave keep one copy each, carol now has hers.
    expect(await ids(bob)).toEqual([id]);
    expect(await ids(dave)).toEqual([id]);
    expect(await ids(carol)).toEqual([id]);

    // Both requests stored something, so both counted: 3 of the 5 sends per window are left.
    const rest = await Promise.all([1, 2, 3].map((i) => send(alice, textMessage(bob.name, `n${i}`))));
    expect(rest.map((r) => r.status)).toEqual([201, 201, 201]);
    expect((await send(alice, textMessage(bob.name, "one too many"))).status).toBe(429);
  });

  it("a direct send to it answers 503 UNAVAILABLE, stores nothing and counts nothing", async () => {
    const [alice, carol] = await Promise.all([register("unr_a"), register("unr_c")]);
    await setStorageBroken(carol, true);
    for (let i = 0; i < 6; i++) {
      const reply = await send(alice, textMessage(carol.name, "x"));
      expect(reply.status).toBe(503);
      expect((reply.body as ErrorBody).code).toBe("UNAVAILABLE");
      expect((reply.body as ErrorBody).names).toEqual([carol.name]);
    }
    await setStorageBroken(carol, false);
    expect(await ids(carol)).toEqual([]);
    // Six refused sends counted nothing: the whole allowance of 5 is still there.
    const burst = await Promise.all([1, 2, 3, 4, 5].map((i) => send(alice, textMessage(carol.name, `m${i}`))));
    expect(burst.map((r) => r.status)).toEqual([201, 201, 201, 201, 201]);
  });
});

// The agent's own inbox cannot take its settings: the Directory undoes the change and answers 503,
// so nothing is half done (an agent without an inbox, a key the inbox would refuse).
const setStateBroken = (name: string, broken: boolean) => setTableBroken(name, "state", broken);

describe("an agent whose own inbox cannot be reached", () => {
  it("a registration answers 503 UNAVAILABLE with Retry-After, leaves the name free, and the same registration succeeds once the inbox is back", async () => {
    const name = uniqueName("unr_reg");
    await setStateBroken(name, true);
    const refused = await call<ErrorBody>("POST", "/agents", { key: ADMIN_KEY, json: { name } });
    expect(refused.status).toBe(503);
    expect(refused.body.code).toBe("UNAVAILABLE");
    expect(refused.body.names).toEqual([name]);
    expect(refused.headers.get("Retry-After")).toBe("1");
    expect((await call("GET", `/agents/${name}`, { key: ADMIN_KEY })).status).toBe(404);

    await setStateBroken(name, false);
    const again = await call<TestAgent>("POST", "/agents", { key: ADMIN_KEY, json: { name } });
    expect(again.status).toBe(201);
    expect((await inbox({ ...again.body, name }, "limit=1")).status).toBe(200);
  });

  it("a key rotation answers 503 UNAVAILABLE and keeps the old key working; once the inbox is back a rotation takes effect", async () => {
    const alice = await register("unr_rot");
    await setStateBroken(alice.name, true);
    const refused = await call<ErrorBody>("POST", `/agents/${alice.name}/rotate-key`, { key: ADMIN_KEY });
    expect(refused.status).toBe(503);
    expect(refused.body.code).toBe("UNAVAILABLE");
    expect(refused.headers.get("Retry-After")).toBe("1");

    await setStateBroken(alice.name, false);
    expect((await inbox(alice, "limit=1")).status).toBe(200);
    const rotated = await call<{ apiKey: string }>("POST", `/agents/${alice.name}/rotate-key`, { key: ADMIN_KEY });
    expect(rotated.status).toBe(200);
    expect((await inbox(alice, "limit=1")).status).toBe(401);
    expect((await inbox({ ...alice, apiKey: rotated.body.apiKey }, "limit=1")).status).toBe(200);
  });
});

describe("a change of an agent whose own inbox cannot be reached", () => {
  it("a PATCH answers 503 UNAVAILABLE and leaves the record and the key history as they were; once the inbox is back the same PATCH applies", async () => {
    const alice = await register("unr_patch");
    const change = { capabilities: ["translate"], publicKey: base64Bytes(32, 9) };
    await setStateBroken(alice.name, true);
    const refused = await call<ErrorBody>("PATCH", `/agents/${alice.name}`, { key: ADMIN_KEY, json: change });
    expect(refused.status).toBe(503);
    expect(refused.body.code).toBe("UNAVAILABLE");
    expect(refused.headers.get("Retry-After")).toBe("1");

    await setStateBroken(alice.name, false);
    const record = await call<{ capabilities: string[]; publicKey: string | null }>("GET", `/agents/${alice.name}`, { key: ADMIN_KEY });
    expect(record.body.capabilities).toEqual([]);
    expect(record.body.publicKey).toBeNull();
    const history = await call<unknown[]>("GET", `/agents/${alice.name}/keys`, { key: ADMIN_KEY });
    expect(history.status).toBe(200);
    expect(history.body).toHaveLength(1);

    const applied = await call<{ capabilities: string[]; publicKey: string | null }>("PATCH", `/agents/${alice.name}`, { key: ADMIN_KEY, json: change });
    expect(applied.status).toBe(200);
    expect(applied.body.capabilities).toEqual(["translate"]);
    expect(applied.body.publicKey).toBe(change.publicKey);
    expect((await call<unknown[]>("GET", `/agents/${alice.name}/keys`, { key: ADMIN_KEY })).body).toHaveLength(2);
  });

  it("a webhook secret rotation answers 503 UNAVAILABLE; once the inbox is back a rotation succeeds", async () => {
    const alice = await register("unr_whs");
    await setStateBroken(alice.name, true);
    const refused = await call<ErrorBody>("POST", `/agents/${alice.name}/webhook/rotate-secret`, { key: ADMIN_KEY });
    expect(refused.status).toBe(503);
    expect(refused.body.code).toBe("UNAVAILABLE");
    await setStateBroken(alice.name, false);
    const rotated = await call<{ webhookSecret: string }>("POST", `/agents/${alice.name}/webhook/rotate-secret`, { key: ADMIN_KEY });
    expect(rotated.status).toBe(200);
    expect(rotated.body.webhookSecret).not.toBe(alice.webhookSecret);
  });
});
