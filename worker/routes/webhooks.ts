// Webhooks (SPEC §4.4): a test event on demand, and the attempt log.

import { unwrap } from "../../protocol/errors.js";
import { inboxStub } from "../../durable-objects/stubs.js";
import { json } from "../http.js";
import { limitParam, timeParam } from "../query.js";
import { endpoint, type RouteTable } from "../router.js";
import { readAttempts } from "../shards/stats.js";
import { targetKey } from "./agents.js";

export const webhookRoutes: RouteTable = {
  "/agents/:name/webhook/test": {
    POST: endpoint({
      summary: "Send a signed test event to the agent's webhook now; answers the attempt's outcome",
      access: "agent-or-admin",
      ownRecord: true,
      async handle(c) {
        return json(unwrap(await inboxStub(c.env, targetKey(c)).testWebhook()));
      },
    }),
  },
  "/webhooks/deliveries": {
    GET: endpoint({
      summary: "Webhook attempts, newest first (agent: its own; admin: all); `limit`, `before`",
      access: "agent-or-admin",
      keyCheck: "handler",
      async handle(c) {
        const limit = limitParam(c.url.searchParams, c.limits.pageDefault, c.limits.pageMax);
        const before = timeParam(c.url.searchParams, "before");
        if (c.caller.role === "admin") return json(await readAttempts(c.env, c.limits, limit, before));
        return json(unwrap(await inboxStub(c.env, c.caller.name).deliveries(c.caller.keyHash, limit, before)));
      },
    }),
  },
};
