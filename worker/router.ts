// Dispatch: every request goes through the same checks, in the spec's order (SPEC §9):
// unknown path 404 -> wrong method 405 -> missing or invalid key 401 -> wrong role 403 ->
// body too large 413 -> invalid body 400. Handlers see an authenticated caller and a parsed
// body and read like the spec's description of their route.

import { IttyRouter } from "itty-router";
import { RelayError, unwrap } from "../protocol/errors.js";
import type { Limits } from "../protocol/limits.js";
import { nameKey } from "../protocol/names.js";
import { inboxStub } from "../durable-objects/inbox.js";
import { authenticate, type Caller } from "./auth.js";
import { readJsonBody } from "./body.js";

export type Method = "GET" | "POST" | "PATCH" | "DELETE";

/** Who may call an endpoint. */
export type Access = "public" | "admin" | "agent" | "agent-or-admin";

export interface RouteContext {
  request: Request;
  url: URL;
  env: Env;
  ctx: ExecutionContext;
  limits: Limits;
  requestId: string;
  params: Record<string, string>;
  caller: Caller | null;
  /** The parsed JSON body, for endpoints that read one. */
  body: unknown;
}

export interface Endpoint {
  summary: string;
  access: Access;
  /** `:name` must be the calling agent (or `me`); the admin may act on any agent. */
  ownRecord?: boolean;
  /** The handler's first Inbox call checks the caller's key itself, so no separate check is made. */
  inboxChecksKey?: boolean;
  body?: boolean;
  handle(c: RouteContext): Promise<Response>;
}

export type RouteTable = Record<string, Partial<Record<Method, Endpoint>>>;

type Dispatch = (request: Request, env: Env, ctx: ExecutionContext, limits: Limits, requestId: string) => Promise<Response>;

export function createRouter(routes: RouteTable): Dispatch {
  const router = IttyRouter();
  for (const [path, endpoints] of Object.entries(routes)) {
    router.all(path, (request: Request & { params: Record<string, string> }, env: Env, ctx: ExecutionContext, limits: Limits, requestId: string) =>
      run(endpoints, request, request.params, env, ctx, limits, requestId),
    );
  }
  return async (request, env, ctx, limits, requestId) => {
    const response: Response | undefined = await router.fetch(request, env, ctx, limits, requestId);
    if (response) return response;
    throw new RelayError("NOT_FOUND", `No route for ${new URL(request.url).pathname}.`);
  };
}

async function run(
  endpoints: Partial<Record<Method, Endpoint>>,
  request: Request,
  rawParams: Record<string, string>,
  env: Env,
  ctx: ExecutionContext,
  limits: Limits,
  requestId: string,
): Promise<Response> {
  const endpoint = endpoints[request.method as Method];
  if (!endpoint) {
    const allow = [...Object.keys(endpoints), "OPTIONS"].join(", ");
    throw new RelayError("METHOD_NOT_ALLOWED", `${request.method} is not allowed here; use ${allow}.`, {}, { Allow: allow });
  }
  const params = decodeParams(rawParams);
  const caller = endpoint.access === "public" ? null : await authenticate(request, env, ctx);
  authorize(endpoint, caller, params);
  if (caller?.role === "agent" && !endpoint.inboxChecksKey) {
    caller.lastSeen = unwrap(await inboxStub(env, caller.name).touch(caller.keyHash)).lastSeen;
  }
  const body = endpoint.body ? await readJsonBody(request, limits.maxBodyBytes) : undefined;
  return endpoint.handle({ request, url: new URL(request.url), env, ctx, limits, requestId, params, caller, body });
}

/** The calling agent of an agent-only endpoint. */
export function agentCaller(c: RouteContext): Extract<Caller, { role: "agent" }> {
  if (c.caller?.role !== "agent") throw new RelayError("FORBIDDEN", "This route acts on an agent's own inbox; use that agent's key.");
  return c.caller;
}

function decodeParams(raw: Record<string, string>): Record<string, string> {
  const params: Record<string, string> = {};
  for (const [key, value] of Object.entries(raw)) {
    try {
      params[key] = decodeURIComponent(value);
    } catch {
      throw new RelayError("NOT_FOUND", `Malformed percent-encoding in ${key}.`);
    }
  }
  return params;
}

function authorize(endpoint: Endpoint, caller: Caller | null, params: Record<string, string>): void {
  if (caller === null) return;
  // An agent key is no credential for an admin route, so it is 401, as in the original (SPEC §9).
  if (endpoint.access === "admin" && caller.role !== "admin") {
    throw new RelayError("UNAUTHORIZED", "This route needs the admin key; an agent key is not accepted here.");
  }
  if (endpoint.access === "agent" && caller.role !== "agent") {
    throw new RelayError("FORBIDDEN", "This route acts on an agent's own inbox; use that agent's key.");
  }
  if (endpoint.ownRecord) {
    const target = params.name ?? "";
    if (caller.role === "admin") {
      if (nameKey(target) === "me") throw new RelayError("FORBIDDEN", "The admin key has no record of its own; name the agent.");
    } else if (nameKey(target) !== "me" && nameKey(target) !== nameKey(caller.name)) {
      throw new RelayError("FORBIDDEN", "An agent may act only on its own record.");
    }
  }
}
