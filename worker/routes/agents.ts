// Agent records (SPEC §3, §4): registration, lookup, settings, key rotation, removal.

import type { AgentPrivate, AgentPublic, RegisterRequest, Registration } from "../../protocol/envelope.js";
import { RelayError, unwrap } from "../../protocol/errors.js";
import type { Limits } from "../../protocol/limits.js";
import { isValidName, nameKey } from "../../protocol/names.js";
import { isoTime } from "../../protocol/time.js";
import { directoryStub, type AgentRecord } from "../../durable-objects/directory.js";
import { json } from "../http.js";
import { forgetKey, forgetName, rememberAgent } from "../identity.js";
import type { RouteContext, RouteTable } from "../router.js";
import { parsePatch, parseRegister, parseSelfRegister } from "../schemas.js";

function publicView(record: AgentRecord, limits: Limits, lastSeen = record.lastSeen): AgentPublic {
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

function privateView(record: AgentRecord, limits: Limits, lastSeen = record.lastSeen): AgentPrivate {
  return {
    ...publicView(record, limits, lastSeen),
    createdAt: isoTime(record.createdAt),
    webhookUrl: record.webhookUrl,
    webhookDisabled: record.webhookDisabled,
    deleteOnDelivery: record.deleteOnDelivery,
  };
}

/** The agent a `:name` path names: `me` is the caller. Invalid names are 404. */
export function targetKey(c: RouteContext): string {
  const raw = c.params.name ?? "";
  if (nameKey(raw) === "me" && c.caller?.role === "agent") return nameKey(c.caller.name);
  if (!isValidName(raw)) throw new RelayError("NOT_FOUND", "No such agent.");
  return nameKey(raw);
}

/** The caller's own fresher lastSeen (from its Inbox) beats the Directory's batched view. */
function lastSeenFor(c: RouteContext, record: AgentRecord): number | null {
  return c.caller?.role === "agent" && nameKey(c.caller.name) === nameKey(record.name) && c.caller.lastSeen !== undefined
    ? c.caller.lastSeen
    : record.lastSeen;
}

async function register(c: RouteContext, fields: RegisterRequest, invite?: string): Promise<Response> {
  const done = unwrap(await directoryStub(c.env).register(fields, invite));
  await rememberAgent(c.env, done.keyHash, done.record.name);
  const body: Registration = { name: done.record.name, apiKey: done.apiKey, webhookSecret: done.webhookSecret };
  return json(body, 201);
}

export const agentRoutes: RouteTable = {
  "/agents": {
    POST: { summary: "Register an agent", access: "admin", body: true, handle: (c) => register(c, parseRegister(c.limits, c.body)) },
    GET: {
      summary: "List agents (public records)",
      access: "agent-or-admin",
      async handle(c) {
        const records = await directoryStub(c.env).list();
        return json(records.map((record) => publicView(record, c.limits, lastSeenFor(c, record))));
      },
    },
  },
  "/register": {
    POST: {
      summary: "Register with an invite code",
      access: "public",
      body: true,
      handle(c) {
        const { invite, ...fields } = parseSelfRegister(c.limits, c.body);
        return register(c, fields, invite);
      },
    },
  },
  "/agents/:name": {
    GET: {
      summary: "One agent's record (`me`: the caller, with its private settings)",
      access: "agent-or-admin",
      async handle(c) {
        if (c.caller?.role === "admin" && nameKey(c.params.name ?? "") === "me") {
          throw new RelayError("FORBIDDEN", "The admin key has no record of its own; name the agent.");
        }
        const key = targetKey(c);
        const record = await directoryStub(c.env).get(key);
        if (!record) throw new RelayError("NOT_FOUND", "No such agent.");
        const own = c.caller?.role === "admin" || (c.caller?.role === "agent" && nameKey(c.caller.name) === key);
        return json(own ? privateView(record, c.limits, lastSeenFor(c, record)) : publicView(record, c.limits));
      },
    },
    PATCH: {
      summary: "Update webhookUrl, capabilities, keys, deleteOnDelivery (admin: also owner)",
      access: "agent-or-admin",
      ownRecord: true,
      body: true,
      async handle(c) {
        const patch = parsePatch(c.limits, c.body);
        if (patch.owner !== undefined && c.caller?.role !== "admin") throw new RelayError("FORBIDDEN", "Only the admin may change owner.");
        const done = unwrap(await directoryStub(c.env).update(targetKey(c), patch));
        const body = privateView(done.record, c.limits, lastSeenFor(c, done.record));
        return json(done.webhookSecret === undefined ? body : { ...body, webhookSecret: done.webhookSecret });
      },
    },
    DELETE: {
      summary: "Remove an agent, its key and its inbox",
      access: "admin",
      async handle(c) {
        const key = targetKey(c);
        const done = unwrap(await directoryStub(c.env).remove(key));
        await Promise.all([forgetKey(c.env, done.keyHash), forgetName(c.env, key)]);
        return new Response(null, { status: 204 });
      },
    },
  },
  "/agents/:name/rotate-key": {
    POST: {
      summary: "Issue a new API key; the old one stops at once",
      access: "agent-or-admin",
      ownRecord: true,
      async handle(c) {
        const key = targetKey(c);
        const done = unwrap(await directoryStub(c.env).rotateKey(key));
        const record = (await directoryStub(c.env).get(key))!;
        await Promise.all([forgetKey(c.env, done.oldKeyHash), rememberAgent(c.env, done.keyHash, record.name)]);
        return json({ name: record.name, apiKey: done.apiKey });
      },
    },
  },
  "/agents/:name/webhook/rotate-secret": {
    POST: {
      summary: "Issue a new webhook secret; the old one keeps signing beside it for 24 h",
      access: "agent-or-admin",
      ownRecord: true,
      async handle(c) {
        return json(unwrap(await directoryStub(c.env).rotateWebhookSecret(targetKey(c))));
      },
    },
  },
};
