// GET /skill.md (SPEC §11.4) against a real relay: a skill file a model can read in one go, with
// this relay's URL filled in, whose commands work as written. The test takes every curl command
// from its shell blocks, in order, and runs it with bash, setting only the variables the file tells
// the agent to set (INVITE, NAME, CLAWTALK_API_KEY, TO, MESSAGE_ID, SENT_ID); then the
// `npx clawtalk register --invite` line the MCP section gives.

import { execFile } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { PROJECT_ROOT } from "../../scripts/local-relay.js";
import { httpCall, registerAgent, startTestRelay, tempDirs, uniqueName, type RegisteredAgent, type TestRelay } from "../support/node-relay.js";

const run = promisify(execFile);
let relay: TestRelay;
let skill: string;
const scratch = tempDirs();

beforeAll(async () => {
  relay = await startTestRelay({ prefix: "clawtalk-skill-", vars: { LONGPOLL_MAX_S: "5", FEED_FLUSH_MS: "100" }, startTimeoutMs: 60_000 });
  const reply = await httpCall(relay.url, "GET", "/skill.md");
  if (reply.status !== 200) throw new Error(`GET /skill.md: ${reply.status}`);
  skill = reply.text;
}, 120_000);

afterAll(async () => {
  await relay?.cleanup();
  scratch.removeAll();
});

/** The shell blocks' commands, continuation lines joined. */
function shellCommands(markdown: string): string[] {
  const blocks = [...markdown.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]!);
  return blocks.flatMap((block) => block.replace(/\\\n\s*/g, "").split("\n").filter((line) => line.trim() !== ""));
}

async function bash(command: string, env: Record<string, string>): Promise<unknown> {
  const { stdout } = await run("bash", ["-c", command], { cwd: PROJECT_ROOT, env: { PATH: process.env.PATH ?? "", ...env }, timeout: 60_000 });
  return JSON.parse(stdout);
}

describe("GET /skill.md", () => {
  test("is Markdown with YAML front matter (name, description), this relay's URL, under 2,000 words, without auth", async () => {
    const reply = await httpCall(relay.url, "GET", "/skill.md");
    expect(reply.headers.get("content-type")).toContain("text/markdown");
    const front = /^---\nname: (.+)\ndescription: (.+)\n---\n/.exec(skill);
    expect(front?.[1]).toBe("clawtalk");
    expect(front?.[2]).toContain(relay.url);
    expect(skill).toContain(`${relay.url}/mcp`);
    expect(skill.split(/\s+/).filter(Boolean).length).toBeLessThan(2000);
    for (const topic of ["invite", "unread=true", "/messages/ack", "/receipts", "npx clawtalk mcp", "data, not instructions"]) expect(skill, topic).toContain(topic);
  });

  test("its curl commands, run in order as written, join, send, receive, ack and check receipts", async () => {
    const commands = shellCommands(skill).filter((line) => line.startsWith("curl "));
    expect(commands).toHaveLength(7);
    expect(commands.every((c) => c.includes(relay.url))).toBe(true);
    const [register, me, agents, send, receive, ack, receipts] = commands as [string, string, string, string, string, string, string];

    const invite = await httpCall<{ code: string }>(relay.url, "POST", "/invites", { key: relay.adminKey, json: { label: "skill test" } });
    const peer: RegisteredAgent = await registerAgent(relay, uniqueName("peer", 4));
    const env: Record<string, string> = { INVITE: invite.body.code, NAME: uniqueName("skilled", 4) };

    const joined = (await bash(register, env)) as { name: string; apiKey: string };
    expect(joined.name).toBe(env.NAME);
    expect(joined.apiKey).toMatch(/^ct_/);
    env.CLAWTALK_API_KEY = joined.apiKey;
    expect(await bash(me, env)).toMatchObject({ name: env.NAME });
    expect(((await bash(agents, env)) as { name: string }[]).map((a) => a.name)).toContain(peer.name);

    env.TO = peer.name;
    const sent = (await bash(send, env)) as { id: string; recipients: { name: string }[] };
    expect(sent.recipients.map((r) => r.name)).toEqual([peer.name]);
    env.SENT_ID = sent.id;

    const incoming = await httpCall<{ id: string }>(relay.url, "POST", "/messages", { key: peer.apiKey, json: { to: env.NAME, type: "response", encrypted: false, payload: "welcome" } });
    const page = (await bash(receive, env)) as { messages: { id: string; from: string; payload: unknown }[] };
    expect(page.messages).toEqual([expect.objectContaining({ id: incoming.body.id, from: peer.name, payload: "welcome" })]);
    // unread=true: what that answer handed out is not unread any more.
    expect(((await bash(receive.replace(/wait=\d+/, "wait=0"), env)) as { messages: unknown[] }).messages).toEqual([]);

    env.MESSAGE_ID = incoming.body.id;
    expect(await bash(ack, env)).toEqual({ deleted: [incoming.body.id], missing: [] });
    expect(await bash(receipts, env)).toMatchObject({ id: sent.id, recipients: [expect.objectContaining({ name: peer.name, status: "stored" })] });
  });

  test("its npx clawtalk register --invite line makes the key file clawtalk mcp uses", async () => {
    const line = shellCommands(skill).find((l) => l.startsWith("npx clawtalk register"));
    expect(line).toBeDefined();
    const home = scratch.make("clawtalk-skill-home-");
    const invite = await httpCall<{ code: string }>(relay.url, "POST", "/invites", { key: relay.adminKey, json: {} });
    const name = uniqueName("mcpagent", 4);
    const env = { HOME: home, INVITE: invite.body.code, NAME: name, npm_config_update_notifier: "false" };
    await run("bash", ["-c", line!], { cwd: PROJECT_ROOT, env: { PATH: process.env.PATH ?? "", ...env }, timeout: 120_000 });
    const keyFile = join(home, ".config/clawtalk", `${name}.json`);
    expect(existsSync(keyFile)).toBe(true);
    const saved = JSON.parse(readFileSync(keyFile, "utf8")) as { name: string; apiKey: string; url: string; publicKey: string };
    expect(saved).toMatchObject({ name, url: relay.url });
    const record = await httpCall<{ name: string; publicKey: string }>(relay.url, "GET", "/agents/me", { key: saved.apiKey });
    expect(record.body).toMatchObject({ name, publicKey: saved.publicKey });
    // Run again, it finds the registration and changes nothing (the invite is used up, and not needed).
    await run("bash", ["-c", line!], { cwd: PROJECT_ROOT, env: { PATH: process.env.PATH ?? "", ...env }, timeout: 120_000 });
    expect(JSON.parse(readFileSync(keyFile, "utf8"))).toEqual(saved);
  });
});
