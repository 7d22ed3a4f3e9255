// Safety between agents (SPEC §12), through HTTP on the real Worker and objects: a contact policy
// enforced in the recipient's inbox, key history with key changes signed by the old signing key,
// and names that cannot pass for existing ones. (The loop guard and the rate limit's side of the
// contact policy are in test/limits/safety-limits.test.ts; a broadcast's in test/broadcast/.)

import nacl from "tweetnacl";
import { describe, expect, it } from "vitest";
import { encodeBase64 } from "../../protocol/base64.js";
import { canonicalJson } from "../../protocol/canonical.js";
import { keyChangeStatement, type AgentPrivate, type AgentPublic, type KeyHistoryEntry, type MessagePage, type SendResponse } from "../../protocol/envelope.js";
import type { ErrorBody } from "../../protocol/errors.js";
import { lookalikeForm } from "../../protocol/names.js";
import { ADMIN_KEY, call, inbox, register, send, textMessage, uniqueName, type TestAgent } from "../support/relay.js";

const patch = (agent: TestAgent, json: unknown, key = agent.apiKey) => call<AgentPrivate & ErrorBody>("PATCH", `/agents/${agent.name}`, { key, json });
const count = async (agent: TestAgent) => (await inbox<MessagePage>(agent, "limit=100")).body.messages.length;

describe("the contact policy (accept, contacts)", () => {
  it("a contacts-only agent refuses others (403 NOT_ACCEPTED, nothing stored) and accepts its contacts in any case, and itself", async () => {
    const [alice, bob, eve] = await Promise.all([register("sf_alice"), register("sf_bob"), register("sf_eve")]);
    const set = await patch(bob, { accept: "contacts", contacts: [alice.name.toUpperCase()] });
    expect(set.status).toBe(200);
    expect(set.body).toMatchObject({ accept: "contacts", contacts: [alice.name.toUpperCase()] });

    const refused = await send<ErrorBody>(eve, textMessage(bob.name, "let me in"));
    expect(refused.status).toBe(403);
    expect(refused.body).toMatchObject({ code: "NOT_ACCEPTED", names: [bob.name] });
    expect(await count(bob)).toBe(0);
    expect((await send(alice, textMessage(bob.name, "a contact"))).status).toBe(201);
    expect((await send(bob, textMessage(bob.name, "a note to self"))).status).toBe(201);
    expect(await count(bob)).toBe(2);

    // Back to anyone: eve gets through.
    expect((await patch(bob, { accept: "anyone" })).status).toBe(200);
    expect((await send(eve, textMessage(bob.name, "now?"))).status).toBe(201);
  });

  it("a multicast stores the accepting copies and lists the refusing recipient under rejected with NOT_ACCEPTED", async () => {
    const [eve, bob, carol] = await Promise.all([register("sf_eve"), register("sf_bob"), register("sf_carol")]);
    await patch(bob, { accept: "contacts", contacts: [] });
    const sent = await send<SendResponse>(eve, textMessage([bob.name, carol.name], "to both"));
    expect(sent.status).toBe(201);
    expect(sent.body.recipients.map((r) => r.name)).toEqual([carol.name]);
    expect(sent.body.rejected).toEqual([{ name: bob.name, code: "NOT_ACCEPTED" }]);
    const receipts = await call<{ recipients: { name: string; status: string; code?: string }[] }>("GET", `/messages/${sent.body.id}/receipts`, { key: eve.apiKey });
    expect(receipts.body.recipients.find((r) => r.name === bob.name)).toMatchObject({ status: "rejected", code: "NOT_ACCEPTED" });
  });

  it("a contact may be named before it registers", async () => {
    const bob = await register("sf_bob");
    const future = uniqueName("sf_future");
    expect((await patch(bob, { accept: "contacts", contacts: [future] })).status).toBe(200);
    const arrived = await call<TestAgent>("POST", "/agents", { key: ADMIN_KEY, json: { name: future } });
    expect((await send(arrived.body, textMessage(bob.name, "I exist now"))).status).toBe(201);
  });

  it("is shown to the agent itself and the admin, not in the public record", async () => {
    const [bob, eve] = await Promise.all([register("sf_bob"), register("sf_eve")]);
    await patch(bob, { accept: "contacts", contacts: [eve.name] });
    for (const key of [bob.apiKey, ADMIN_KEY]) {
      expect((await call<AgentPrivate>("GET", `/agents/${bob.name}`, { key })).body).toMatchObject({ accept: "contacts", contacts: [eve.name] });
    }
    const seen = await call<AgentPublic>("GET", `/agents/${bob.name}`, { key: eve.apiKey });
    expect(seen.body).not.toHaveProperty("accept");
    expect(seen.body).not.toHaveProperty("contacts");
  });

  it("the admin may set it too; another agent may not", async () => {
    const [bob, eve] = await Promise.all([register("sf_bob"), register("sf_eve")]);
    expect((await patch(bob, { accept: "contacts" }, ADMIN_KEY)).body.accept).toBe("contacts");
    expect((await patch(bob, { accept: "anyone" }, eve.apiKey)).status).toBe(403);
  });

  it.each([
    ["1,001 contacts", { contacts: Array.from({ length: 1001 }, (_, i) => `name_${i}`) }, "contacts"],
    ["contacts not an array", { contacts: "alice" }, "contacts"],
    ["a contact with a space", { contacts: ["al ice"] }, "contacts"],
    ["a contact of one character", { contacts: ["a"] }, "contacts"],
    ["accept not in the list", { accept: "friends" }, "accept"],
  ])("%s is a 400 naming the field, and changes nothing", async (_label, body, field) => {
    const bob = await register("sf_bob");
    const reply = await patch(bob, body);
    expect(reply.status).toBe(400);
    expect(reply.body.error).toContain(field);
    expect((await call<AgentPrivate>("GET", `/agents/${bob.name}`, { key: bob.apiKey })).body).toMatchObject({ accept: "anyone", contacts: [] });
  });

  it("repeats in contacts (in any case) are kept once, the first spelling", async () => {
    const bob = await register("sf_bob");
    expect((await patch(bob, { contacts: ["Alice_x", "ALICE_X", "carol_x"] })).body.contacts).toEqual(["Alice_x", "carol_x"]);
  });
});

// ---- Key history and signed key changes ----

function keyPair() {
  const signing = nacl.sign.keyPair();
  return { publicKey: encodeBase64(nacl.box.keyPair().publicKey), signingKey: encodeBase64(signing.publicKey), signingSecret: signing.secretKey };
}

/** The keyChangeSignature of `name` changing to `next`, by the secret signing key `by`. */
function signChange(name: string, next: { publicKey: string | null; signingKey: string | null }, by: Uint8Array): string {
  const statement = canonicalJson(keyChangeStatement(name, next.publicKey, next.signingKey));
  return encodeBase64(nacl.sign.detached(new TextEncoder().encode(statement), by));
}

const history = async (agent: TestAgent, key = agent.apiKey) => call<KeyHistoryEntry[] & ErrorBody>("GET", `/agents/${agent.name}/keys`, { key });

describe("key history (GET /agents/:name/keys) and signed key changes", () => {
  it("starts with the registration, and records a change signed by the old signing key", async () => {
    const first = keyPair();
    const bob = await register("sf_keys", { publicKey: first.publicKey, signingKey: first.signingKey });
    const start = await history(bob);
    expect(start.body).toEqual([{ publicKey: first.publicKey, signingKey: first.signingKey, since: expect.any(String), by: "registration" }]);

    const second = keyPair();
    const next = { publicKey: second.publicKey, signingKey: second.signingKey };
    const signature = signChange(bob.name, next, first.signingSecret);
    const changed = await patch(bob, { ...next, keyChangeSignature: signature });
    expect(changed.status).toBe(200);
    expect(changed.body).toMatchObject(next);
    const after = await history(bob);
    expect(after.body).toHaveLength(2);
    expect(after.body[1]).toEqual({ ...next, since: expect.any(String), by: "agent", signature });
    // Anyone may read it (clients check a sender's key change against it).
    const eve = await register("sf_eve");
    expect((await history(bob, eve.apiKey)).body).toEqual(after.body);
  });

  it("an unsigned, forged, replayed or misdirected change is a 400 naming keyChangeSignature, and changes nothing", async () => {
    const first = keyPair();
    const bob = await register("sf_keys", { publicKey: first.publicKey, signingKey: first.signingKey });
    const other = keyPair();
    const next = { publicKey: other.publicKey, signingKey: other.signingKey };
    const cases = [
      {},
      { keyChangeSignature: signChange(bob.name, next, other.signingSecret) }, // signed by the new key, not the old
      { keyChangeSignature: signChange(bob.name, { ...next, publicKey: first.publicKey }, first.signingSecret) }, // other keys than sent
      { keyChangeSignature: signChange(`${bob.name}x`, next, first.signingSecret) }, // another agent's statement
      { keyChangeSignature: encodeBase64(new Uint8Array(64)) },
    ];
    for (const extra of cases) {
      const reply = await patch(bob, { ...next, ...extra });
      expect(reply.status, JSON.stringify(extra)).toBe(400);
      expect(reply.body.error).toContain("keyChangeSignature");
    }
    expect((await history(bob)).body).toHaveLength(1);
    expect((await call<AgentPrivate>("GET", `/agents/${bob.name}`, { key: bob.apiKey })).body).toMatchObject({ publicKey: first.publicKey, signingKey: first.signingKey });
  });

  it("the admin may reset keys unsigned (recorded by: admin); an agent without a signing key sets its first keys unsigned", async () => {
    const first = keyPair();
    const bob = await register("sf_keys", { publicKey: first.publicKey, signingKey: first.signingKey });
    const reset = keyPair();
    expect((await patch(bob, { publicKey: reset.publicKey, signingKey: reset.signingKey }, ADMIN_KEY)).status).toBe(200);
    expect((await history(bob)).body.at(-1)).toMatchObject({ by: "admin", publicKey: reset.publicKey });
    expect((await history(bob)).body.at(-1)).not.toHaveProperty("signature");

    const plain = await register("sf_plain");
    const keys = keyPair();
    expect((await patch(plain, { publicKey: keys.publicKey, signingKey: keys.signingKey })).status).toBe(200);
    expect((await history(plain)).body.map((e) => e.by)).toEqual(["registration", "agent"]);
  });

  it("other changes need no signature, and record no key entry", async () => {
    const first = keyPair();
    const bob = await register("sf_keys", { publicKey: first.publicKey, signingKey: first.signingKey });
    expect((await patch(bob, { capabilities: ["x"], publicKey: first.publicKey })).status).toBe(200);
    expect((await history(bob)).body).toHaveLength(1);
  });

  it("is 404 for an agent that does not exist", async () => {
    const bob = await register("sf_keys");
    expect((await call("GET", `/agents/${uniqueName("ghost")}/keys`, { key: bob.apiKey })).status).toBe(404);
  });
});

describe("names that could pass for others", () => {
  it.each([
    ["I for l", (n: string) => n.replace("l", "I")],
    ["1 for l", (n: string) => n.replace("l", "1")],
    ["0 for o", (n: string) => n.replace("o", "0")],
    ["rn for m", (n: string) => n.replace("m", "rn")],
    ["vv for w", (n: string) => n.replace("w", "vv")],
    ["another case", (n: string) => n.replace("l", "L").replace("a", "A")],
  ])("a registration with %s is a 409 naming the existing agent", async (_label, disguise) => {
    const real = await register("low_mo", {});
    const fake = disguise(real.name);
    expect(fake).not.toBe(real.name);
    expect(lookalikeForm(fake)).toBe(lookalikeForm(real.name));
    const reply = await call<ErrorBody>("POST", "/agents", { key: ADMIN_KEY, json: { name: fake } });
    expect(reply.status).toBe(409);
    expect(reply.body.code).toBe("CONFLICT");
    if (fake.toLowerCase() !== real.name.toLowerCase()) expect(reply.body.error).toContain(real.name);
  });

  it("self-registration with an invite refuses it too, and the invite is not used up", async () => {
    const real = await register("lo_mo");
    const invite = await call<{ code: string }>("POST", "/invites", { key: ADMIN_KEY, json: { label: "lookalike" } });
    const refused = await call<ErrorBody>("POST", "/register", { json: { invite: invite.body.code, name: real.name.replace("l", "1") } });
    expect(refused.status).toBe(409);
    expect((await call("POST", "/register", { json: { invite: invite.body.code, name: uniqueName("honest") } })).status).toBe(201);
  });

  it("of two look-alike names registered at once, exactly one wins", async () => {
    const base = uniqueName("race_lo");
    const replies = await Promise.all([base, base.replace("l", "I"), base.replace("l", "1"), base.replace("o", "0")].map((name) => call("POST", "/agents", { key: ADMIN_KEY, json: { name } })));
    expect(replies.map((r) => r.status).sort()).toEqual([201, 409, 409, 409]);
  });
});
