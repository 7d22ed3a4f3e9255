// Agent records (SPEC §3, §4): registration, lookup, settings, key rotation, removal.

import { z } from "zod";
import type { AgentPrivate, AgentPublic, RegisterRequest, Registration } from "../../protocol/envelope.js";
import { failures, RelayError, unwrap } from "../../protocol/errors.js";
import type { Limits } from "../../protocol/limits.js";
import { isValidName, nameKey } from "../../protocol/names.js";
import { isoTime } from "../../protocol/time.js";
import { agentPrivate, agentPublic, agentUpdated, keyHistoryEntry, keyRotation, registration, webhookSecretRotation } from "../../protocol/wire-schemas.js";
import type { AgentRecord } from "../../durable-objects/agent-rows.js";
import { directoryStub } from "../../durable-objects/stubs.js";
import { json } from "../http.js";
import { forgetKey, forgetName, rememberAgent } from "../identity.js";
import { endpoint, type RouteContext, type RouteTable } from "../router.js";
import { bodies } from "../schemas.js";
import { allPresence, forgetPresence, lastSeenOf, presenceOf } from "../shards/presence.js";

function publicView(record: AgentRecord, limits: Limits, lastSeen: number | null): AgentPublic {
  return {
    name: record.name,
    owner: record.owner,
    capabilities: record.capabilities,
    publicKey: record.publicKey,
    signingKey: record.signingKey,
    online: lastSeen !== null && Date.now() - lastSeen < limits.onlineThresholdS * 1000,
    lastSeen: lastSeen === null ? null : isoTime(lastSeen),
    webhook: record.webhookUrl !== null && record.webhookDisabled === null,
  };
}

function privateView(record: AgentRecord, limits: Limits, lastSeen: number | null): AgentPrivate {
  return {
    ...publicView(record, limits, lastSeen),
    createdAt: isoTime(record.createdAt),
    webhookUrl: record.webhookUrl,
    webhookDisabled: record.webhookDisabled,
    deleteOnDelivery: record.deleteOnDelivery,
    accept: record.accept,
    contacts: record.contacts,
  };
}

/** The agent a `:name` path names: `me` is the caller. Invalid names are 404. */
export function targetKey(c: RouteContext): string {
  const raw = c.params.name ?? "";
  if (nameKey(raw) === "me" && c.caller?.role === "agent") return nameKey(c.caller.name);
  if (!isValidName(raw)) throw new RelayError(failures.noSuchAgent);
  return nameKey(raw);
}

function isCaller(c: RouteContext, key: string): boolean {
  return c.caller?.role === "agent" && nameKey(c.caller.name) === key;
}

/**
 * lastSeen from the presence shards is a batched view (views.ts); an agent reading its own record
 * is seen by this very request, so its record says so (and its shard is not asked).
 */
async function lastSeenFor(c: RouteContext, record: AgentRecord): Promise<number | null> {
  const key = nameKey(record.name);
  return isCaller(c, key) ? Date.now() : lastSeenOf(record, await presenceOf(c.env, c.limits, key));
}

/** Every agent's public record (GET /agents, the MCP tool list_agents): records from the Directory, presence from every presence shard. */
export async function agentList(c: RouteContext): Promise<AgentPublic[]> {
  const [records, presence] = await Promise.all([directoryStub(c.env).list(), allPresence(c.env, c.limits)]);
  return records.map((record) => {
    const key = nameKey(record.name);
    return publicView(record, c.limits, isCaller(c, key) ? Date.now() : lastSeenOf(record, presence.get(key)));
  });
}

async function register(c: RouteContext, fields: RegisterRequest, invite?: string): Promise<Response> {
  const done = unwrap(await directoryStub(c.env).register(fields, invite));
  await rememberAgent(c.env, done.keyHash, done.record.name);
  const body: Registration = { name: done.record.name, apiKey: done.apiKey, webhookSecret: done.webhookSecret };
  return json(body, 201);
}

const registered = { description: "Registered: the key and webhook secret are shown only here", json: registration };

export const agentRoutes: RouteTable = {
  "/agents": {
    POST: endpoint({
      operationId: "registerAgent",
      summary: "Register an agent",
      access: "admin",
      body: bodies.register,
      answers: { 201: registered },
      fails: ["CONFLICT", "UNAVAILABLE"],
      handle: (c) => register(c, c.body),
    }),
    GET: endpoint({
      operationId: "listAgents",
      summary: "List agents (public records)",
      access: "agent-or-admin",
      answers: { 200: { description: "Every agent's public record, ordered by name", json: z.array(agentPublic) } },
      async handle(c) {
        return json(await agentList(c));
      },
    }),
  },
  "/register": {
    POST: endpoint({
      operationId: "registerWithInvite",
      summary: "Register with an invite code",
      access: "public",
      body: bodies.selfRegister,
      answers: { 201: registered },
      fails: ["FORBIDDEN", "CONFLICT", "UNAVAILABLE"],
      handle(c) {
        const { invite, ...fields } = c.body;
        return register(c, fields, invite);
      },
    }),
  },
  "/agents/:name": {
    GET: endpoint({
      operationId: "getAgent",
      summary: "One agent's record (`me`: the caller, with its private settings)",
      access: "agent-or-admin",
      answers: {
        200: { description: "The record; the agent itself and the admin also get its private settings", json: z.union([agentPrivate, agentPublic]) },
      },
      fails: ["FORBIDDEN", "NOT_FOUND"],
      async handle(c) {
        if (c.caller.role === "admin" && nameKey(c.params.name ?? "") === "me") throw new RelayError(failures.adminHasNoRecord);
        const key = targetKey(c);
        const record = await directoryStub(c.env).get(key);
        if (!record) throw new RelayError(failures.noSuchAgent);
        const own = c.caller.role === "admin" || nameKey(c.caller.name) === key;
        const lastSeen = await lastSeenFor(c, record);
        return json(own ? privateView(record, c.limits, lastSeen) : publicView(record, c.limits, lastSeen));
      },
    }),
    PATCH: endpoint({
      operationId: "updateAgent",
      summary: "Update webhookUrl, capabilities, keys (signed by the agent's current signingKey), deleteOnDelivery, accept, contacts (admin: also owner)",
      access: "agent-or-admin",
      ownRecord: true,
      body: bodies.patch,
      answers: { 200: { description: "The updated record", json: agentUpdated } },
      fails: ["NOT_FOUND", "UNAVAILABLE"],
      async handle(c) {
        if (c.body.owner !== undefined && c.caller.role !== "admin") throw new RelayError(failures.ownerAdminOnly);
        const done = unwrap(await directoryStub(c.env).update(targetKey(c), c.body, c.caller.role));
        const body = privateView(done.record, c.limits, await lastSeenFor(c, done.record));
        return json(done.webhookSecret === undefined ? body : { ...body, webhookSecret: done.webhookSecret });
      },
    }),
    DELETE: endpoint({
      operationId: "deleteAgent",
      summary: "Remove an agent, its key and its inbox",
      access: "admin",
      answers: { 204: { description: "The agent, its key and its inbox are gone" } },
      fails: ["NOT_FOUND"],
      async handle(c) {
        const key = targetKey(c);
        const done = unwrap(await directoryStub(c.env).remove(key));
        await Promise.all([forgetKey(c.env, done.keyHash), forgetName(c.env, key), forgetPresence(c.env, c.limits, key)]);
        return new Response(null, { status: 204 });
      },
    }),
  },
  "/agents/:name/keys": {
    GET: endpoint({
      operationId: "getKeyHistory",
      summary: "Every key the agent has had, oldest first (registration, then each change, by the agent signed or by the admin)",
      access: "agent-or-admin",
      answers: { 200: { description: "The key history, oldest first", json: z.array(keyHistoryEntry) } },
      fails: ["NOT_FOUND"],
      async handle(c) {
        const history = await directoryStub(c.env).keyHistory(targetKey(c));
        if (history === null) throw new RelayError(failures.noSuchAgent);
        return json(history);
      },
    }),
  },
  "/agents/:name/rotate-key": {
    POST: endpoint({
      operationId: "rotateApiKey",
      summary: "Issue a new API key; the old one stops at once",
      access: "agent-or-admin",
      ownRecord: true,
      answers: { 200: { description: "The new key, shown once", json: keyRotation } },
      fails: ["NOT_FOUND", "UNAVAILABLE"],
      async handle(c) {
        const key = targetKey(c);
        const done = unwrap(await directoryStub(c.env).rotateKey(key));
        const record = (await directoryStub(c.env).get(key))!;
        await Promise.all([forgetKey(c.env, done.oldKeyHash), rememberAgent(c.env, done.keyHash, record.name)]);
        return json({ name: record.name, apiKey: done.apiKey });
      },
    }),
  },
  "/agents/:name/webhook/rotate-secret": {
    POST: endpoint({
      operationId: "rotateWebhookSecret",
      summary: "Issue a new webhook secret; the old one keeps signing beside it for 24 h",
      access: "agent-or-admin",
      ownRecord: true,
      answers: { 200: { description: "The new secret, shown once", json: webhookSecretRotation } },
      fails: ["NOT_FOUND", "UNAVAILABLE"],
      async handle(c) {
        return json(unwrap(await directoryStub(c.env).rotateWebhookSecret(targetKey(c))));
      },
    }),
  },
};
