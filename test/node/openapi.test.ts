// GET /openapi.json as its users use it (issue 15, item 4), against a real relay: Redocly's linter
// with the project's rules (redocly.yaml: the recommended set) finds no problem in the document
// the relay serves, and does find those of a broken copy; openapi-typescript, run as the README
// says, generates types that a real request and the relay's real answers type-check against, and
// that wrong uses do not. Both tools run offline (the relay is on 127.0.0.1).

import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { PROJECT_ROOT } from "../../scripts/local-relay.js";
import { httpCall, registerAgent, startTestRelay, tempDirs, uniqueName, type RegisteredAgent, type TestRelay } from "../support/node-relay.js";

const run = promisify(execFile);
const bin = (name: string) => join(PROJECT_ROOT, "node_modules/.bin", name);
/** No telemetry, no update check: the linter never reaches for the network. */
const OFFLINE = { ...process.env, REDOCLY_TELEMETRY: "off", REDOCLY_SUPPRESS_UPDATE_NOTICE: "true", NO_COLOR: "1" };
const TOOL_TIMEOUT_MS = 120_000;

interface Outcome {
  code: number;
  output: string;
}

/** Runs a tool; its exit code and output, whether it succeeded or not. */
async function outcome(command: string, args: string[], cwd: string): Promise<Outcome> {
  try {
    const { stdout, stderr } = await run(command, args, { cwd, env: OFFLINE, timeout: TOOL_TIMEOUT_MS, maxBuffer: 16 * 1024 * 1024 });
    return { code: 0, output: `${stdout}${stderr}` };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof failed.code === "number" ? failed.code : 1, output: `${failed.stdout ?? ""}${failed.stderr ?? ""}` };
  }
}

interface LintReport {
  totals: { errors: number; warnings: number; ignored: number };
  problems: { ruleId: string; severity: string; message: string; location: { pointer: string }[] }[];
}

/** `redocly lint` with the project's redocly.yaml, its JSON report. */
async function lint(file: string): Promise<{ code: number; report: LintReport }> {
  const result = await outcome(bin("redocly"), ["lint", file, "--config", join(PROJECT_ROOT, "redocly.yaml"), "--format=json"], PROJECT_ROOT);
  // The JSON report is the output's one top-level object (notices around it go to stderr).
  const start = result.output.indexOf('{\n  "totals"');
  expect(start, result.output).toBeGreaterThanOrEqual(0);
  const end = result.output.indexOf("\n}", start);
  return { code: result.code, report: JSON.parse(result.output.slice(start, end + 2)) as LintReport };
}

const dirs = tempDirs();
let relay: TestRelay;
let dir: string;
let documentFile: string;
let alice: RegisteredAgent;
let bob: RegisteredAgent;
let carol: RegisteredAgent;

beforeAll(async () => {
  relay = await startTestRelay({ prefix: "clawtalk-openapi-" });
  dir = dirs.make("clawtalk-openapi-client-");
  [alice, bob, carol] = await Promise.all([
    registerAgent(relay, uniqueName("alice")),
    registerAgent(relay, uniqueName("bob")),
    registerAgent(relay, uniqueName("carol")),
  ]);
  const doc = await httpCall(relay.url, "GET", "/openapi.json");
  expect(doc.status).toBe(200);
  documentFile = join(dir, "openapi.json");
  writeFileSync(documentFile, doc.text);
}, 120_000);

afterAll(async () => {
  await relay?.cleanup();
  dirs.removeAll();
});

describe("the OpenAPI linter (redocly lint, recommended rules)", () => {
  test(
    "finds no error and no warning in the document a relay serves",
    async () => {
      const { code, report } = await lint(documentFile);
      expect(report.problems.map((p) => `${p.severity} ${p.ruleId} ${p.location[0]?.pointer}: ${p.message}`)).toEqual([]);
      expect(report.totals).toEqual({ errors: 0, warnings: 0, ignored: 0 });
      expect(code).toBe(0);
    },
    TOOL_TIMEOUT_MS,
  );

  test(
    "finds the problems of a broken copy: no servers, an operation without operationId, one without any 4xx answer",
    async () => {
      const doc = JSON.parse(readFileSync(documentFile, "utf8")) as {
        servers?: unknown;
        paths: Record<string, Record<string, { operationId?: string; responses: Record<string, unknown> }>>;
      };
      delete doc.servers;
      delete doc.paths["/agents"]!.get!.operationId;
      const send = doc.paths["/messages"]!.post!;
      for (const status of Object.keys(send.responses)) if (status.startsWith("4")) delete send.responses[status];
      const broken = join(dir, "broken.json");
      writeFileSync(broken, JSON.stringify(doc));
      const { code, report } = await lint(broken);
      expect(report.problems.map((p) => p.ruleId)).toEqual(expect.arrayContaining(["no-empty-servers", "operation-operationId", "rule/operation-4xx-response"]));
      expect(report.totals.errors).toBeGreaterThan(0);
      expect(code).not.toBe(0);
    },
    TOOL_TIMEOUT_MS,
  );
});

// ---- A client generated from the document ------------------------------------------------------

/** A consumer project in `dir` that type-checks `files` strictly against the generated types. */
function writeProject(name: string, files: string[]): string {
  const tsconfig = join(dir, `${name}.tsconfig.json`);
  writeFileSync(
    tsconfig,
    JSON.stringify({
      compilerOptions: { target: "es2022", module: "nodenext", moduleResolution: "nodenext", lib: ["es2022"], types: [], strict: true, noEmit: true, skipLibCheck: false },
      files,
    }),
  );
  return tsconfig;
}

const base64 = (bytes: number) => randomBytes(bytes).toString("base64");

/** The generated types a program names, as consumer.ts and wrong.ts spell them. */
const TYPES = `import type { paths } from "./clawtalk.js";

type SendMessage = paths["/messages"]["post"];
export type SendBody = NonNullable<SendMessage["requestBody"]>["content"]["application/json"];
export type SendHeaders = NonNullable<SendMessage["parameters"]["header"]>;
export type Sent = SendMessage["responses"][201]["content"]["application/json"];
export type Refused = SendMessage["responses"][404]["content"]["application/json"];
export type ListQuery = NonNullable<paths["/messages"]["get"]["parameters"]["query"]>;
export type Page = paths["/messages"]["get"]["responses"][200]["content"]["application/json"];
export type Agents = paths["/agents"]["get"]["responses"][200]["content"]["application/json"];
export type Receipts = paths["/messages/{id}/receipts"]["get"]["responses"][200]["content"]["application/json"];
`;

describe("a client generated with openapi-typescript", () => {
  let generated: Outcome;

  beforeAll(async () => {
    writeFileSync(join(dir, "package.json"), JSON.stringify({ name: "generated-client", type: "module", private: true }));
    // As the README says: npx openapi-typescript http://127.0.0.1:8787/openapi.json -o clawtalk.d.ts
    generated = await outcome(bin("openapi-typescript"), [`${relay.url}/openapi.json`, "-o", join(dir, "clawtalk.d.ts")], dir);
  }, TOOL_TIMEOUT_MS);

  test(
    "type-checks against a real send (with Idempotency-Key and a sealed multicast), the relay's answers, an inbox page, receipts and the agent list",
    async () => {
      expect(generated.code, generated.output).toBe(0);
      const send = { to: bob.name, type: "request", encrypted: false, payload: { text: "hello from a generated client" }, topic: "openapi.test" };
      const idempotencyKey = `key-${randomBytes(8).toString("hex")}`;
      const sent = await httpCall(relay.url, "POST", "/messages", { key: alice.apiKey, json: send, headers: { "Idempotency-Key": idempotencyKey } });
      expect(sent.status, sent.text).toBe(201);
      const multicast = {
        to: [bob.name, carol.name],
        type: "notification",
        encrypted: true,
        payloads: Object.fromEntries([bob, carol].map((agent) => [agent.name, { payload: base64(40), nonce: base64(24), signature: base64(64) }])),
      };
      const sealed = await httpCall(relay.url, "POST", "/messages", { key: alice.apiKey, json: multicast });
      expect(sealed.status, sealed.text).toBe(201);
      const query = { sort: "asc", limit: 10, after: new Date(0).toISOString(), wait: 0 };
      const page = await httpCall(relay.url, "GET", `/messages?${new URLSearchParams(Object.entries(query).map(([k, v]) => [k, String(v)]))}`, { key: bob.apiKey });
      expect(page.status, page.text).toBe(200);
      expect((page.body as { messages: unknown[] }).messages).toHaveLength(2);
      const receipts = await httpCall(relay.url, "GET", `/messages/${(sealed.body as { id: string }).id}/receipts`, { key: alice.apiKey });
      expect(receipts.status, receipts.text).toBe(200);
      const agents = await httpCall(relay.url, "GET", "/agents", { key: alice.apiKey });
      expect(agents.status, agents.text).toBe(200);
      const refused = await httpCall(relay.url, "POST", "/messages", { key: alice.apiKey, json: { ...send, to: uniqueName("nobody") } });
      expect(refused.status, refused.text).toBe(404);

      const value = (v: unknown) => JSON.stringify(v, null, 2);
      writeFileSync(
        join(dir, "consumer.ts"),
        `// Real requests and answers of a relay, typed with the generated paths.
${TYPES}
export const send: SendBody = ${value(send)};
export const headers: SendHeaders = { "Idempotency-Key": ${JSON.stringify(idempotencyKey)} };
export const multicast: SendBody = ${value(multicast)};
export const sent: Sent = ${value(sent.body)};
export const sealed: Sent = ${value(sealed.body)};
export const refused: Refused = ${value(refused.body)};
export const query: ListQuery = ${value(query)};
export const page: Page = ${value(page.body)};
export const agents: Agents = ${value(agents.body)};
export const receipts: Receipts = ${value(receipts.body)};

// What a program reads from them.
export const stored: string[] = sent.recipients.map((r) => r.name + " " + r.ts);
export const texts: string[] = "lastSeq" in page ? [] : page.messages.map((m) => (typeof m.payload === "string" ? m.payload : JSON.stringify(m.payload)));
export const encryptable: string[] = agents.filter((a) => a.publicKey !== null).map((a) => a.name);
export const unknownNames: string[] = refused.code === "UNKNOWN_RECIPIENT" ? (refused.names ?? []) : [];
export const delivered: string[] = "recipients" in receipts ? receipts.recipients.filter((r) => r.status === "delivered").map((r) => r.name) : [];
`,
      );
      const checked = await outcome(bin("tsc"), ["-p", writeProject("consumer", ["consumer.ts"])], dir);
      expect(checked.output).toBe("");
      expect(checked.code).toBe(0);
    },
    TOOL_TIMEOUT_MS,
  );

  test(
    "does not type-check wrong uses: an unknown type, a missing field, a string limit, a numeric ts, an unknown error code",
    async () => {
      expect(generated.code, generated.output).toBe(0);
      // Each line marked "wrong" must be reported, and only those: the right uses beside them compile.
      const lines = [
        ...TYPES.trimEnd().split("\n"),
        `export const send: SendBody = { to: "bob", type: "request", encrypted: false, payload: "hi" };`,
        `export const sent: Sent = { id: "m1", ts: "2026-01-01T00:00:00.000Z", recipients: [{ name: "bob", ts: "2026-01-01T00:00:00.000Z" }] };`,
        `export const gossip: SendBody = { ...send, type: "gossip" }; // wrong`,
        `export const unsaid: SendBody = { to: "bob", type: "request", payload: "hi" }; // wrong`,
        `export const many: ListQuery = { limit: "ten" }; // wrong`,
        `export const when: Sent = { ...sent, ts: 42 }; // wrong`,
        `export const code: Refused["code"] = "NOT_A_CODE"; // wrong`,
      ];
      writeFileSync(join(dir, "wrong.ts"), `${lines.join("\n")}\n`);
      const checked = await outcome(bin("tsc"), ["-p", writeProject("wrong", ["wrong.ts"])], dir);
      expect(checked.code).not.toBe(0);
      const reported = new Set([...checked.output.matchAll(/wrong\.ts\((\d+),\d+\): error/g)].map((m) => Number(m[1])));
      const marked = lines.flatMap((line, i) => (line.endsWith("// wrong") ? [i + 1] : []));
      expect([...reported].sort((a, b) => a - b), checked.output).toEqual(marked);
    },
    TOOL_TIMEOUT_MS,
  );
});
