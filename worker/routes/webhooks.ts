// Webhooks (SPEC §4.4): a test event on demand, and the attempt log.

import { z } from "zod";
import { unwrap } from "../../protocol/errors.js";
import { webhookAttempt, webhookTestResult } from "../../protocol/wire-schemas.js";
import { inboxStub } from "../../durable-objects/stubs.js";
import { json } from "../http.js";
import { limitParam, queryParams, timeParam } from "../query.js";
import { endpoint, type RouteTable } from "../router.js";
import { readAttempts } from "../shards/stats.js";
import { targetKey } from "./agents.js";

export const webhookRoutes: RouteTable = {
  "/agents/:name/webhook/test": {
    POST: endpoint({
      operationId: "testWebhook",
      summary: "Send a signed test event to the agent's webhook now; answers the attempt's outcome",
      access: "agent-or-admin",
      ownRecord: true,
      answers: { 200: { description: "The attempt's outcome (ok false: the webhook did not answer 2xx)", json: webhookTestResult } },
      fails: ["NOT_FOUND"],
      async handle(c) {
        return json(unwrap(await inboxStub(c.env, targetKey(c)).testWebhook()));
      },
    }),
  },
  "/webhooks/deliveries": {
    GET: endpoint({
      operationId: "listWebhookDeliveries",
      summary: "Webhook attempts, newest first (agent: its own; admin: all); `limit`, `before`",
      access: "agent-or-admin",
      query: [queryParams.limit, { ...queryParams.before, description: "Only attempts strictly before this ISO time (the last one's at, for the next page)" }],
      answers: { 200: { description: "Attempts, newest first", json: z.array(webhookAttempt) } },
      fails: ["BAD_REQUEST"],
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
