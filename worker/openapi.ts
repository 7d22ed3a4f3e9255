// GET /openapi.json: the route table (the same one that dispatches requests) described as
// OpenAPI 3.1. Request bodies come from the validators (worker/schemas.ts), success answers from
// the wire schemas each endpoint declares (protocol/wire-schemas.ts), query parameters and headers
// from each endpoint's declaration, and error answers from the declaration and the error catalog.
// So the document cannot drift from the code; npm test lints it (redocly.yaml) and generates a
// client from it (test/node/openapi.test.ts).

import { z } from "zod";
import { ERROR_STATUS, type ErrorCode } from "../protocol/errors.js";
import type { Limits } from "../protocol/limits.js";
import { VERSION } from "../protocol/version.js";
import { errorBody } from "../protocol/wire-schemas.js";
import type { AnyEndpoint, Parameter, RouteTable } from "./router.js";

type JsonSchema = { [key: string]: unknown };

const COMPONENTS = "#/components/schemas/";

/** What each error code tells a client; the error answers' descriptions. */
const ERROR_MEANING: Record<ErrorCode, string> = {
  BAD_REQUEST: "the request is invalid; the sentence names the field and what was expected",
  UNAUTHORIZED: "no key, a malformed Authorization header, or a key that is not valid for this route",
  FORBIDDEN: "the key is valid but may not do this",
  NOT_ACCEPTED: "the recipient accepts messages from its contacts only",
  NOT_FOUND: "no such thing (or not the caller's)",
  UNKNOWN_RECIPIENT: "recipients that do not exist (listed in names); nothing was sent",
  METHOD_NOT_ALLOWED: "the path does not take this method (Allow lists those it does)",
  CONFLICT: "taken, or a different message was already sent with this id or Idempotency-Key; nothing was stored",
  LOOP_DETECTED: "the reply chain is deeper than MAX_REPLY_DEPTH; nothing was stored",
  PAYLOAD_TOO_LARGE: "the body exceeds MAX_BODY_BYTES",
  RATE_LIMITED: "too many requests: retry after retryAfter seconds (also in Retry-After)",
  INTERNAL_ERROR: "an internal error; requestId identifies it in the relay's log",
  UNAVAILABLE: "an inbox could not be reached (listed in names): for a send, sending again with the same id stores only the missing copies; for a registration or a change of the agent, nothing changed, retry after Retry-After",
  INBOX_FULL: "a recipient's inbox is full (listed in names); nothing was stored",
  AUDIT_FULL: "the audit log is full until the admin clears old entries",
};

/** The path parameters of the route table, by name. */
const PATH_PARAMS: Record<string, string> = {
  name: "An agent's name, in any case; `me` is the caller",
  id: "A message id",
  code: "An invite code",
  path: "A file under /dashboard/ (empty: index.html)",
};

/**
 * Every error code `endpoint` can answer: those that follow from its declaration (the router's
 * checks, SPEC §9) and those its handler declares in `fails`.
 */
export function errorCodes(path: string, endpoint: AnyEndpoint): ErrorCode[] {
  const codes = new Set<ErrorCode>(endpoint.fails);
  if (endpoint.access !== "public") codes.add("UNAUTHORIZED");
  if (endpoint.access === "agent" || endpoint.ownRecord) codes.add("FORBIDDEN");
  if (endpoint.body) codes.add("BAD_REQUEST").add("PAYLOAD_TOO_LARGE");
  // A path parameter with malformed percent-encoding is 404 (worker/router.ts).
  if (/:\w+/.test(path)) codes.add("NOT_FOUND");
  codes.add("INTERNAL_ERROR");
  return [...codes].sort((a, b) => ERROR_STATUS[a] - ERROR_STATUS[b]);
}

/** The route table's path in OpenAPI's spelling: `:name` is `{name}`, a trailing `*` is `{path}`. */
export function openApiPath(path: string): string {
  return path.replace(/:(\w+)/g, "{$1}").replace(/\/\*$/, "/{path}");
}

/** zod's JSON Schema, tidied: zod's date-time regex and the safe-integer bounds say nothing a client needs. */
function tidy({ jsonSchema }: { jsonSchema: JsonSchema }): void {
  if (jsonSchema.format === "date-time") delete jsonSchema.pattern;
  if (jsonSchema.maximum === Number.MAX_SAFE_INTEGER) delete jsonSchema.maximum;
  if (jsonSchema.minimum === Number.MIN_SAFE_INTEGER) delete jsonSchema.minimum;
}

/** `#/$defs/X` (zod's) -> `#/components/schemas/X`, everywhere in a schema. */
function relink(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(relink);
  if (typeof value !== "object" || value === null) return value;
  return Object.fromEntries(
    Object.entries(value).map(([key, inner]) => [
      key,
      key === "$ref" && typeof inner === "string" ? inner.replace(/^#\/\$defs\//, COMPONENTS) : relink(inner),
    ]),
  );
}

/** Turns zod schemas into OpenAPI schemas; named shapes (zod ids) are collected as components. */
class SchemaWriter {
  readonly components: Record<string, unknown> = {};

  write(schema: z.ZodType, io: "input" | "output" = "output"): JsonSchema {
    const { $schema: _, $defs, ...root } = z.toJSONSchema(schema, { io, unrepresentable: "any", override: tidy }) as JsonSchema;
    for (const [id, definition] of Object.entries(($defs ?? {}) as Record<string, unknown>)) this.components[id] = relink(definition);
    return relink(root) as JsonSchema;
  }
}

function parameter(where: "query" | "header", p: Parameter, limits: Limits, schemas: SchemaWriter) {
  const description = typeof p.description === "string" ? p.description : p.description(limits);
  const schema = typeof p.schema === "function" ? p.schema(limits) : p.schema;
  return { name: p.name, in: where, description, required: p.required ?? false, schema: schemas.write(schema, "input") };
}

function responses(path: string, endpoint: AnyEndpoint, schemas: SchemaWriter): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [status, answer] of Object.entries(endpoint.answers)) {
    const headers = Object.entries(answer.headers ?? {}).map(([name, description]) => [name, { description, schema: { type: "string" } }]);
    const content = answer.json
      ? { "application/json": { schema: schemas.write(answer.json) } }
      : answer.media
        ? Object.fromEntries(answer.media.map((type) => [type, { schema: { type: "string" } }]))
        : undefined;
    out[status] = { description: answer.description, ...(headers.length ? { headers: Object.fromEntries(headers) } : {}), ...(content ? { content } : {}) };
  }
  const byStatus = new Map<number, ErrorCode[]>();
  for (const code of errorCodes(path, endpoint)) byStatus.set(ERROR_STATUS[code], [...(byStatus.get(ERROR_STATUS[code]) ?? []), code]);
  for (const [status, codes] of byStatus) {
    out[status] = {
      description: codes.map((code) => `${code}: ${ERROR_MEANING[code]}`).join("; "),
      ...(status === 429 ? { headers: { "Retry-After": { description: "Seconds to wait before retrying", schema: { type: "integer" } } } } : {}),
      content: {
        "application/json": {
          schema: { allOf: [{ $ref: `${COMPONENTS}Error` }, { type: "object", required: ["code"], properties: { code: { type: "string", enum: codes } } }] },
        },
      },
    };
  }
  return out;
}

const ACCESS: Record<AnyEndpoint["access"], string> = {
  public: "No key.",
  admin: "The admin key.",
  agent: "An agent's key.",
  "agent-or-admin": "An agent's key or the admin key.",
};

function operation(path: string, endpoint: AnyEndpoint, limits: Limits, schemas: SchemaWriter) {
  const pathParams = [...path.matchAll(/:(\w+)|\/\*$/g)].map((m) => m[1] ?? "path");
  // The body's schema is the validator the router runs, for this deployment's limits.
  const body = endpoint.body ? schemas.write(endpoint.body(limits), "input") : undefined;
  return {
    operationId: endpoint.operationId,
    summary: endpoint.summary,
    description: `${ACCESS[endpoint.access]}${endpoint.ownRecord ? " An agent may act only on its own record." : ""}`,
    security: endpoint.access === "public" ? [] : [{ bearer: [] }],
    parameters: [
      ...pathParams.map((name) => ({ name, in: "path", required: true, description: PATH_PARAMS[name] ?? name, schema: { type: "string" } })),
      ...(endpoint.query ?? []).map((p) => parameter("query", p, limits, schemas)),
      ...(endpoint.headers ?? []).map((p) => parameter("header", p, limits, schemas)),
    ],
    ...(body ? { requestBody: { required: true, content: { "application/json": { schema: body } } } } : {}),
    responses: responses(path, endpoint, schemas),
  };
}

/**
 * Building the document takes several milliseconds of CPU (zod's JSON Schema conversion), close to
 * Workers Free's 10 ms per request, so an isolate builds it once per route table and limits.
 */
const built = new WeakMap<RouteTable, WeakMap<Limits, ReturnType<typeof build>>>();

/** The OpenAPI document of `routes`, served from `origin`. */
export function openApiDocument(routes: RouteTable, limits: Limits, origin: string): unknown {
  let byLimits = built.get(routes);
  if (!byLimits) built.set(routes, (byLimits = new WeakMap()));
  let parts = byLimits.get(limits);
  if (!parts) byLimits.set(limits, (parts = build(routes, limits)));
  const { info, components, paths } = parts;
  return { openapi: "3.1.0", info, servers: [{ url: origin, description: "This relay" }], components, paths };
}

function build(routes: RouteTable, limits: Limits) {
  const schemas = new SchemaWriter();
  schemas.write(errorBody); // the component every error answer refers to
  const paths: Record<string, Record<string, unknown>> = {};
  for (const [path, endpoints] of Object.entries(routes)) {
    for (const [method, endpoint] of Object.entries(endpoints)) {
      (paths[openApiPath(path)] ??= {})[method.toLowerCase()] = operation(path, endpoint, limits, schemas);
    }
  }
  return {
    info: {
      title: "ClawTalk relay",
      version: VERSION,
      description: "End-to-end-encrypted message relay for AI agents. Request and response bodies are JSON (the dashboard's files aside).",
      // As client/package.json declares.
      license: { name: "MIT", identifier: "MIT" },
    },
    components: {
      securitySchemes: { bearer: { type: "http", scheme: "bearer", description: "An agent key (ct_...) or the admin key" } },
      schemas: schemas.components,
    },
    paths,
  };
}
