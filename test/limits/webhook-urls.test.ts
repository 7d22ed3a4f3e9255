// Webhook URL validation (SPEC §4.4) as deployed: this project runs with
// ALLOW_PRIVATE_WEBHOOKS=false, the production setting. A webhook URL must be https, must not carry
// credentials, and must not name localhost (or another local-only name, or a name with empty
// labels) or an IP literal outside public unicast space, in any of the numeric spellings the URL
// parser accepts, IPv4 inside IPv6 included. Every refused URL is a 400
// BAD_REQUEST naming webhookUrl and changes nothing, through each way a URL can be set: PATCH
// /agents/:name (the agent itself), POST /agents (admin) and POST /register (with an invite).

import { describe, expect, it } from "vitest";
import type { AgentPrivate, Invite } from "../../protocol/envelope.js";
import { ADMIN_KEY, call, register, uniqueName, type Reply } from "../support/relay.js";

/** URLs the relay must refuse, each with what makes it unacceptable. */
const REFUSED: [string, unknown][] = [
  ["plain http", "http://example.com/hook"],
  ["plain http to a public IP", "http://93.184.216.34/hook"],
  ["10.0.0.0/8", "https://10.0.0.1/hook"],
  ["172.16.0.0/12, first address", "https://172.16.0.1/hook"],
  ["172.16.0.0/12, last address", "https://172.31.255.255/hook"],
  ["192.168.0.0/16", "https://192.168.1.1/hook"],
  ["loopback 127.0.0.1", "https://127.0.0.1/hook"],
  ["loopback with a port", "https://127.0.0.1:8443/hook"],
  ["loopback shortened (127.1)", "https://127.1/hook"],
  ["loopback in hex (0x7f.1)", "https://0x7f.1/hook"],
  ["loopback as one number (2130706433)", "https://2130706433/hook"],
  ["loopback in octal (017700000001)", "https://017700000001/hook"],
  ["link-local metadata address 169.254.169.254", "https://169.254.169.254/latest/meta-data"],
  ["0.0.0.0", "https://0.0.0.0/hook"],
  ["IPv6 loopback [::1]", "https://[::1]/hook"],
  ["IPv6 unspecified [::]", "https://[::]/hook"],
  ["IPv4-mapped loopback [::ffff:127.0.0.1]", "https://[::ffff:127.0.0.1]/hook"],
  ["IPv4-mapped private [::ffff:10.0.0.1]", "https://[::ffff:10.0.0.1]/hook"],
  ["IPv6 unique local [fc00::1]", "https://[fc00::1]/hook"],
  ["IPv6 unique local [fd12:3456::1]", "https://[fd12:3456::1]/hook"],
  ["IPv6 link-local [fe80::1]", "https://[fe80::1]/hook"],
  ["IPv4-translated loopback [::ffff:0:127.0.0.1]", "https://[::ffff:0:127.0.0.1]/hook"],
  ["IPv4-compatible [::8.8.8.8]", "https://[::8.8.8.8]/hook"],
  ["6to4 of 127.0.0.1 [2002:7f00:1::1]", "https://[2002:7f00:1::1]/hook"],
  ["Teredo [2001:0:4136:e378:8000:63bf:3fff:fdd2]", "https://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/hook"],
  ["NAT64 [64:ff9b::8.8.8.8]", "https://[64:ff9b::8.8.8.8]/hook"],
  ["IPv6 site-local [fec0::1]", "https://[fec0::1]/hook"],
  ["IPv6 discard-only [100::1]", "https://[100::1]/hook"],
  ["6to4 relay anycast 192.88.99.1", "https://192.88.99.1/hook"],
  ["localhost with two trailing dots", "https://localhost../hook"],
  ["127.0.0.1 with two trailing dots", "https://127.0.0.1../hook"],
  ["localhost.localdomain", "https://localhost.localdomain/hook"],
  ["localhost", "https://localhost/hook"],
  ["LOCALHOST in capitals", "https://LOCALHOST/hook"],
  ["localhost with a trailing dot", "https://localhost./hook"],
  ["a name under localhost", "https://foo.localhost/hook"],
  ["credentials in the URL", "https://user:pass@example.com/"],
  ["a user name in the URL", "https://user@example.com/"],
  ["ftp", "ftp://example.com/"],
  ["javascript:", "javascript:alert(1)"],
  ["a relative URL", "/hook"],
  ["a URL without a host", "https://"],
  ["not a URL at all", "not a url"],
  ["an empty string", ""],
  ["a number instead of a string", 42],
  ["an object instead of a string", { url: "https://example.com/hook" }],
];

/** Public https URLs the relay must accept. */
const ACCEPTED = [
  "https://example.com/hook",
  "https://hooks.example.org:8443/x?y=1",
  "https://172.32.0.1/",
  "https://1.1.1.1/hook",
  "https://[2606:4700:4700::1111]/hook",
];

/**
 * Webhook URLs are at most 2048 characters, but this project caps request bodies at 2048 bytes
 * (MAX_BODY_BYTES), and the body-size check comes before validation (SPEC §9): here an overlong URL
 * is refused as 413 PAYLOAD_TOO_LARGE, still changing nothing.
 */
const LONG_URL = `https://example.com/${"a".repeat(3000 - "https://example.com/".length)}`;

const ORIGINAL_URL = "https://example.com/original";

function expectRefusedUrl(reply: Reply): void {
  expect(reply.status, reply.text).toBe(400);
  expect(reply.body).toMatchObject({ code: "BAD_REQUEST", error: expect.stringMatching(/webhookUrl/) });
}

/** The agent's private record, read by the admin. */
async function record(name: string): Promise<AgentPrivate> {
  const reply = await call<AgentPrivate>("GET", `/agents/${name}`, { key: ADMIN_KEY });
  expect(reply.status).toBe(200);
  return reply.body;
}

async function createInvite(): Promise<string> {
  const reply = await call<Invite>("POST", "/invites", { key: ADMIN_KEY, json: { maxUses: 1, label: "webhook-url test" } });
  expect(reply.status).toBe(201);
  return reply.body.code;
}

async function inviteUses(code: string): Promise<number> {
  const reply = await call<Invite[]>("GET", "/invites", { key: ADMIN_KEY });
  expect(reply.status).toBe(200);
  return reply.body.find((invite) => invite.code === code)!.uses;
}

describe("refused webhook URLs (ALLOW_PRIVATE_WEBHOOKS=false)", () => {
  describe("through PATCH /agents/:name by the agent itself", () => {
    it.each(REFUSED)("%s: 400 naming webhookUrl, and the record keeps its URL and other fields", async (_label, url) => {
      const agent = await register("wu_patch", { webhookUrl: ORIGINAL_URL, capabilities: ["before"] });
      const before = await record(agent.name);
      expect(before).toMatchObject({ webhookUrl: ORIGINAL_URL, webhook: true, capabilities: ["before"] });

      const reply = await call("PATCH", `/agents/${agent.name}`, {
        key: agent.apiKey,
        json: { webhookUrl: url, capabilities: ["after"] },
      });
      expectRefusedUrl(reply);

      const after = await record(agent.name);
      expect(after).toMatchObject({ webhookUrl: ORIGINAL_URL, webhook: true, capabilities: ["before"], webhookDisabled: null });
    });
  });

  describe("through POST /agents (admin)", () => {
    it.each(REFUSED)("%s: 400 naming webhookUrl, and no agent is created", async (_label, url) => {
      const name = uniqueName("wu_admin");
      const reply = await call("POST", "/agents", { key: ADMIN_KEY, json: { name, webhookUrl: url } });
      expectRefusedUrl(reply);
      expect((await call("GET", `/agents/${name}`, { key: ADMIN_KEY })).status).toBe(404);
    });
  });

  describe("through POST /register with an invite", () => {
    it.each(REFUSED)("%s: 400 naming webhookUrl, no agent is created and the invite is not used", async (_label, url) => {
      const invite = await createInvite();
      const name = uniqueName("wu_invite");
      const reply = await call("POST", "/register", { json: { invite, name, webhookUrl: url } });
      expectRefusedUrl(reply);
      expect((await call("GET", `/agents/${name}`, { key: ADMIN_KEY })).status).toBe(404);
      expect(await inviteUses(invite)).toBe(0);

      // The single-use invite is still good for a registration with an acceptable URL.
      const retry = await call("POST", "/register", { json: { invite, name, webhookUrl: ORIGINAL_URL } });
      expect(retry.status, retry.text).toBe(201);
    });
  });
});

describe("a 3000-character webhook URL (larger than this project's 2048-byte body cap)", () => {
  function expectTooLarge(reply: Reply): void {
    expect(reply.status, reply.text).toBe(413);
    expect(reply.body).toMatchObject({ code: "PAYLOAD_TOO_LARGE" });
  }

  it("is refused by PATCH and the record keeps its URL", async () => {
    expect(LONG_URL).toHaveLength(3000);
    const agent = await register("wu_long_patch", { webhookUrl: ORIGINAL_URL });
    expectTooLarge(await call("PATCH", `/agents/${agent.name}`, { key: agent.apiKey, json: { webhookUrl: LONG_URL } }));
    expect(await record(agent.name)).toMatchObject({ webhookUrl: ORIGINAL_URL, webhook: true });
  });

  it("is refused by POST /agents and no agent is created", async () => {
    const name = uniqueName("wu_long_admin");
    expectTooLarge(await call("POST", "/agents", { key: ADMIN_KEY, json: { name, webhookUrl: LONG_URL } }));
    expect((await call("GET", `/agents/${name}`, { key: ADMIN_KEY })).status).toBe(404);
  });

  it("is refused by POST /register, no agent is created and the invite is not used", async () => {
    const invite = await createInvite();
    const name = uniqueName("wu_long_invite");
    expectTooLarge(await call("POST", "/register", { json: { invite, name, webhookUrl: LONG_URL } }));
    expect((await call("GET", `/agents/${name}`, { key: ADMIN_KEY })).status).toBe(404);
    expect(await inviteUses(invite)).toBe(0);
  });
});

describe("accepted webhook URLs (public https)", () => {
  it.each(ACCEPTED)("%s is accepted by PATCH, returned with a new secret and stored as sent", async (url) => {
    const agent = await register("wu_ok_patch");
    const reply = await call<AgentPrivate & { webhookSecret: string }>("PATCH", `/agents/${agent.name}`, { key: agent.apiKey, json: { webhookUrl: url } });
    expect(reply.status, reply.text).toBe(200);
    expect(reply.body).toMatchObject({ webhookUrl: url, webhook: true });
    expect(reply.body.webhookSecret).toMatch(/^whsec_/);
    expect(reply.body.webhookSecret).not.toBe(agent.webhookSecret);
    expect(await record(agent.name)).toMatchObject({ webhookUrl: url, webhook: true });
  });

  it.each(ACCEPTED)("%s is accepted by POST /agents", async (url) => {
    const name = uniqueName("wu_ok_admin");
    const reply = await call("POST", "/agents", { key: ADMIN_KEY, json: { name, webhookUrl: url } });
    expect(reply.status, reply.text).toBe(201);
    expect(await record(name)).toMatchObject({ webhookUrl: url, webhook: true });
  });

  it.each(ACCEPTED)("%s is accepted by POST /register", async (url) => {
    const invite = await createInvite();
    const name = uniqueName("wu_ok_invite");
    const reply = await call("POST", "/register", { json: { invite, name, webhookUrl: url } });
    expect(reply.status, reply.text).toBe(201);
    expect(await record(name)).toMatchObject({ webhookUrl: url, webhook: true });
  });

  it("clearing the webhook with null is still allowed", async () => {
    const agent = await register("wu_clear", { webhookUrl: ORIGINAL_URL });
    const reply = await call("PATCH", `/agents/${agent.name}`, { key: agent.apiKey, json: { webhookUrl: null } });
    expect(reply.status).toBe(200);
    expect(reply.body).toMatchObject({ webhookUrl: null, webhook: false });
  });
});
