// The HTTP surface every request shares (SPEC §4, §9): CORS, the standard headers on every
// response, 404/405 for paths and methods the route table does not serve, /health,
// /openapi.json, the dashboard's headers, and bodies read as JSON whatever the Content-Type.
// (429's Retry-After is covered by the rate-limit tests, which run with small limits.)

import { describe, expect, it, vi } from "vitest";
import type { AgentPublic, Registration, SendResponse } from "../../protocol/envelope.js";
import pkg from "../../package.json";
import { routes } from "../../worker/index.js";
import type { Method } from "../../worker/router.js";
import { ADMIN_KEY, call, register, send, textMessage, uniqueName, type Reply } from "../support/relay.js";

const ALLOWED_METHODS = "GET, POST, PATCH, DELETE, OPTIONS";
const METHODS: Method[] = ["GET", "POST", "PATCH", "DELETE"];

interface Health {
  status: string;
  ts: string;
  agents: number;
  version: string;
}

/** The parts of the OpenAPI document these tests read. */
interface OpenApiOperation {
  responses?: unknown;
  security?: Record<string, unknown>[];
  parameters?: unknown[];
}
interface OpenApiDocument {
  openapi: string;
  info: unknown;
  paths: Record<string, Record<string, OpenApiOperation>>;
  components?: { securitySchemes?: Record<string, unknown> };
}

function expectStandardHeaders(reply: Reply, what: string): void {
  expect(reply.status, what).not.toBe(500);
  expect(reply.headers.get("Cache-Control"), what).toBe("no-store");
  expect(reply.headers.get("X-Request-Id"), what).toMatch(/\S{8,}/);
  expect(reply.headers.get("Access-Control-Allow-Origin"), what).toBe("*");
}

function expectCorsPolicy(reply: Reply, what: string): void {
  expect(reply.headers.get("Access-Control-Allow-Methods"), what).toBe(ALLOWED_METHODS);
  const allowed = (reply.headers.get("Access-Control-Allow-Headers") ?? "").split(",").map((h) => h.trim().toLowerCase());
  expect(allowed, what).toEqual(expect.arrayContaining(["authorization", "content-type", "idempotency-key"]));
}

function expectError(reply: Reply, status: number, code: string, what = `${status} ${code}`): void {
  expect(reply.status, `${what}: ${reply.text}`).toBe(status);
  expect(reply.body, what).toEqual(expect.objectContaining({ error: expect.any(String), code }));
  expect(reply.headers.get("Content-Type"), what).toMatch(/^application\/json/);
}

/** The route table's paths, with parameters filled in, for requests that never reach a handler. */
function concretePath(path: string): string {
  return path.replace(/:\w+/g, "someone").replace(/\/\*$/, "");
}

// ---- CORS ---------------------------------------------------------------------------------

describe("CORS preflight", () => {
  const paths = [
    ...Object.keys(routes).map(concretePath),
    "/",
    "/no/such/path",
    "/agents/someone/not-a-route",
    "/messages/x/y/z",
  ];

  it.each(paths)("OPTIONS %s answers 204 with the CORS policy", async (path) => {
    const reply = await call("OPTIONS", path, {
      headers: {
        Origin: "https://agents.example",
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization, content-type, idempotency-key",
      },
    });
    expect(reply.status).toBe(204);
    expect(reply.text).toBe("");
    expectStandardHeaders(reply, `OPTIONS ${path}`);
    expectCorsPolicy(reply, `OPTIONS ${path}`);
  });

  it("a preflight needs no key, and a bad key does not spoil it", async () => {
    const reply = await call("OPTIONS", "/messages", { headers: { Authorization: "Bearer ct_not-a-real-key" } });
    expect(reply.status).toBe(204);
    expectCorsPolicy(reply, "OPTIONS with a bad key");
  });
});

// ---- Headers on every response ------------------------------------------------------------

describe("every response carries Cache-Control: no-store, an X-Request-Id and the CORS headers", () => {
  interface Case {
    what: string;
    status: number;
    code?: string;
    make(): Promise<Reply>;
  }

  const cases: Case[] = [
    { what: "GET /health", status: 200, make: () => call("GET", "/health") },
    { what: "GET /openapi.json", status: 200, make: () => call("GET", "/openapi.json") },
    { what: "GET /dashboard/", status: 200, make: () => call("GET", "/dashboard/") },
    { what: "a registration", status: 201, make: () => call("POST", "/agents", { key: ADMIN_KEY, json: { name: uniqueName("hdr") } }) },
    {
      what: "a send",
      status: 201,
      async make() {
        const [a, b] = await Promise.all([register("hdra"), register("hdrb")]);
        return send(a, textMessage(b.name));
      },
    },
    {
      what: "a delete (no body)",
      status: 204,
      async make() {
        const [a, b] = await Promise.all([register("hdra"), register("hdrb")]);
        const sent = await send<SendResponse>(a, textMessage(b.name));
        return call("DELETE", `/messages/${sent.body.id}`, { key: b.apiKey });
      },
    },
    { what: "an invalid body", status: 400, code: "BAD_REQUEST", make: () => call("POST", "/agents", { key: ADMIN_KEY, json: { name: "x" } }) },
    { what: "a missing key", status: 401, code: "UNAUTHORIZED", make: () => call("GET", "/agents") },
    {
      what: "an agent on an admin route",
      status: 401,
      code: "UNAUTHORIZED",
      async make() {
        const a = await register("hdra");
        return call("GET", "/invites", { key: a.apiKey });
      },
    },
    { what: "an unknown path", status: 404, code: "NOT_FOUND", make: () => call("GET", "/no/such/path") },
    {
      what: "an unknown recipient",
      status: 404,
      code: "UNKNOWN_RECIPIENT",
      async make() {
        const a = await register("hdra");
        return send(a, textMessage(uniqueName("nobody")));
      },
    },
    { what: "a wrong method", status: 405, code: "METHOD_NOT_ALLOWED", make: () => call("PUT", "/health") },
    {
      what: "a taken name",
      status: 409,
      code: "CONFLICT",
      async make() {
        const a = await register("hdra");
        return call("POST", "/agents", { key: ADMIN_KEY, json: { name: a.name } });
      },
    },
    {
      what: "a body over 64 KiB",
      status: 413,
      code: "PAYLOAD_TOO_LARGE",
      async make() {
        const [a, b] = await Promise.all([register("hdra"), register("hdrb")]);
        return send(a, textMessage(b.name, "x".repeat(70 * 1024)));
      },
    },
  ];

  for (const { what, status, code, make } of cases) {
    it(`${what} (${status})`, async () => {
      const reply = await make();
      expect(reply.status, reply.text).toBe(status);
      if (code) expectError(reply, status, code, what);
      expectStandardHeaders(reply, what);
      expectCorsPolicy(reply, what);
    });
  }

  it("each response has its own X-Request-Id", async () => {
    const replies = await Promise.all([call("GET", "/health"), call("GET", "/health"), call("GET", "/nope"), call("GET", "/agents")]);
    const ids = replies.map((r) => r.headers.get("X-Request-Id"));
    expect(new Set(ids).size).toBe(ids.length);
  });
});

// ---- Unknown paths and wrong methods -----------------------------------------------------

describe("unknown paths answer 404 NOT_FOUND", () => {
  const unknown = ["/", "/nope", "/agent", "/agents/someone/unknown-action", "/agents/a/b/c/d", "/messages/x/y", "/invites/a/b", "/healthz", "/v1/messages"];

  it.each(unknown)("GET %s", async (path) => {
    const reply = await call("GET", path);
    expectError(reply, 404, "NOT_FOUND", path);
    expectStandardHeaders(reply, path);
  });

  it("an unknown path is 404 before any key check, whatever the method", async () => {
    for (const method of [...METHODS, "PUT"]) {
      const reply = await call(method, "/no/such/path", { headers: { Authorization: "Basic xyz" } });
      expectError(reply, 404, "NOT_FOUND", `${method} /no/such/path`);
    }
  });

  it("a malformed percent-encoding in a path parameter is 404, not 500", async () => {
    const reply = await call("GET", "/agents/%E0%A4%A", { key: ADMIN_KEY });
    expectError(reply, 404, "NOT_FOUND");
  });
});

describe("a known path with a wrong method answers 405 METHOD_NOT_ALLOWED with Allow", () => {
  const wrong = Object.entries(routes).flatMap(([path, endpoints]) =>
    [...METHODS, "PUT"]
      .filter((method) => !(method in endpoints))
      .map((method) => ({ method, path, allowed: [...Object.keys(endpoints), "OPTIONS"] })),
  );

  for (const { method, path, allowed } of wrong) {
    it(`${method} ${path} (Allow: ${allowed.join(", ")})`, async () => {
      // No key at all: 405 comes before 401 (SPEC §9).
      const reply = await call(method, concretePath(path), method === "GET" || method === "DELETE" ? {} : { json: {} });
      expectError(reply, 405, "METHOD_NOT_ALLOWED", `${method} ${path}`);
      expectStandardHeaders(reply, `${method} ${path}`);
      const allow = (reply.headers.get("Allow") ?? "").split(",").map((m) => m.trim()).filter(Boolean);
      expect(allow.sort()).toEqual([...allowed].sort());
    });
  }
});

// ---- /health ------------------------------------------------------------------------------

describe("GET /health", () => {
  it("answers {status, ts, agents, version} with the number of agents and package.json's version, without a key", async () => {
    await register("health");
    const reply = await call<Health>("GET", "/health");
    expect(reply.status).toBe(200);
    expect(Object.keys(reply.body).sort()).toEqual(["agents", "status", "ts", "version"]);
    expect(reply.body.status).toBe("ok");
    expect(reply.body.ts).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
    expect(Math.abs(Date.parse(reply.body.ts) - Date.now())).toBeLessThan(60_000);
    expect(Number.isInteger(reply.body.agents)).toBe(true);
    expect(reply.body.version).toBe(pkg.version);
    // The count is cached for a few seconds (health is unauthenticated); it catches up with the
    // directory's (storage is per test file, and this file registers nothing meanwhile).
    await vi.waitFor(
      async () => {
        const listed = await call<AgentPublic[]>("GET", "/agents", { key: ADMIN_KEY });
        expect(listed.body.length).toBeGreaterThan(0);
        expect((await call<Health>("GET", "/health")).body.agents).toBe(listed.body.length);
      },
      { timeout: 15_000, interval: 200 },
    );
  });
});

// ---- /openapi.json ------------------------------------------------------------------------

describe("GET /openapi.json", () => {
  /** OpenAPI spells `:name` as `{name}`; a trailing wildcard may be left out or named. */
  function openApiPaths(path: string): string[] {
    const templated = path.replace(/:(\w+)/g, "{$1}");
    return templated.endsWith("/*") ? [templated, templated.slice(0, -2), `${templated.slice(0, -1)}{path}`] : [templated];
  }

  it("is an OpenAPI 3.1 document, served without a key", async () => {
    const reply = await call<OpenApiDocument>("GET", "/openapi.json");
    expect(reply.status).toBe(200);
    expect(reply.headers.get("Content-Type")).toMatch(/^application\/json/);
    const doc = reply.body;
    expect(doc.openapi).toMatch(/^3\.1\.\d+$/);
    expect(doc.info).toEqual(expect.objectContaining({ title: expect.any(String), version: pkg.version }));
    expect(typeof doc.paths).toBe("object");
    for (const [path, item] of Object.entries(doc.paths)) {
      expect(path.startsWith("/"), path).toBe(true);
      for (const [method, operation] of Object.entries(item)) {
        expect(["get", "post", "patch", "delete", "put", "options", "head"], `${method} ${path}`).toContain(method);
        expect(operation.responses, `${method} ${path}`).toBeTypeOf("object");
      }
    }
  });

  it("lists every path and method of the route table, with its auth and path parameters", async () => {
    const doc = (await call<OpenApiDocument>("GET", "/openapi.json")).body;
    const schemes = Object.keys(doc.components?.securitySchemes ?? {});
    for (const [path, endpoints] of Object.entries(routes)) {
      const listed = openApiPaths(path).find((p) => doc.paths[p] !== undefined);
      expect(listed, `${path} is missing from /openapi.json`).toBeDefined();
      const item = doc.paths[listed!]!;
      for (const [method, endpoint] of Object.entries(endpoints)) {
        const operation = item[method.toLowerCase()]!;
        expect(operation, `${method} ${path} is missing from /openapi.json`).toBeDefined();
        if (endpoint.access === "public") {
          expect(operation.security ?? [], `${method} ${path} needs no key`).toEqual([]);
        } else {
          expect(operation.security?.length, `${method} ${path} needs a key`).toBeGreaterThan(0);
          for (const requirement of operation.security ?? []) {
            for (const scheme of Object.keys(requirement)) expect(schemes).toContain(scheme);
          }
        }
        for (const [, param] of listed!.matchAll(/\{(\w+)\}/g)) {
          expect(operation.parameters, `${method} ${path} documents {${param}}`).toEqual(
            expect.arrayContaining([expect.objectContaining({ name: param, in: "path", required: true })]),
          );
        }
      }
    }
  });
});

// ---- The dashboard ------------------------------------------------------------------------

describe("GET /dashboard", () => {
  it("/dashboard redirects to /dashboard/, so the page's relative links resolve", async () => {
    const reply = await call("GET", "/dashboard");
    expect(reply.status).toBe(308);
    expect(new URL(reply.headers.get("Location")!).pathname).toBe("/dashboard/");
    expectStandardHeaders(reply, "/dashboard");
  });

  it.each(["/dashboard/", "/dashboard/index.html"])("%s answers the dashboard HTML with a strict CSP", async (path) => {
    const reply = await call("GET", path);
    expect(reply.status).toBe(200);
    expect(reply.headers.get("Content-Type")).toMatch(/^text\/html/);
    expect(reply.text).toMatch(/<!doctype html>/i);
    expectStandardHeaders(reply, path);

    const csp = reply.headers.get("Content-Security-Policy") ?? "";
    const directives = new Map(
      csp.split(";").map((d) => d.trim()).filter(Boolean).map((d) => {
        const [name, ...values] = d.split(/\s+/);
        return [name!.toLowerCase(), values] as const;
      }),
    );
    expect(directives.has("default-src"), csp).toBe(true);
    const scriptSrc = directives.get("script-src") ?? directives.get("default-src")!;
    expect(scriptSrc, csp).not.toContain("'unsafe-inline'");
    expect(scriptSrc, csp).not.toContain("'unsafe-eval'");
    expect(scriptSrc, csp).not.toContain("*");
    expect(directives.get("object-src") ?? directives.get("default-src"), csp).not.toContain("*");
  });

  it("the page has no inline script or event handler that its CSP would block", async () => {
    const html = (await call("GET", "/dashboard/")).text;
    for (const tag of html.match(/<script\b[^>]*>/gi) ?? []) expect(tag, "inline <script>").toMatch(/\bsrc=/i);
    expect(html).not.toMatch(/\son[a-z]+\s*=/i);
    expect(html).not.toMatch(/javascript:/i);
  });
});

// ---- Bodies are JSON whatever the Content-Type --------------------------------------------

describe("bodies are read as JSON whatever the Content-Type says", () => {
  it.each(["application/x-www-form-urlencoded", "text/plain", "application/octet-stream", "multipart/form-data; boundary=x"])(
    "a valid registration sent as %s answers 201",
    async (contentType) => {
      const name = uniqueName("ctype");
      const reply = await call<Registration>("POST", "/agents", {
        key: ADMIN_KEY,
        raw: JSON.stringify({ name }),
        headers: { "Content-Type": contentType },
      });
      expect(reply.status, reply.text).toBe(201);
      expect(reply.body.name).toBe(name);
      expect(reply.body.apiKey).toMatch(/^ct_[A-Za-z0-9_-]{43}$/);
    },
  );

  it("a valid registration with no Content-Type at all answers 201", async () => {
    const name = uniqueName("ctype");
    const reply = await call<Registration>("POST", "/agents", { key: ADMIN_KEY, raw: JSON.stringify({ name }) });
    expect(reply.status, reply.text).toBe(201);
    expect(reply.body.name).toBe(name);
  });

  it("a send with curl's default form type is stored", async () => {
    const [a, b] = await Promise.all([register("ctypea"), register("ctypeb")]);
    const reply = await call("POST", "/messages", {
      key: a.apiKey,
      raw: JSON.stringify(textMessage(b.name, "via curl -d")),
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
    });
    expect(reply.status, reply.text).toBe(201);
  });
});

// ---- Nothing here is a 500 ------------------------------------------------------------------

describe("odd requests get a clear error, never a 500", () => {
  const cases: { what: string; status: number; code: string; make(): Promise<Reply> }[] = [
    { what: "a body that is not JSON", status: 400, code: "BAD_REQUEST", make: () => call("POST", "/agents", { key: ADMIN_KEY, raw: "name=bob" }) },
    { what: "an empty body", status: 400, code: "BAD_REQUEST", make: () => call("POST", "/agents", { key: ADMIN_KEY, raw: "" }) },
    { what: "a JSON array body", status: 400, code: "BAD_REQUEST", make: () => call("POST", "/agents", { key: ADMIN_KEY, raw: "[1,2]" }) },
    { what: "a JSON null body", status: 400, code: "BAD_REQUEST", make: () => call("POST", "/agents", { key: ADMIN_KEY, raw: "null" }) },
    {
      what: "a body that is not UTF-8",
      status: 400,
      code: "BAD_REQUEST",
      make: () => call("POST", "/agents", { key: ADMIN_KEY, raw: new Uint8Array([0x7b, 0xff, 0xfe, 0x7d]) }),
    },
    {
      what: "a body nested 10,000 levels deep",
      status: 400,
      code: "BAD_REQUEST",
      make: () => call("POST", "/agents", { key: ADMIN_KEY, raw: `${"[".repeat(10_000)}${"]".repeat(10_000)}` }),
    },
    {
      what: "an Authorization header of 10,000 characters",
      status: 401,
      code: "UNAUTHORIZED",
      make: () => call("GET", "/agents", { headers: { Authorization: `Bearer ${"a".repeat(10_000)}` } }),
    },
    { what: "a path parameter of 1,000 characters", status: 404, code: "NOT_FOUND", make: () => call("GET", `/agents/${"a".repeat(1000)}`, { key: ADMIN_KEY }) },
  ];

  for (const { what, status, code, make } of cases) {
    it(`${what} -> ${status} ${code}`, async () => {
      const reply = await make();
      expectError(reply, status, code, what);
      expectStandardHeaders(reply, what);
    });
  }
});
