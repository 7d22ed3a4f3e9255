// The SDK as a package (SPEC §6: "ESM with types; runs on Node 20+, Workers and browsers; no
// dependency beyond tweetnacl"): client/ is built with its own tsconfig into client/dist (ignored
// by git), then a separate Node process imports it by package name through the exports map, and a
// TypeScript consumer compiles against the emitted declarations.

import { execFile } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { PROJECT_ROOT } from "../../scripts/local-relay.js";
import { tempDirs } from "../support/node-relay.js";

const run = promisify(execFile);
const CLIENT = join(PROJECT_ROOT, "client");
const DIST = join(CLIENT, "dist");
const TSC = join(PROJECT_ROOT, "node_modules/.bin/tsc");
const SDK_MODULES = ["index", "client", "crypto", "webhook"];

const scratch = tempDirs();

beforeAll(async () => {
  await run(TSC, ["-p", "client/tsconfig.build.json"], { cwd: PROJECT_ROOT, timeout: 120_000 });
}, 150_000);

afterAll(() => scratch.removeAll());

/** Relative and bare import specifiers of an emitted ES module. */
function importsOf(file: string): string[] {
  const source = readFileSync(file, "utf8");
  return [...source.matchAll(/^\s*(?:import|export)\s[^;]*?from\s+"([^"]+)"|^\s*import\s+"([^"]+)"/gm)].map((m) => (m[1] ?? m[2])!);
}

describe("the built SDK package", () => {
  test("the build emits ES modules and .d.ts declarations for every SDK module, where package.json points", () => {
    const pkg = JSON.parse(readFileSync(join(CLIENT, "package.json"), "utf8")) as {
      type: string;
      exports: { ".": { types: string; import: string } };
      dependencies: Record<string, string>;
    };
    expect(pkg.type).toBe("module");
    expect(Object.keys(pkg.dependencies)).toEqual(["tweetnacl"]);
    expect(existsSync(resolve(CLIENT, pkg.exports["."].import))).toBe(true);
    expect(existsSync(resolve(CLIENT, pkg.exports["."].types))).toBe(true);
    for (const name of SDK_MODULES) {
      expect(existsSync(join(DIST, "client", `${name}.js`)), `${name}.js`).toBe(true);
      expect(existsSync(join(DIST, "client", `${name}.d.ts`)), `${name}.d.ts`).toBe(true);
    }
    const declarations = readFileSync(join(DIST, "client/index.d.ts"), "utf8");
    for (const name of ["ClawTalkClient", "generateKeys", "encrypt", "decrypt", "sign", "verifySignature", "verifyWebhook", "CursorStore"]) {
      expect(declarations, name).toContain(name);
    }
    // ES module syntax, not CommonJS.
    const entry = readFileSync(join(DIST, "client/index.js"), "utf8");
    expect(entry).toMatch(/^export /m);
    expect(entry).not.toMatch(/require\(|module\.exports/);
  });

  test("the SDK's import graph reaches nothing but tweetnacl: no Node built-ins, no relay code", () => {
    const seen = new Set<string>();
    const external = new Set<string>();
    const visit = (file: string) => {
      if (seen.has(file)) return;
      seen.add(file);
      for (const specifier of importsOf(file)) {
        if (specifier.startsWith(".")) visit(resolve(dirname(file), specifier));
        else external.add(specifier);
      }
    };
    visit(join(DIST, "client/index.js"));
    expect([...external]).toEqual(["tweetnacl"]);
    for (const file of seen) {
      expect(existsSync(file), file).toBe(true);
      expect(file.startsWith(join(DIST, "client")) || file.startsWith(join(DIST, "protocol")), file).toBe(true);
    }
  });

  test("a separate Node process imports it by package name and encrypts, signs, verifies and matches the test vectors", async () => {
    const script = `
      import { readFileSync } from "node:fs";
      import { ClawTalkClient, generateKeys, encrypt, decrypt, sign, signingInput, verifySignature, verifyWebhook } from "@clawtalk/client";
      const vectors = JSON.parse(readFileSync("client/test-vectors.json", "utf8"));
      const alice = generateKeys(), bob = generateKeys();
      const sealed = encrypt({ hi: "Grüße 🦞" }, bob.publicKey, alice.privateKey);
      const envelope = { id: "pkg-1", from: "Alice", to: ["Bob", "Carol"], ts: new Date().toISOString(), type: "request",
        sentAt: new Date().toISOString(), encrypted: true, ...sealed };
      envelope.signature = sign(envelope, alice.signingSecretKey);
      const v = vectors.signatures.cases[0];
      const w = vectors.webhook;
      console.log(JSON.stringify({
        node: process.versions.node,
        decrypted: decrypt(sealed.payload, sealed.nonce, alice.publicKey, bob.privateKey),
        wrongKey: decrypt(sealed.payload, sealed.nonce, bob.publicKey, bob.privateKey),
        valid: verifySignature(envelope, alice.signingKey),
        tampered: verifySignature({ ...envelope, to: "Bob" }, alice.signingKey),
        vectorInput: signingInput(v.envelope) === v.signingInput,
        vectorSignature: sign(v.envelope, vectors.keys.alice.signingSecretKey) === v.signature,
        vectorPayload: encrypt(vectors.encryption.plaintext, vectors.keys.bob.boxPublicKey, vectors.keys.alice.boxSecretKey,
          new Uint8Array(Buffer.from(v.nonce, "base64"))).payload === v.payload,
        webhook: await verifyWebhook({ "webhook-id": w.id, "webhook-timestamp": String(w.timestamp), "webhook-signature": w.signature },
          w.body, w.secret, { now: w.timestamp * 1000 }),
        client: typeof new ClawTalkClient({ baseUrl: "http://127.0.0.1:1", apiKey: "ct_x", keys: alice }).watch,
      }));
    `;
    const { stdout } = await run(process.execPath, ["--input-type=module", "-e", script], { cwd: PROJECT_ROOT, timeout: 60_000 });
    const result = JSON.parse(stdout.trim()) as Record<string, unknown>;
    expect(Number(String(result.node).split(".")[0])).toBeGreaterThanOrEqual(20);
    expect(result).toMatchObject({
      decrypted: { hi: "Grüße 🦞" },
      wrongKey: null,
      valid: "valid",
      tampered: "invalid",
      vectorInput: true,
      vectorSignature: true,
      vectorPayload: true,
      webhook: true,
      client: "function",
    });
  });

  test("a TypeScript consumer (browser libs, strict) type-checks against the declarations, which are not `any`", async () => {
    const dir = scratch.make("clawtalk-consumer-");
    mkdirSync(join(dir, "node_modules/@clawtalk"), { recursive: true });
    symlinkSync(CLIENT, join(dir, "node_modules/@clawtalk/client"), "dir");
    writeFileSync(
      join(dir, "tsconfig.json"),
      JSON.stringify({
        compilerOptions: { target: "es2022", module: "nodenext", moduleResolution: "nodenext", lib: ["es2022", "dom"], types: [], strict: true, noEmit: true, skipLibCheck: false },
        files: ["consumer.ts"],
      }),
    );
    writeFileSync(join(dir, "package.json"), JSON.stringify({ name: "consumer", type: "module", private: true }));
    writeFileSync(
      join(dir, "consumer.ts"),
      `import { ClawTalkClient, generateKeys, verifyWebhook, type AgentKeys, type CursorStore, type ReceivedMessage } from "@clawtalk/client";
const keys: AgentKeys = generateKeys();
const client = new ClawTalkClient({ baseUrl: "https://relay.example", apiKey: "ct_example", keys });
const store: CursorStore = { load: () => null, save: () => undefined };
export async function handle(): Promise<string[]> {
  const seen: string[] = [];
  for await (const message of client.watch({ cursor: store })) {
    const problems: ReceivedMessage["problems"] = message.problems;
    if (problems.includes("bad-signature")) continue;
    seen.push(message.id);
  }
  return seen;
}
export const ok: Promise<boolean> = verifyWebhook(new Headers(), "{}", "whsec_AAAA");
// @ts-expect-error the declarations are typed: a key is a string, not a number
export const wrong: number = generateKeys().publicKey;
`,
    );
    const result = await run(TSC, ["-p", join(dir, "tsconfig.json")], { cwd: dir, timeout: 120_000 }).then(
      () => ({ code: 0, output: "" }),
      (error: { code?: number; stdout?: string; stderr?: string }) => ({ code: error.code ?? 1, output: `${error.stdout ?? ""}${error.stderr ?? ""}` }),
    );
    expect(result.output).toBe("");
    expect(result.code).toBe(0);
  });
});
