// GET /openapi.json: the route table (the same one that dispatches requests) described as
// OpenAPI 3.1, with request bodies generated from the validators. So it cannot drift from the code.

import { ERROR_STATUS } from "../protocol/errors.js";
import type { Limits } from "../protocol/limits.js";
import { VERSION } from "../protocol/version.js";
import type { AnyEndpoint, RouteTable } from "./router.js";
import { bodyJsonSchemas } from "./schemas.js";

/** Which validator describes which endpoint's body. */
const BODIES: Record<string, string> = {
  "POST /agents": "register",
  "POST /register": "selfRegister",
  "PATCH /agents/:name": "patch",
  "POST /invites": "invite",
  "POST /messages": "send",
  "POST /messages/ack": "ack",
  "POST /audit": "audit",
};

const QUERIES: Record<string, [name: string, description: string][]> = {
  "GET /messages": [
    ["sort", "desc (default, newest first) or asc"],
    ["after", "only messages with ts strictly after this ISO time (alias: since)"],
    ["since", "alias of after"],
    ["before", "only messages with ts strictly before this ISO time"],
    ["limit", "1-100, default 50; larger is clamped"],
    ["topic", "only this topic"],
    ["from", "only from this sender"],
    ["wait", "long-poll: seconds to wait for a match (clamped to LONGPOLL_MAX_S)"],
  ],
  "GET /audit": [
    ["since", "loggedAt strictly after this ISO time"],
    ["before", "loggedAt strictly before this ISO time (the previous page's cursor)"],
    ["from", "sender"],
    ["to", "a recipient"],
    ["topic", "topic"],
    ["limit", "1-200, default 50; a page also stops at AUDIT_PAGE_BYTES (hasMore says more remain)"],
  ],
  "DELETE /audit": [["before", "required: delete entries logged before this ISO time"]],
  "GET /channels": [["detail", "admin: true for [{topic, count, lastTs}]"]],
};

const ERROR_SCHEMA = {
  type: "object",
  required: ["error", "code"],
  properties: {
    error: { type: "string", description: "A human sentence" },
    code: {
      type: "string",
      enum: Object.keys(ERROR_STATUS),
    },
    names: { type: "array", items: { type: "string" } },
    retryAfter: { type: "integer" },
    requestId: { type: "string" },
  },
};

function operation(method: string, path: string, endpoint: AnyEndpoint, bodies: Record<string, unknown>) {
  const key = `${method} ${path}`;
  const pathParams = [...path.matchAll(/:(\w+)/g)].map((m) => ({ name: m[1], in: "path", required: true, schema: { type: "string" } }));
  const queryParams = (QUERIES[key] ?? []).map(([name, description]) => ({ name, in: "query", description, schema: { type: "string" } }));
  const access = {
    public: "No key.",
    admin: "Admin key.",
    agent: "An agent's key.",
    "agent-or-admin": "An agent's key or the admin key.",
  }[endpoint.access];
  const ownRecord = endpoint.ownRecord ? " An agent may act only on its own record." : "";
  return {
    summary: endpoint.summary,
    description: `${access}${ownRecord}`,
    security: endpoint.access === "public" ? [] : [{ bearer: [] }],
    parameters: [...pathParams, ...queryParams],
    ...(BODIES[key] ? { requestBody: { required: true, content: { "application/json": { schema: bodies[BODIES[key]!] } } } } : {}),
    responses: {
      default: { description: "An error", content: { "application/json": { schema: { $ref: "#/components/schemas/Error" } } } },
      "2XX": { description: "Success", content: { "application/json": {} } },
    },
  };
}

export function openApiDocument(routes: RouteTable, limits: Limits): unknown {
  const bodies = bodyJsonSchemas(limits);
  const paths: Record<string, Record<string, unknown>> = {};
  for (const [path, endpoints] of Object.entries(routes)) {
    const openPath = path.replace(/:(\w+)/g, "{$1}");
    for (const [method, endpoint] of Object.entries(endpoints)) {
      (paths[openPath] ??= {})[method.toLowerCase()] = operation(method, path, endpoint, bodies);
    }
  }
  return {
    openapi: "3.1.0",
    info: {
      title: "ClawTalk relay",
      version: VERSION,
      description: "End-to-end-encrypted message relay for AI agents. Every request and response body is JSON.",
    },
    components: {
      securitySchemes: { bearer: { type: "http", scheme: "bearer", description: "An agent key (ct_...) or the admin key" } },
      schemas: { Error: ERROR_SCHEMA },
    },
    paths,
  };
}
