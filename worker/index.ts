// The front Worker: stateless. It authenticates, validates and routes; all state lives in the
// Durable Objects exported below (one Inbox per agent, the Directory, and the shards of the Feed,
// Presence and the Audit log).

import { readLimits, type Limits } from "../protocol/limits.js";
import { openApiDocument as openApiSchema } from "../protocol/wire-schemas.js";
import { errorResponse, finish, json } from "./http.js";
import { openApiDocument } from "./openapi.js";
import { createRouter, endpoint, type RouteTable } from "./router.js";
import { adminRoutes } from "./routes/admin.js";
import { agentRoutes } from "./routes/agents.js";
import { auditRoutes } from "./routes/audit.js";
import { dashboardRoutes } from "./routes/dashboard.js";
import { inviteRoutes } from "./routes/invites.js";
import { mcpRoutes } from "./routes/mcp.js";
import { messageRoutes } from "./routes/messages.js";
import { systemRoutes } from "./routes/system.js";
import { webhookRoutes } from "./routes/webhooks.js";

export { AuditObject } from "../durable-objects/audit.js";
export { DirectoryObject } from "../durable-objects/directory.js";
export { FeedObject } from "../durable-objects/feed.js";
export { InboxObject } from "../durable-objects/inbox.js";
export { PresenceObject } from "../durable-objects/presence.js";

export const routes: RouteTable = {
  ...systemRoutes,
  ...agentRoutes,
  ...inviteRoutes,
  ...messageRoutes,
  ...mcpRoutes,
  ...auditRoutes,
  ...webhookRoutes,
  ...adminRoutes,
  ...dashboardRoutes,
  "/openapi.json": {
    GET: endpoint({
      operationId: "getOpenApiDocument",
      summary: "This API, as OpenAPI 3.1",
      access: "public",
      answers: { 200: { description: "The OpenAPI document, with this relay's origin as its server", json: openApiSchema } },
      async handle(c) {
        return json(openApiDocument(routes, c.limits, c.url.origin));
      },
    }),
  },
};

const dispatch = createRouter(routes);

const limitsByEnv = new WeakMap<object, Limits>();

function limitsOf(env: Env): Limits {
  let limits = limitsByEnv.get(env);
  if (!limits) limitsByEnv.set(env, (limits = readLimits(env)));
  return limits;
}

export default {
  async fetch(request, env, ctx): Promise<Response> {
    const limits = limitsOf(env);
    const requestId = crypto.randomUUID();
    let response: Response;
    try {
      response = request.method === "OPTIONS" ? new Response(null, { status: 204 }) : await dispatch(request, env, ctx, limits, requestId);
    } catch (error) {
      response = errorResponse(error, requestId);
    }
    return finish(response, requestId, limits);
  },
} satisfies ExportedHandler<Env>;
