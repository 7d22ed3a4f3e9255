// Dispatch: every request goes through the same checks, in the spec's order (SPEC §9): unknown
// path 404 -> wrong method 405 -> missing or invalid key 401 -> wrong role 403 -> body too large
// 413 -> invalid body 400. The route table carries each endpoint's access and body schema, so a
// handler receives a typed caller and a validated, typed body and reads like the spec's
// description of its route.

import { IttyRouter } from "itty-router";
import type { z } from "zod";
import { failures, RelayError, unwrap, type ErrorCode } from "../protocol/errors.js";
import type { Limits } from "../protocol/limits.js";
import { nameKey } from "../protocol/names.js";
import { inboxStub } from "../durable-objects/stubs.js";
import { authenticate, type AdminCaller, type AgentCaller, type Caller } from "./auth.js";
import { readJsonBody } from "./body.js";
import { validate } from "./schemas.js";

export type Method = "GET" | "POST" | "PATCH" | "DELETE";

/** Who may call an endpoint. */
export type Access = "public" | "admin" | "agent" | "agent-or-admin";

type CallerFor<A extends Access> = A extends "public"
  ? null
  : A extends "admin"
    ? AdminCaller
    : A extends "agent"
      ? AgentCaller
      : Caller;

export interface RouteContext<A extends Access = Access, B = unknown> {
  request: Request;
  url: URL;
  env: Env;
  ctx: ExecutionContext;
  limits: Limits;
  requestId: string;
  params: Record<string, string>;
  caller: CallerFor<A>;
  /** The body, validated by the endpoint's schema (undefined for endpoints without one). */
  body: B;
}

/** A request body's schema, built for the deployment's limits (e.g. MULTICAST_MAX). */
export type BodySchema<B> = (limits: Limits) => z.ZodType<B>;

/** A success answer of an endpoint, as /openapi.json describes it and the tests check it. */
export interface Answer {
  description: string;
  /** The JSON body's schema (protocol/wire-schemas.ts); absent when the answer has no JSON body. */
  json?: z.ZodType;
  /** A body that is not JSON: its media types (the dashboard's files). */
  media?: readonly string[];
  /** Headers of the answer a client needs (e.g. a redirect's Location), with what they say. */
  headers?: Record<string, string>;
}

export type SuccessStatus = 200 | 201 | 202 | 204 | 308;

/**
 * A query parameter or request header the handler reads (worker/query.ts parses them): what
 * /openapi.json says of it. The schema may depend on the deployment's limits (PAGE_MAX, ...).
 */
export interface Parameter {
  name: string;
  description: string | ((limits: Limits) => string);
  schema: z.ZodType | ((limits: Limits) => z.ZodType);
  required?: boolean;
}

export interface Endpoint<A extends Access = Access, B = undefined> {
  /** The operation's stable name in /openapi.json (and so in generated clients): a verb and a noun. */
  operationId: string;
  summary: string;
  access: A;
  /** `:name` must be the calling agent (or `me`); the admin may act on any agent. */
  ownRecord?: boolean;
  /**
   * An agent's key is confirmed by the agent's own inbox, which holds its current hash. Handlers
   * whose work is an inbox call pass the hash to it and that call is the check ("handler");
   * for every other endpoint the router asks the inbox first.
   */
  keyCheck?: "handler";
  body?: BodySchema<B>;
  query?: readonly Parameter[];
  headers?: readonly Parameter[];
  /** What a success answers, by status. */
  answers: Partial<Record<SuccessStatus, Answer>>;
  /**
   * The error codes the handler (or the object it calls) answers, beyond those that follow from
   * the declaration: 401 for a key, 403 for `agent` access or `ownRecord`, 400 and 413 for a body,
   * 404 for a path parameter, 500 always (worker/openapi.ts `errorCodes`).
   */
  fails?: readonly ErrorCode[];
  handle(c: RouteContext<A, B>): Promise<Response>;
}

/** An endpoint with its types erased, as the route table holds it. */
export interface AnyEndpoint extends Omit<Endpoint<Access, unknown>, "body" | "handle"> {
  body?: BodySchema<unknown>;
  handle(c: RouteContext<Access, unknown>): Promise<Response>;
}

/**
 * Declares an endpoint. The cast only erases the types: the router hands `handle` a caller of
 * the declared access and a body parsed by the declared schema, which is what the types promise.
 */
export function endpoint<A extends Access, B = undefined>(e: Endpoint<A, B>): AnyEndpoint {
  return e as unknown as AnyEndpoint;
}

export type RouteTable = Record<string, Partial<Record<Method, AnyEndpoint>>>;

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
    throw new RelayError(failures.noRoute(new URL(request.url).pathname));
  };
}

async function run(
  endpoints: Partial<Record<Method, AnyEndpoint>>,
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
    throw new RelayError(failures.methodNotAllowed(request.method, allow), { Allow: allow });
  }
  const params = decodeParams(rawParams);
  const caller = endpoint.access === "public" ? null : await authenticate(request, env, ctx);
  authorize(endpoint, caller, params);
  if (caller?.role === "agent" && endpoint.keyCheck !== "handler") {
    unwrap(await inboxStub(env, caller.name).touch(caller.keyHash));
  }
  const body = endpoint.body ? validate(endpoint.body(limits), await readJsonBody(request, limits.maxBodyBytes)) : undefined;
  return endpoint.handle({ request, url: new URL(request.url), env, ctx, limits, requestId, params, caller, body });
}

function decodeParams(raw: Record<string, string>): Record<string, string> {
  const params: Record<string, string> = {};
  for (const [key, value] of Object.entries(raw)) {
    try {
      params[key] = decodeURIComponent(value);
    } catch {
      throw new RelayError(failures.malformedPath(key));
    }
  }
  return params;
}

function authorize(endpoint: AnyEndpoint, caller: Caller | null, params: Record<string, string>): void {
  if (caller === null) return;
  // An agent key is not a credential for an admin route (SPEC §9): 401, as in the original.
  if (endpoint.access === "admin" && caller.role !== "admin") throw new RelayError(failures.adminKeyRequired);
  if (endpoint.access === "agent" && caller.role !== "agent") throw new RelayError(failures.agentKeyRequired);
  if (endpoint.ownRecord) {
    const target = nameKey(params.name ?? "");
    if (caller.role === "admin") {
      if (target === "me") throw new RelayError(failures.adminHasNoRecord);
    } else if (target !== "me" && target !== nameKey(caller.name)) {
      throw new RelayError(failures.ownRecordOnly);
    }
  }
}
