// What GET /openapi.json says of each operation (issue 15, item 4): an operationId, the real
// success statuses with their schemas, the error answers with the catalog's codes, typed query
// parameters and headers, a server and a license. The document is generated from the route table;
// these tests read it as a client would. (test/node/openapi.test.ts lints it and generates a
// client from it; the auth matrix checks real answers against the same declarations.)

import { beforeAll, describe, expect, it } from "vitest";
import { ERROR_STATUS, type ErrorCode } from "../../protocol/errors.js";
import { routes } from "../../worker/index.js";
import { openApiPath } from "../../worker/openapi.js";
import { ADMIN_KEY, BASE, call, register } from "../support/relay.js";

type Schema = { [key: string]: unknown };

interface Parameter {
  name: string;
  in: string;
  required: boolean;
  schema: Schema;
}

interface Answer {
  description: string;
  headers?: Record<string, unknown>;
  content?: Record<string, { schema: Schema }>;
}

interface Operation {
  operationId: string;
  security: unknown[];
  parameters: Parameter[];
  requestBody?: { content: Record<string, { schema: Schema }> };
  responses: Record<string, Answer>;
}

interface Document {
  info: { license?: { name: string; identifier?: string } };
  servers: { url: string }[];
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, Schema> };
}

let doc: Document;
beforeAll(async () => {
  const reply = await call<Document>("GET", "/openapi.json");
  expect(reply.status).toBe(200);
  doc = reply.body;
});

const operations = () =>
  Object.entries(doc.paths).flatMap(([path, item]) => Object.entries(item).map(([method, op]) => ({ route: `${method.toUpperCase()} ${path}`, method, path, op })));

const operation = (method: string, path: string): Operation => {
  const op = doc.paths[path]?.[method];
  expect(op, `${method} ${path}`).toBeDefined();
  return op!;
};

const jsonSchema = (answer: Answer | undefined): Schema | undefined => answer?.content?.["application/json"]?.schema;
const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });

describe("GET /openapi.json: operations", () => {
  it("gives every operation a unique operationId, a verb and a noun in camelCase", () => {
    const ids = operations().map(({ op }) => op.operationId);
    expect(ids.length).toBe(Object.values(routes).flatMap((endpoints) => Object.keys(endpoints)).length);
    for (const id of ids) expect(id).toMatch(/^[a-z]+(?:[A-Z][a-z]+)+$/);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids).toEqual(expect.arrayContaining(["sendMessage", "listMessages", "getAgent", "listAgents", "registerAgent"]));
  });

  it("names the relay's own origin as its server, and a license", () => {
    expect(doc.servers).toEqual([expect.objectContaining({ url: BASE })]);
    expect(doc.info.license).toEqual({ name: "MIT", identifier: "MIT" });
  });

  it("describes what each success answers: 201 with the new thing, 200 for a replayed send, 204 without a body, 308 with Location", () => {
    expect(jsonSchema(operation("post", "/agents").responses["201"])).toEqual(ref("Registration"));
    expect(jsonSchema(operation("post", "/register").responses["201"])).toEqual(ref("Registration"));
    expect(jsonSchema(operation("post", "/invites").responses["201"])).toEqual(ref("Invite"));
    expect(jsonSchema(operation("post", "/audit").responses["201"])).toEqual(ref("AuditEntry"));
    const send = operation("post", "/messages").responses;
    expect(jsonSchema(send["201"])).toEqual(ref("SendResponse"));
    expect(jsonSchema(send["200"])).toEqual(ref("SendResponse"));
    expect(jsonSchema(operation("get", "/messages/{id}").responses["200"])).toEqual(ref("Envelope"));
    expect(jsonSchema(operation("get", "/agents").responses["200"])).toEqual({ type: "array", items: ref("AgentPublic") });
    for (const [method, path] of [["delete", "/messages/{id}"], ["delete", "/agents/{name}"], ["delete", "/invites/{code}"]] as const) {
      const answer = operation(method, path).responses["204"];
      expect(answer, `${method} ${path}`).toBeDefined();
      expect(answer!.content, `${method} ${path} answers no body`).toBeUndefined();
    }
    const redirect = operation("get", "/dashboard").responses;
    expect(Object.keys(redirect).filter((status) => status < "400")).toEqual(["308"]);
    expect(redirect["308"]!.headers).toHaveProperty("Location");
    for (const { route, op } of operations()) {
      const statuses = Object.keys(op.responses);
      expect(statuses.filter((status) => !/^[1-5]\d\d$/.test(status)), `${route}: no 2XX or default`).toEqual([]);
      for (const status of statuses.filter((s) => s.startsWith("2"))) {
        const answer = op.responses[status]!;
        // 204 and 202 (an MCP notification accepted) have no body.
        if (status !== "204" && status !== "202") expect(answer.content, `${route} ${status} has a body`).toBeDefined();
        for (const media of Object.values(answer.content ?? {})) expect(Object.keys(media.schema), `${route} ${status}: not an empty schema`).not.toHaveLength(0);
      }
    }
  });

  it("types the dashboard's files as text/html, text/css and text/javascript, not JSON", () => {
    const files = operation("get", "/dashboard/{path}").responses["200"]!;
    expect(Object.keys(files.content!).sort()).toEqual(["text/css", "text/html", "text/javascript"]);
  });

  it("gives every error answer the Error schema, narrowed to codes of that status from the catalog; every operation answers 500", () => {
    expect(doc.components.schemas.Error).toEqual(
      expect.objectContaining({ required: ["error", "code"], properties: expect.objectContaining({ code: { type: "string", enum: Object.keys(ERROR_STATUS) } }) }),
    );
    for (const { route, op } of operations()) {
      expect(op.responses, route).toHaveProperty("500");
      for (const [status, answer] of Object.entries(op.responses).filter(([s]) => Number(s) >= 400)) {
        const schema = jsonSchema(answer) as { allOf: [Schema, { properties: { code: { enum: ErrorCode[] } } }] };
        expect(schema.allOf[0], `${route} ${status}`).toEqual(ref("Error"));
        const codes = schema.allOf[1].properties.code.enum;
        expect(codes.length, `${route} ${status}`).toBeGreaterThan(0);
        for (const code of codes) expect(ERROR_STATUS[code], `${route} ${status} ${code}`).toBe(Number(status));
      }
    }
  });

  it("lists the error answers the router gives: 401 for a key, 403 for an agent's route, 400 and 413 for a body, 404 for a path parameter", () => {
    for (const [path, endpoints] of Object.entries(routes)) {
      for (const [method, endpoint] of Object.entries(endpoints)) {
        const statuses = Object.keys(operation(method.toLowerCase(), openApiPath(path)).responses);
        const expected = [
          ...(endpoint.access === "public" ? [] : ["401"]),
          ...(endpoint.access === "agent" || endpoint.ownRecord ? ["403"] : []),
          ...(endpoint.body ? ["400", "413"] : []),
          ...(path.includes(":") ? ["404"] : []),
        ];
        expect(statuses, `${method} ${path}`).toEqual(expect.arrayContaining(expected));
      }
    }
    expect(Object.keys(operation("post", "/messages").responses)).toEqual(
      expect.arrayContaining(["404", "409", "429", "503", "507"].map(String)),
    );
    expect(operation("post", "/messages").responses["429"]!.headers).toHaveProperty("Retry-After");
  });
});

describe("GET /openapi.json: parameters and bodies", () => {
  it("types GET /messages' query parameters, and POST /messages' Idempotency-Key header", () => {
    const query = Object.fromEntries(operation("get", "/messages").parameters.filter((p) => p.in === "query").map((p) => [p.name, p.schema]));
    expect(query).toMatchObject({
      sort: { type: "string", enum: ["asc", "desc"] },
      after: { type: "string", format: "date-time" },
      since: { type: "string", format: "date-time" },
      before: { type: "string", format: "date-time" },
      limit: { type: "integer", minimum: 1, default: 50 },
      topic: { type: "string" },
      from: { type: "string" },
      wait: { type: "number", minimum: 0 },
      unread: { type: "boolean", default: false },
      via: { type: "string", enum: ["poll", "mcp"] },
      afterSeq: { type: "string", pattern: expect.any(String) },
    });
    const receipts = operation("get", "/messages/{id}/receipts");
    expect(Object.fromEntries(receipts.parameters.map((p) => [p.name, p.schema]))).toMatchObject({
      id: { type: "string" },
      wait: { type: "number", minimum: 0 },
      until: { type: "string", enum: ["delivered", "acked"] },
      from: { type: "string" },
    });
    expect(jsonSchema(receipts.responses["200"])).toEqual(ref("Receipts"));
    expect(operation("get", "/admin/stats").parameters).toEqual([expect.objectContaining({ name: "minutes", in: "query", schema: expect.objectContaining({ type: "integer" }) })]);
    expect(operation("get", "/channels").parameters).toEqual([expect.objectContaining({ name: "detail", schema: expect.objectContaining({ type: "boolean" }) })]);
    expect(operation("delete", "/audit").parameters).toEqual([expect.objectContaining({ name: "before", required: true })]);
    expect(operation("post", "/messages").parameters).toEqual([
      expect.objectContaining({ name: "Idempotency-Key", in: "header", required: false, schema: expect.objectContaining({ type: "string" }) }),
    ]);
  });

  it("describes payload as a string or a JSON object and payloads as a map of {payload, nonce, signature?}", () => {
    const body = operation("post", "/messages").requestBody!.content["application/json"]!.schema as { properties: Record<string, Schema> };
    const payload = body.properties.payload as { anyOf: Schema[] };
    expect(payload.anyOf).toEqual([{ type: "string" }, expect.objectContaining({ type: "object" })]);
    expect(body.properties.payloads).toMatchObject({
      type: "object",
      additionalProperties: { type: "object", required: ["payload", "nonce"], properties: { payload: { type: "string" }, nonce: { type: "string" }, signature: { type: "string" } } },
    });
    const stored = doc.components.schemas.Envelope as { properties: Record<string, { anyOf?: Schema[] }> };
    expect(stored.properties.payload!.anyOf).toEqual([{ type: "string" }, expect.objectContaining({ type: "object" })]);
  });

  it("refers only to components it has, and has only components it refers to", () => {
    const text = JSON.stringify(doc);
    const referred = new Set([...text.matchAll(/"\$ref":"#\/components\/schemas\/([^"]+)"/g)].map((m) => m[1]));
    expect([...referred].sort()).toEqual(Object.keys(doc.components.schemas).sort());
  });
});

describe("GET /openapi.json: the parameters are the ones the handlers read", () => {
  // A parameter the document lists but no handler reads would fail here: a malformed value must
  // be refused naming it. (Flags typed boolean take any value: anything but "true" is false.)
  // The admin key where it is accepted (it reaches the admin-only parameters too), else an agent's.
  it("a malformed value of every listed query parameter answers 400 naming it", async () => {
    const agent = await register("params");
    let checked = 0;
    for (const [path, endpoints] of Object.entries(routes)) {
      for (const [method, endpoint] of Object.entries(endpoints)) {
        const route = `${method} ${path}`;
        const op = operation(method.toLowerCase(), openApiPath(path));
        for (const param of op.parameters.filter((p) => p.in === "query" && p.schema.type !== "boolean")) {
          const url = `${path.replace(/:\w+/g, "x")}?${param.name}=x!`;
          const reply = await call<{ error: string; code: string }>(method, url, { key: endpoint.access === "agent" ? agent.apiKey : ADMIN_KEY });
          expect(reply.status, `${route} ?${param.name}=x!: ${reply.text}`).toBe(400);
          expect(reply.body.error, route).toContain(`${param.name}:`);
          checked++;
        }
      }
    }
    expect(checked).toBeGreaterThan(10);
  });
});
