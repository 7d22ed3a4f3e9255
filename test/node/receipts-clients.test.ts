// Delivery state and receipts (SPEC §11.1) as the clients show them, against a real `wrangler dev`
// relay whose inboxes report receipts every 200 ms (FEED_FLUSH_MS): the SDK (`receipts`,
// `send({awaitDelivery})`, `receive`/`watch` with `unread`), the CLI (`status`, `inbox --unread`,
// `send --wait-delivery`) and poll.sh with CLAWTALK_UNREAD=1. The broadcast test comes last: a
// broadcast reaches every agent registered before it.

import { spawn } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, test, vi } from "vitest";
import { ClawTalkClient, ClawTalkError, type CursorStore, type ReceivedMessage, type Receipts } from "../../client/index.js";
import { PROJECT_ROOT } from "../../scripts/local-relay.js";
import { CLI_BIN } from "../support/run-cli.js";
import { killGroup, registerAgent, spawnCaptured, startTestRelay, tempDirs, uniqueName, within, type CapturedProcess, type TestRelay } from "../support/node-relay.js";

type Rows = Extract<Receipts, { recipients: unknown }>;
type Counts = Extract<Receipts, { broadcast: unknown }>;

const POLL_SH = join(PROJECT_ROOT, "client/poll.sh");
const RUN_TIMEOUT_MS = 60_000;
const WAIT = { timeout: 30_000, interval: 100 };

let relay: TestRelay;
const scratch = tempDirs();
const processes: CapturedProcess[] = [];

beforeAll(async () => {
  relay = await startTestRelay({ prefix: "clawtalk-receipts-clients-", vars: { FEED_FLUSH_MS: "200", RATE_LIMIT_PER_MIN: "100000" }, startTimeoutMs: 60_000 });
}, 120_000);

afterEach(() => {
  for (const run of processes.splice(0)) killGroup(run.child.pid);
});

afterAll(async () => {
  await relay?.cleanup();
  scratch.removeAll();
}, 60_000);

interface Agent {
  name: string;
  apiKey: string;
  client: ClawTalkClient;
}

async function agent(prefix: string): Promise<Agent> {
  const { name, apiKey } = await registerAgent(relay, uniqueName(prefix, 4), {}, { timeoutMs: 15_000 });
  return { name, apiKey, client: new ClawTalkClient({ baseUrl: relay.url, apiKey, agentName: name }) };
}

async function sendText(from: Agent, to: Agent | Agent[], payload: string): Promise<{ id: string; ts: string }> {
  return from.client.send({ to: Array.isArray(to) ? to.map((a) => a.name) : to.name, payload });
}

/** The receipt rows of a message, by recipient name. */
async function rows(sender: Agent, id: string, options: Parameters<ClawTalkClient["receipts"]>[1] = {}) {
  const receipts = (await sender.client.receipts(id, options)) as Rows;
  return Object.fromEntries(receipts.recipients.map((r) => [r.name, r]));
}

function memoryCursor(initial: string | null): CursorStore & { value: string | null } {
  return {
    value: initial,
    load() {
      return this.value;
    },
    save(cursor) {
      this.value = cursor;
    },
  };
}

// ---------------------------------------------------------------------------------------------
// The CLI and poll.sh as processes

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Only the given CLAWTALK_* variables, a scratch HOME, and the relay's URL. */
function childEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) if (!key.startsWith("CLAWTALK_") && key !== "XDG_CONFIG_HOME") env[key] = value;
  return { ...env, HOME: scratch.make("clawtalk-receipts-home-"), CLAWTALK_URL: relay.url, ...extra };
}

/** `clawtalk ...args` as `as` (its API key), to completion. */
function cli(as: Agent | null, args: string[]): Promise<Run> {
  const child = spawn(process.execPath, [CLI_BIN, ...args], { env: childEnv(as ? { CLAWTALK_API_KEY: as.apiKey } : {}), stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const done = new Promise<Run>((resolve, reject) => {
    child.once("error", reject);
    child.once("close", (code) => resolve({ code, stdout, stderr }));
  });
  return within(done, RUN_TIMEOUT_MS, `clawtalk ${args.join(" ")}`);
}

/** A poll.sh for `agent`, in its own process group; its callback appends each message to `dir/got` (or fails once while `dir/broken` exists). */
function startPoll(agent: Agent, dir: string, extra: Record<string, string>): CapturedProcess {
  const callback = join(dir, "callback.sh");
  writeFileSync(callback, 'if [ -e "$POLL_DIR/broken" ]; then rm "$POLL_DIR/broken"; cat >/dev/null; exit 1; fi\ncat >> "$POLL_DIR/got"\n');
  const env = {
    CLAWTALK_API_KEY: agent.apiKey,
    CLAWTALK_CALLBACK: `bash "${callback}"`,
    CLAWTALK_CURSOR_FILE: join(dir, "cursor"),
    CLAWTALK_INTERVAL: "1",
    CLAWTALK_DELETE: "false",
    CLAWTALK_UNREAD: "1",
    POLL_DIR: dir,
    ...extra,
  };
  const run = spawnCaptured("bash", [POLL_SH], { cwd: dir, detached: true, env: childEnv(env) });
  processes.push(run);
  return run;
}

/** Payloads the poll.sh callback got, in order. */
function gotPayloads(dir: string): string[] {
  const file = join(dir, "got");
  if (!existsSync(file)) return [];
  return readFileSync(file, "utf8").split("\n").filter(Boolean).map((line) => (JSON.parse(line) as { payload: string }).payload);
}

// ---------------------------------------------------------------------------------------------

describe("receipts through the SDK", () => {
  test("a direct message is stored, then delivered via poll once the recipient reads it, then acked once it acks", async () => {
    const [alice, bob] = [await agent("sr_alice"), await agent("sr_bob")];
    const sent = await sendText(alice, bob, "hello");
    expect((await alice.client.receipts(sent.id)) as Rows).toEqual({ id: sent.id, ts: expect.any(String), recipients: [{ name: bob.name, status: "stored", ts: sent.ts }] });

    const page = await bob.client.receive();
    expect(page.messages.map((m) => [m.id, m.delivered])).toEqual([[sent.id, false]]);
    const delivered = (await rows(alice, sent.id, { wait: 20, until: "delivered" }))[bob.name]!;
    expect(delivered).toMatchObject({ status: "delivered", via: "poll", deliveredAt: expect.any(String) });

    await bob.client.ack(sent.id);
    const acked = (await rows(alice, sent.id, { wait: 20, until: "acked" }))[bob.name]!;
    expect(acked).toMatchObject({ status: "acked", via: "poll", deliveredAt: delivered.deliveredAt, ackedAt: expect.any(String) });
    // The admin reads them too, naming the sender.
    const admin = new ClawTalkClient({ baseUrl: relay.url, apiKey: relay.adminKey });
    expect(await admin.receipts(sent.id, { from: alice.name })).toEqual(await alice.client.receipts(sent.id));
  });

  test("a page read with via: \"mcp\" is delivered via mcp", async () => {
    const [alice, bob] = [await agent("sr_alice"), await agent("sr_bob")];
    const sent = await sendText(alice, bob, "for an MCP client");
    expect((await bob.client.receive({ via: "mcp" })).messages.map((m) => m.id)).toEqual([sent.id]);
    expect((await rows(alice, sent.id, { wait: 20 }))[bob.name]).toMatchObject({ status: "delivered", via: "mcp" });
  });

  test("receive({unread: true}) answers only copies not delivered before; every message keeps `delivered`", async () => {
    const [alice, bob] = [await agent("sr_alice"), await agent("sr_bob")];
    await sendText(alice, bob, "m1");
    await bob.client.receive(); // m1 is delivered now
    await sendText(alice, bob, "m2");
    await sendText(alice, bob, "m3");
    const unread = await bob.client.receive({ unread: true });
    expect(unread.messages.map((m) => [m.plaintext, m.delivered])).toEqual([["m2", false], ["m3", false]]);
    expect((await bob.client.receive({ unread: true })).messages).toEqual([]);
    expect((await bob.client.receive()).messages.map((m) => [m.plaintext, m.delivered])).toEqual([["m1", true], ["m2", true], ["m3", true]]);
  });
});

describe("send({awaitDelivery})", () => {
  test("\"delivered\" resolves once the recipient read the message, with its receipts", async () => {
    const [alice, bob] = [await agent("sa_alice"), await agent("sa_bob")];
    const sending = alice.client.send({ to: bob.name, payload: "read me", awaitDelivery: "delivered", awaitTimeoutS: 30 });
    const message = await vi.waitFor(async () => {
      const [first] = (await bob.client.receive()).messages;
      expect(first).toBeDefined();
      return first!;
    }, WAIT);
    expect(message.delivered).toBe(false); // this page was its first delivery
    const result = await sending;
    expect(result.id).toBe(message.id);
    expect((result.receipts as Rows).recipients).toEqual([expect.objectContaining({ name: bob.name, status: "delivered", via: "poll" })]);
  });

  test("\"acked\" resolves once every recipient of a multicast acked", async () => {
    const [alice, bob, carol] = [await agent("sa_alice"), await agent("sa_bob"), await agent("sa_carol")];
    const sending = alice.client.send({ to: [bob.name, carol.name], payload: "ack me", awaitDelivery: "acked", awaitTimeoutS: 30 });
    for (const reader of [bob, carol]) {
      const [message] = await vi.waitFor(async () => {
        const page = await reader.client.receive();
        expect(page.messages).toHaveLength(1);
        return page.messages;
      }, WAIT);
      await reader.client.ack(message!.id);
    }
    const result = await sending;
    expect((result.receipts as Rows).recipients.map((r) => [r.name, r.status])).toEqual([[bob.name, "acked"], [carol.name, "acked"]].sort());
  });

  test("rejects after awaitTimeoutS with DELIVERY_TIMEOUT, carrying the send's answer and the last receipts", async () => {
    const [alice, reader, idle] = [await agent("sa_alice"), await agent("sa_reader"), await agent("sa_idle")];
    const started = Date.now();
    const sending = alice.client.send({ to: [reader.name, idle.name], payload: "one reads", awaitDelivery: "delivered", awaitTimeoutS: 6 });
    const outcome = sending.then(() => null, (error: unknown) => error);
    const [message] = await vi.waitFor(async () => {
      const page = await reader.client.receive();
      expect(page.messages).toHaveLength(1);
      return page.messages;
    }, WAIT);
    // The reader's read reaches the sender (within FEED_FLUSH_MS) long before the 6 s are up.
    await vi.waitFor(async () => expect((await rows(alice, message!.id))[reader.name]?.status).toBe("delivered"), WAIT);
    const error = await outcome;
    expect(Date.now() - started).toBeGreaterThanOrEqual(6_000);
    expect(error).toBeInstanceOf(ClawTalkError);
    const timeout = error as ClawTalkError;
    expect([timeout.status, timeout.code]).toEqual([408, "DELIVERY_TIMEOUT"]);
    expect(timeout.message).toContain(`${idle.name} stored`);
    expect(timeout.body.sent?.id).toBe(message!.id);
    const known = Object.fromEntries((timeout.body.receipts as Rows).recipients.map((r) => [r.name, r.status]));
    expect(known).toEqual({ [reader.name]: "delivered", [idle.name]: "stored" });
  });

  test("a broadcast, a goal that is not a state and a bad timeout are refused before anything is sent", async () => {
    const alice = await agent("sa_alice");
    const requests: string[] = [];
    const client = new ClawTalkClient({
      baseUrl: relay.url,
      apiKey: alice.apiKey,
      agentName: alice.name,
      fetch: (input, init) => {
        requests.push(`${init?.method ?? "GET"} ${String(input)}`);
        return fetch(input, init);
      },
    });
    await expect(client.send({ to: "broadcast", payload: "x", awaitDelivery: "delivered" })).rejects.toThrow(/broadcast/);
    await expect(client.send({ to: alice.name, payload: "x", awaitDelivery: "read" as "delivered" })).rejects.toThrow(/awaitDelivery/);
    await expect(client.send({ to: alice.name, payload: "x", awaitDelivery: "acked", awaitTimeoutS: 0 })).rejects.toThrow(/awaitTimeoutS/);
    expect(requests).toEqual([]);
  });
});

describe("watch({unread})", () => {
  test("skips what another reader already got, and yields what arrives while it waits", async () => {
    const [alice, bob] = [await agent("sw_alice"), await agent("sw_bob")];
    await sendText(alice, bob, "read elsewhere");
    await bob.client.receive(); // another reader of bob's inbox got it
    await sendText(alice, bob, "unread");
    const stop = new AbortController();
    const signal = AbortSignal.any([stop.signal, AbortSignal.timeout(30_000)]); // a failure ends too
    const seen: ReceivedMessage[] = [];
    const watching = (async () => {
      for await (const message of bob.client.watch({ unread: true, wait: 5, signal, cursor: memoryCursor(null) })) {
        seen.push(message);
        if (seen.length === 1) await sendText(alice, bob, "arrived later");
        if (seen.length === 2) stop.abort();
      }
    })();
    await watching;
    expect(seen.map((m) => [m.plaintext, m.delivered])).toEqual([["unread", false], ["arrived later", false]]);
  });

  test("resuming from a saved cursor, it yields first what the previous run fetched but did not finish", async () => {
    const [alice, bob] = [await agent("sw_alice"), await agent("sw_bob")];
    const first = await sendText(alice, bob, "handled");
    await sendText(alice, bob, "fetched, not handled");
    await bob.client.receive(); // the previous run's page: both delivered; its cursor stopped at the first
    const stop = new AbortController();
    const signal = AbortSignal.any([stop.signal, AbortSignal.timeout(20_000)]); // a failure ends too
    const seen: unknown[] = [];
    for await (const message of bob.client.watch({ unread: true, wait: 5, signal, cursor: memoryCursor(first.ts) })) {
      seen.push(message.plaintext);
      stop.abort();
    }
    expect(seen).toEqual(["fetched, not handled"]);
  });
});

describe("the CLI", () => {
  test("status prints a row per recipient (name, status, ts, deliveredAt, via, ackedAt), and the receipts with --json", async () => {
    const [alice, bob, carol] = [await agent("sc_alice"), await agent("sc_bob"), await agent("sc_carol")];
    const sent = await sendText(alice, [bob, carol], "status?");
    await bob.client.receive();
    await vi.waitFor(async () => expect((await rows(alice, sent.id))[bob.name]?.status).toBe("delivered"), WAIT);
    const table = await cli(alice, ["status", sent.id, "--wait", "1", "--until", "delivered"]);
    // carol never reads: the wait ends at its deadline, and says so.
    expect(table.code).toBe(0);
    expect(table.stderr).toContain('not every recipient reached "delivered" within 1 s');
    const lines = table.stdout.trim().split("\n");
    expect(lines[0]).toMatch(/^name\s+status\s+ts\s+deliveredAt\s+via\s+ackedAt$/);
    expect(lines.find((line) => line.startsWith(bob.name))).toMatch(/\sdelivered\s+\S+\s+\S+Z\s+poll\s+-$/);
    expect(lines.find((line) => line.startsWith(carol.name))).toMatch(/\sstored\s+\S+\s+-\s+-\s+-$/);

    const json = await cli(alice, ["status", sent.id, "--json"]);
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toEqual(await alice.client.receipts(sent.id));
  });

  test("status of an id that is not the caller's exits 2 with NOT_FOUND; a bad --until or no id exits 1", async () => {
    const [alice, bob] = [await agent("sc_alice"), await agent("sc_bob")];
    const sent = await sendText(alice, bob, "mine");
    const notTheirs = await cli(bob, ["status", sent.id]);
    expect([notTheirs.code, notTheirs.stderr.trim().split("\n").length]).toEqual([2, 1]);
    expect(notTheirs.stderr).toContain("NOT_FOUND");
    for (const args of [["status", sent.id, "--until", "read"], ["status"]]) {
      const run = await cli(alice, args);
      expect(run.code, args.join(" ")).toBe(1);
    }
  });

  test("inbox --unread lists only messages not delivered before; the table's seen column says which were", async () => {
    const [alice, bob] = [await agent("sc_alice"), await agent("sc_bob")];
    await sendText(alice, bob, "old news");
    await bob.client.receive();
    await sendText(alice, bob, "fresh");
    const table = await cli(bob, ["inbox"]);
    expect(table.stdout.split("\n")[0]).toMatch(/\bseen\b/);
    expect(table.stdout.split("\n").find((line) => line.includes("old news"))).toMatch(/\syes\s/);
    expect(table.stdout.split("\n").find((line) => line.includes("fresh"))).toMatch(/\sno\s/);

    await sendText(alice, bob, "newest");
    const unread = JSON.parse((await cli(bob, ["inbox", "--unread", "--json"])).stdout) as ReceivedMessage[];
    expect(unread.map((m) => [m.plaintext, m.delivered])).toEqual([["newest", false]]);
    const none = await cli(bob, ["inbox", "--unread"]);
    expect([none.code, none.stdout, none.stderr.trim()]).toEqual([0, "", "clawtalk: no unread messages"]);
  });

  test("send --wait-delivery acked exits 0 once the recipient acked; with --wait-timeout and no reader it exits 2, the id printed", async () => {
    const [alice, bob, idle] = [await agent("sc_alice"), await agent("sc_bob"), await agent("sc_idle")];
    const sending = cli(alice, ["send", "--to", bob.name, "--wait-delivery", "acked", "please ack"]);
    const [message] = await vi.waitFor(async () => {
      const page = await bob.client.receive();
      expect(page.messages).toHaveLength(1);
      return page.messages;
    }, WAIT);
    await bob.client.ack(message!.id);
    const done = await sending;
    expect([done.code, done.stdout.trim()]).toEqual([0, message!.id]);
    expect(done.stderr).toContain(`waited for "acked": ${bob.name} acked`);

    const late = await cli(alice, ["send", "--to", idle.name, "--wait-delivery", "delivered", "--wait-timeout", "1", "--json", "nobody reads"]);
    expect(late.code).toBe(2);
    expect(late.stderr.trim().split("\n")).toHaveLength(1);
    expect(late.stderr).toContain("(DELIVERY_TIMEOUT)");
    const printed = JSON.parse(late.stdout) as { id: string; receipts: Rows };
    expect(printed.receipts.recipients).toEqual([expect.objectContaining({ name: idle.name, status: "stored" })]);
    expect(late.stderr).toContain(printed.id);
  });

  test("status --help and inbox --help describe the new options", async () => {
    const status = await cli(null, ["status", "--help"]);
    expect([status.code, status.stdout]).toEqual([0, expect.stringContaining("Usage: clawtalk status ID [--wait S] [--until delivered|acked] [--json]")]);
    expect((await cli(null, ["inbox", "--help"])).stdout).toContain("--unread");
    expect((await cli(null, ["send", "--help"])).stdout).toContain("--wait-delivery STATE");
    expect((await cli(null, ["--help"])).stdout).toContain("  status ");
  });
});

describe("poll.sh with CLAWTALK_UNREAD=1", () => {
  test("a first run hands over only unread messages; a run resuming from its cursor first gets what it fetched but did not finish", async () => {
    const [alice, bob] = [await agent("sp_alice"), await agent("sp_bob")];
    const dir = scratch.make("clawtalk-receipts-poll-");
    await sendText(alice, bob, "read by another reader");
    await bob.client.receive();
    const unread = await sendText(alice, bob, "unread");
    const first = startPoll(bob, dir, { CLAWTALK_ONCE: "1" });
    expect(await within(first.exited, RUN_TIMEOUT_MS, "poll.sh once")).toEqual({ code: 0, signal: null });
    expect(gotPayloads(dir)).toEqual(["unread"]);

    // A previous run stopped at "unread" after fetching two more (delivered now, never handled).
    writeFileSync(join(dir, "cursor"), `${unread.ts}\n`);
    await sendText(alice, bob, "fetched 1");
    await sendText(alice, bob, "fetched 2");
    await bob.client.receive();
    const second = startPoll(bob, dir, { CLAWTALK_ONCE: "1" });
    expect(await within(second.exited, RUN_TIMEOUT_MS, "poll.sh once")).toEqual({ code: 0, signal: null });
    expect(gotPayloads(dir)).toEqual(["unread", "fetched 1", "fetched 2"]);
  });

  test("a message whose callback failed comes again, though fetching it marked it delivered", async () => {
    const [alice, bob] = [await agent("sp_alice"), await agent("sp_bob")];
    const dir = scratch.make("clawtalk-receipts-poll-");
    writeFileSync(join(dir, "broken"), ""); // the callback fails once
    startPoll(bob, dir, {});
    await sendText(alice, bob, "second chance");
    await vi.waitFor(() => expect(gotPayloads(dir)).toEqual(["second chance"]), WAIT);
    expect(existsSync(join(dir, "broken"))).toBe(false); // it did fail once first
  });

  test("CLAWTALK_UNREAD other than 1 or 0 is a settings error (exit 1); --help documents it", async () => {
    const bob = await agent("sp_bob");
    const run = startPoll(bob, scratch.make("clawtalk-receipts-poll-"), { CLAWTALK_UNREAD: "yes" });
    expect((await within(run.exited, RUN_TIMEOUT_MS, "poll.sh")).code).toBe(1);
    expect(run.stderr()).toContain("CLAWTALK_UNREAD must be 1 or unset");
    const help = spawnCaptured("bash", [POLL_SH, "--help"]);
    await within(help.exited, RUN_TIMEOUT_MS, "poll.sh --help");
    expect(help.stdout()).toMatch(/CLAWTALK_UNREAD\s+1: only messages not delivered before/);
  });
});

describe("a broadcast's receipts (last: it reaches every agent registered so far)", () => {
  test("are counts, in the SDK and in clawtalk status; send --wait-delivery refuses a broadcast", async () => {
    const alice = await agent("sb_alice");
    const others = (await alice.client.discover()).filter((a) => a.name !== alice.name).length;
    const sent = await alice.client.send({ to: "broadcast", payload: "to all" });
    const counts = await vi.waitFor(async () => {
      const receipts = (await alice.client.receipts(sent.id)) as Counts;
      expect(receipts.broadcast).toMatchObject({ total: others, stored: others });
      return receipts;
    }, WAIT);
    expect(counts.broadcast.rejected).toBe(0);
    const status = await cli(alice, ["status", sent.id]);
    expect(status.stdout).toMatch(new RegExp(`^total:\\s+${others}$`, "m"));
    expect(status.stdout).toMatch(/^acked:\s+\d+$/m);
    const refused = await cli(alice, ["send", "--to", "broadcast", "--wait-delivery", "delivered", "x"]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain("--wait-delivery needs named recipients");
  });
});
