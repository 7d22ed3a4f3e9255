// The operator's audit through the CLI (SPEC §13), run as users run it against a real `wrangler
// dev` relay: `clawtalk keygen --audit` makes the operator's key pair; the relay is started with
// its public half (AUDIT_PUBLIC_KEY) and AUDIT_REQUIRE_SEALED=true; `clawtalk send --audit` logs
// the sent message sealed; `clawtalk audit` lists entries with the admin key and opens them with
// --secret-key-file, and only with the right key.

import { randomBytes } from "node:crypto";
import { readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import type { OpenedAuditEntry } from "../../client/index.js";
import { startTestRelay, tempDirs, type TestRelay } from "../support/node-relay.js";
import { runCli, type CliRun } from "../support/run-cli.js";

const ADMIN_KEY = `cli-audit-admin-${randomBytes(8).toString("hex")}`;

type Run = CliRun;

interface AuditOutput {
  entries: OpenedAuditEntry[];
  cursor: string | null;
  hasMore: boolean;
}

let testRelay: TestRelay | undefined;
const scratch = tempDirs();
let operatorDir: string;
let operatorKeyFile: string;
let operatorKeygen: Run;
let alice: { name: string; keyFile: string };
let bob: { name: string; keyFile: string };

/** Runs `clawtalk ...args` in `cwd` with only the given CLAWTALK_* variables (and the relay URL, once it runs). */
function cli(args: string[], options: { cwd: string; env?: Record<string, string> }): Promise<Run> {
  return runCli(args, { cwd: options.cwd, env: { ...(testRelay ? { CLAWTALK_URL: testRelay.url } : {}), ...options.env } });
}

async function ok(args: string[], env: Record<string, string> = {}): Promise<Run> {
  const run = await cli(args, { cwd: operatorDir, env });
  if (run.code !== 0) throw new Error(`clawtalk ${args.join(" ")} exited ${run.code}: ${run.stderr}`);
  return run;
}

const asAdmin = { CLAWTALK_ADMIN_KEY: ADMIN_KEY };

async function readAudit(args: string[]): Promise<AuditOutput> {
  return JSON.parse((await ok(["audit", "--json", ...args], asAdmin)).stdout) as AuditOutput;
}

async function newAgent(prefix: string): Promise<{ name: string; keyFile: string }> {
  const name = `${prefix}_${randomBytes(4).toString("hex")}`;
  const keyFile = join(scratch.make(`clawtalk-cli-audit-${prefix}-`), "key.json");
  await ok(["register", name, "--key-file", keyFile], asAdmin);
  return { name, keyFile };
}

function expectOneLine(text: string): void {
  expect(text.endsWith("\n")).toBe(true);
  expect(text.trimEnd().split("\n")).toHaveLength(1);
}

beforeAll(async () => {
  operatorDir = scratch.make("clawtalk-cli-audit-operator-");
  operatorKeyFile = join(operatorDir, "audit-key.json");
  operatorKeygen = await cli(["keygen", "--audit", "--out", operatorKeyFile, "--json"], { cwd: operatorDir });
  if (operatorKeygen.code !== 0) throw new Error(`keygen --audit: ${operatorKeygen.stderr}`);
  const { publicKey } = JSON.parse(readFileSync(operatorKeyFile, "utf8")) as { publicKey: string };
  testRelay = await startTestRelay({
    prefix: "clawtalk-cli-audit-relay-",
    adminKey: ADMIN_KEY,
    vars: { RATE_LIMIT_PER_MIN: "100000", AUDIT_PUBLIC_KEY: publicKey, AUDIT_REQUIRE_SEALED: "true" },
  });
  [alice, bob] = await Promise.all([newAgent("audit_alice"), newAgent("audit_bob")]);
});

afterAll(async () => {
  await testRelay?.cleanup();
  scratch.removeAll();
});

describe("keygen --audit", () => {
  test("writes the operator's key pair readable by its owner only and prints the public key, never the secret", () => {
    expect(statSync(operatorKeyFile).mode & 0o777).toBe(0o600);
    const file = JSON.parse(readFileSync(operatorKeyFile, "utf8")) as { publicKey: string; secretKey: string };
    expect(Buffer.from(file.publicKey, "base64")).toHaveLength(32);
    expect(Buffer.from(file.secretKey, "base64")).toHaveLength(32);
    expect(JSON.parse(operatorKeygen.stdout)).toEqual({ file: operatorKeyFile, publicKey: file.publicKey });
    expect(operatorKeygen.stdout + operatorKeygen.stderr).not.toContain(file.secretKey);
  });

  test("refuses to overwrite an audit key file unless --force", async () => {
    const before = readFileSync(operatorKeyFile, "utf8");
    const refused = await cli(["keygen", "--audit", "--out", operatorKeyFile], { cwd: operatorDir });
    expect(refused.code).toBe(1);
    expectOneLine(refused.stderr);
    expect(readFileSync(operatorKeyFile, "utf8")).toBe(before);
  });
});

describe("help", () => {
  test("audit --help prints its usage, keygen --help and send --help offer --audit, clawtalk --help lists audit", async () => {
    const audit = await cli(["audit", "--help"], { cwd: operatorDir });
    expect(audit.code).toBe(0);
    expect(audit.stdout).toContain("Usage: clawtalk audit");
    expect(audit.stdout).toContain("--secret-key-file F");
    for (const command of ["keygen", "send"]) expect((await cli([command, "--help"], { cwd: operatorDir })).stdout).toContain("--audit");
    expect((await cli(["--help"], { cwd: operatorDir })).stdout).toContain("  audit ");
  });
});

describe("send --audit and audit", () => {
  test("send --audit logs the sent message sealed; audit opens it with --secret-key-file, and shows only '(sealed)' without", async () => {
    const topic = `cli.audit.${randomBytes(3).toString("hex")}`;
    const text = `quarterly numbers ${randomBytes(4).toString("hex")}`;
    const sent = await ok(["send", "--key-file", alice.keyFile, "--to", bob.name, "--encrypt", "--topic", topic, "--audit", text]);
    expect(sent.stderr).toMatch(/sealed to the relay's audit key/);
    const id = sent.stdout.trim();

    const opened = await readAudit(["--topic", topic, "--secret-key-file", operatorKeyFile]);
    expect(opened.entries).toHaveLength(1);
    expect(opened.entries[0]).toMatchObject({ messageId: id, direction: "sent", from: alice.name, to: bob.name, topic, sealed: true, plaintext: text });
    expect(opened.entries[0]!.payload).not.toContain(text);

    const table = await ok(["audit", "--topic", topic, "--secret-key-file", operatorKeyFile], asAdmin);
    expect(table.stdout).toContain(text);
    expect(table.stdout).toContain("🔒");

    const closed = await ok(["audit", "--topic", topic], asAdmin);
    expect(closed.stdout).toContain("(sealed)");
    expect(closed.stdout).not.toContain(text);
    expect(closed.stderr).toMatch(/--secret-key-file/);
  });

  test("audit with another operator's key opens nothing and says so", async () => {
    const topic = `cli.audit.${randomBytes(3).toString("hex")}`;
    await ok(["send", "--key-file", alice.keyFile, "--to", bob.name, "--topic", topic, "--audit", "for the operator only"]);
    const otherKey = join(operatorDir, `other-${randomBytes(3).toString("hex")}.json`);
    await ok(["keygen", "--audit", "--out", otherKey]);
    const read = await readAudit(["--topic", topic, "--secret-key-file", otherKey]);
    expect(read.entries).toHaveLength(1);
    expect(read.entries[0]).toMatchObject({ sealed: true, problem: "decrypt-failed" });
    expect(read.entries[0]!.plaintext).toBeUndefined();
  });

  test("filters by --from and --to, and pages with --limit and --before <cursor>", async () => {
    const topic = `cli.audit.${randomBytes(3).toString("hex")}`;
    await ok(["send", "--key-file", alice.keyFile, "--to", bob.name, "--topic", topic, "--audit", "one"]);
    await ok(["send", "--key-file", bob.keyFile, "--to", alice.name, "--topic", topic, "--audit", "two"]);
    await ok(["send", "--key-file", alice.keyFile, "--to", bob.name, "--topic", topic, "--audit", "three"]);
    const key = ["--secret-key-file", operatorKeyFile];
    expect((await readAudit(["--topic", topic, "--from", alice.name, ...key])).entries.map((e) => e.plaintext)).toEqual(["three", "one"]);
    expect((await readAudit(["--topic", topic, "--to", alice.name, ...key])).entries.map((e) => e.plaintext)).toEqual(["two"]);

    const first = await cli(["audit", "--topic", topic, "--limit", "2", ...key], { cwd: operatorDir, env: asAdmin });
    expect(first.code).toBe(0);
    const hint = /more entries: add --before (\S+)/.exec(first.stderr);
    expect(hint, first.stderr).not.toBeNull();
    const rest = await readAudit(["--topic", topic, "--limit", "2", "--before", hint![1]!, ...key]);
    expect(rest).toMatchObject({ hasMore: false });
    expect(rest.entries.map((e) => e.plaintext)).toEqual(["one"]);
  });

  test("prints what agents wrote without terminal control characters", async () => {
    const topic = `cli.audit.${randomBytes(3).toString("hex")}`;
    await ok(["send", "--key-file", alice.keyFile, "--to", bob.name, "--topic", topic, "--audit", "red \u001b[31malert\u001b[0m \u0007bell"]);
    const table = await ok(["audit", "--topic", topic, "--secret-key-file", operatorKeyFile], asAdmin);
    expect(table.stdout).toContain("alert");
    expect(table.stdout).not.toMatch(/[\u0007\u001b]/);
  });

  test("fails with one line: no admin key (exit 1), an agent's key as the admin key (401, exit 2), an unreadable key file (exit 1)", async () => {
    const noKey = await cli(["audit"], { cwd: operatorDir });
    expect(noKey.code).toBe(1);
    expectOneLine(noKey.stderr);
    const apiKey = (JSON.parse(readFileSync(alice.keyFile, "utf8")) as { apiKey: string }).apiKey;
    const agentKey = await cli(["audit"], { cwd: operatorDir, env: { CLAWTALK_ADMIN_KEY: apiKey } });
    expect(agentKey.code).toBe(2);
    expectOneLine(agentKey.stderr);
    expect(agentKey.stderr).toContain("UNAUTHORIZED");
    const badFile = await cli(["audit", "--secret-key-file", alice.keyFile], { cwd: operatorDir, env: asAdmin });
    expect(badFile.code).toBe(1);
    expectOneLine(badFile.stderr);
  });
});
