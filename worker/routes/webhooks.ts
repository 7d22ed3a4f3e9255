// Webhooks (SPEC §4.4): a test event on demand, and the attempt log.

import { unwrap } from "../../protocol/errors.js";
import { feedStub } from "../../durable-objects/feed.js";
import { inboxStub } from "../../durable-objects/inbox.js";
import { json } from "../http.js";
import { limitParam, timeParam } from "../query.js";
import { agentCaller, type RouteTable } from "../router.js";
import { targetKey } from "./agents.js";

export const webhookRoutes: RouteTable = {
  "/agents/:name/webhook/test": {
    POST: {
      summary: "Send a signed test event to the agent's webhook now; answers the attempt's outcome",
      access: "agent-or-admin",
      ownRecord: true,
      async handle(c) {
        return json(unwrap(await inboxStub(c.env, targetKey(c)).testWebhook()));
      },
    },
  },
  "/webhooks/deliveries": {
    GET: {
      summary: "Webhook attempts, newest first (agent: its own; admin: all); `limit`, `before`",
      access: "agent-or-admin",
      inboxChecksKey: true,
      async handle(c) {
        const limit = limitParam(c.url.searchParams, c.limits.pageDefault, c.limits.pageMax);
        const before = timeParam(c.url.searchParams, "before");
        if (c.caller?.role === "admin") return json(await feedStub(c.env).attempts(limit, before));
        const caller = agentCaller(c);
        return json(unwrap(await inboxStub(c.env, caller.name).deliveries(caller.keyHash, limit, before)));
      },
    },
  },
};
