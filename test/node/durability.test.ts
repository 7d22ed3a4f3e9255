// Crash recovery (SPEC §1.3 "nothing is lost silently", §4.1 idempotent ids, §4.2 exact cursor):
// a real `wrangler dev` on on-disk state is SIGKILLed (whole process group, workerd included) in
// the middle of a burst of concurrent sends, then restarted on the same state directory. Every
// send that was answered 201 must be in the recipient's inbox afterwards, exactly once, in
// strictly increasing `ts` order. Sends in flight at the kill have an unknown outcome: they may
// or may not be stored, but never twice, and a client retrying them with the same id settles them.

import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, test, vi } from "vitest";
import { httpCall, livingProcesses, prepareTestRelay, registerAgent, uniqueName, type TestRelay } from "../support/node-relay.js";

const TOTAL = 2_000;
const SENDERS = 20;
const IN_FLIGHT = 64;
const KILL_AFTER_ACCEPTED = 1_000;
/** Everything in this file (start, burst, crash, restart, checks) must finish within this. */
const GLOBAL_TIMEOUT_MS = 90_000;

// ---------------------------------------------------------------------------------------------
// Small helpers (Node side: plain fetch against the relay).

interface Agent {
  name: string;
  apiKey: string;
}

interface Envelope {
  id: string;
  from: string;
  ts: string;
  payload: unknown;
}

interface Page {
  messages: Envelope[];
  count: number;
  newestTs: string | null;
  hasMore: boolean;
}

const deadline = new AbortController();

/** A request cut short by the file's global deadline. */
const call = <T = unknown>(base: string, method: string, path: string, key: string, json?: unknown) =>
  httpCall<T>(base, method, path, { key, json, signal: deadline.signal });

/** The whole inbox, oldest first, walked with the exact cursor `sort=asc&after=<newestTs>`. */
async function readWholeInbox(base: string, agent: Agent): Promise<Envelope[]> {
  const all: Envelope[] = [];
  let after: string | null = null;
  for (let pages = 0; pages < 1_000; pages++) {
    const query: string = `sort=asc&limit=100${after === null ? "" : `&after=${encodeURIComponent(after)}`}`;
    const reply = await call<Page>(base, "GET", `/messages?${query}`, agent.apiKey);
    if (reply.status !== 200) throw new Error(`GET /messages?${query}: ${reply.status} ${reply.text}`);
    const page = reply.body;
    all.push(...page.messages);
    if (page.messages.length === 0 || !page.hasMore) return all;
    after = page.newestTs;
  }
  throw new Error("the inbox did not end after 1,000 pages");
}

const ms = (iso: string) => Date.parse(iso);

// ---------------------------------------------------------------------------------------------

/** One state directory and port; the relay is started, killed, and started again on them. */
let testRelay: TestRelay;
let timer: NodeJS.Timeout | undefined;

let recipient: Agent;
let senders: Agent[] = [];
/** What each message was, so a retry can send exactly the same body from the same sender. */
const sent = new Map<string, { sender: Agent; body: Record<string, unknown> }>();

/** Outcome of the burst that was cut by the crash. */
interface CrashOutcome {
  /** id → ts answered in the 201 (null if the body was cut off after the status arrived). */
  accepted: Map<string, string | null>;
  /** Sends whose outcome was lost in the crash (connection errors, or no 201). */
  inDoubt: Set<string>;
  /** Never sent: the burst stopped dispatching at the kill. */
  notSent: number;
  /** Anything other than a 201 before the kill: each one is a relay failure. */
  unexpected: string[];
}

let outcome: CrashOutcome | undefined;
let inboxAfterRestart: Envelope[] = [];

beforeAll(async () => {
  timer = setTimeout(() => deadline.abort(new Error(`durability test exceeded ${GLOBAL_TIMEOUT_MS} ms`)), GLOBAL_TIMEOUT_MS);
  testRelay = await prepareTestRelay({ prefix: "clawtalk-durability-", vars: { RATE_LIMIT_PER_MIN: "1000000" }, startTimeoutMs: 45_000 });
  const relay = await testRelay.start();
  const register = (prefix: string) => registerAgent(relay, uniqueName(prefix), {}, { signal: deadline.signal });
  recipient = await register("durable_rcpt");
  senders = await Promise.all(Array.from({ length: SENDERS }, (_, i) => register(`durable_s${i}`)));
});

afterAll(async () => {
  clearTimeout(timer);
  await testRelay?.cleanup();
}, 30_000);

describe("crash recovery: a relay killed mid-burst keeps every message it answered 201 for", () => {
  test(
    "every send answered 201 before a SIGKILL is in the inbox after restart, exactly once, in strictly increasing ts order",
    async () => {
      const relay = testRelay.started[0]!;
      const ids = Array.from({ length: TOTAL }, () => randomUUID());
      ids.forEach((id, i) => {
        const sender = senders[i % SENDERS]!;
        sent.set(id, { sender, body: { to: recipient.name, type: "notification", encrypted: false, payload: `burst ${i}`, id } });
      });

      const accepted = new Map<string, string | null>();
      const inDoubt = new Set<string>();
      const unexpected: string[] = [];
      let next = 0;
      let killed: Promise<void> | null = null;

      // A bounded pool of IN_FLIGHT concurrent senders; once the kill is under way nothing new is sent.
      const sendOne = async (id: string) => {
        const { sender, body } = sent.get(id)!;
        let response: Response;
        try {
          response = await fetch(`${relay.url}/messages`, {
            method: "POST",
            headers: { Authorization: `Bearer ${sender.apiKey}`, "Content-Type": "application/json" },
            body: JSON.stringify(body),
            signal: deadline.signal,
          });
        } catch (error) {
          if (deadline.signal.aborted) throw error;
          if (killed) inDoubt.add(id);
          else unexpected.push(`${id}: ${String(error)}`);
          return;
        }
        // The status is only sent once the relay has stored the message: a 201 counts, even if
        // the crash cuts the body that follows it.
        let text: string | null = null;
        try {
          text = await response.text();
        } catch {
          text = null;
        }
        if (response.status === 201) {
          let ts: string | null = null;
          try {
            ts = text === null ? null : (JSON.parse(text) as { ts: string }).ts;
          } catch {
            ts = null;
          }
          accepted.set(id, ts);
          if (accepted.size >= KILL_AFTER_ACCEPTED && !killed) killed = relay.kill();
        } else if (killed) {
          inDoubt.add(id);
        } else {
          unexpected.push(`${id}: ${response.status} ${text}`);
        }
      };
      await Promise.all(
        Array.from({ length: IN_FLIGHT }, async () => {
          while (next < TOTAL && !killed) await sendOne(ids[next++]!);
        }),
      );
      if (!killed) killed = relay.kill(); // the burst ended first (should not happen with 2,000)
      await killed;
      outcome = { accepted, inDoubt, notSent: TOTAL - next, unexpected };
      console.log(
        `durability: ${accepted.size} answered 201, ${inDoubt.size} in flight at the kill, ${outcome.notSent} never sent, ` +
          `${unexpected.length} unexpected`,
      );

      expect(unexpected).toEqual([]);
      expect(accepted.size).toBeGreaterThanOrEqual(KILL_AFTER_ACCEPTED);
      expect(outcome.notSent).toBeGreaterThan(0); // the kill really happened mid-burst

      const restarted = await testRelay.start();
      inboxAfterRestart = await readWholeInbox(restarted.url, recipient);

      const seen = new Map<string, number>();
      for (const message of inboxAfterRestart) seen.set(message.id, (seen.get(message.id) ?? 0) + 1);
      const duplicated = [...seen].filter(([, n]) => n > 1).map(([id]) => id);
      expect(duplicated).toEqual([]);

      const missing = [...accepted.keys()].filter((id) => !seen.has(id));
      expect(missing).toEqual([]);

      // Nothing in the inbox that was not sent: only answered or in-flight ids can be there.
      const strangers = inboxAfterRestart.filter((m) => !accepted.has(m.id) && !inDoubt.has(m.id)).map((m) => m.id);
      expect(strangers).toEqual([]);

      for (let i = 1; i < inboxAfterRestart.length; i++) {
        const [before, after] = [inboxAfterRestart[i - 1]!, inboxAfterRestart[i]!];
        if (!(ms(after.ts) > ms(before.ts))) {
          expect.fail(`ts not strictly increasing at ${i}: ${before.id} ${before.ts} then ${after.id} ${after.ts}`);
        }
      }

      // The stored copy is the one that was acknowledged: same ts, same sender, same payload.
      const byId = new Map(inboxAfterRestart.map((m) => [m.id, m]));
      const changed: string[] = [];
      for (const [id, ts] of accepted) {
        const stored = byId.get(id)!;
        const original = sent.get(id)!;
        if ((ts !== null && stored.ts !== ts) || stored.from !== original.sender.name || stored.payload !== original.body.payload) {
          changed.push(`${id}: stored ${stored.ts} ${stored.from} ${JSON.stringify(stored.payload)}, answered ${ts}`);
        }
      }
      expect(changed).toEqual([]);
    },
    GLOBAL_TIMEOUT_MS,
  );

  test("a send after the restart is stored with a ts later than every message stored before the crash", async () => {
    expect(outcome, "the crash scenario ran").toBeDefined();
    const relay = testRelay.started[1]!;
    const latestBefore = Math.max(...inboxAfterRestart.map((m) => ms(m.ts)));
    const sender = senders[0]!;
    const id = randomUUID();
    const body = { to: recipient.name, type: "notification", encrypted: false, payload: "after the restart", id };
    sent.set(id, { sender, body });

    const reply = await call<{ ts: string }>(relay.url, "POST", "/messages", sender.apiKey, body);
    expect(reply.status).toBe(201);
    expect(ms(reply.body.ts)).toBeGreaterThan(latestBefore);

    const after = await call<Page>(relay.url, "GET", `/messages?sort=asc&after=${encodeURIComponent(new Date(latestBefore).toISOString())}`, recipient.apiKey);
    expect(after.status).toBe(200);
    expect(after.body.messages.map((m) => m.id)).toEqual([id]);
    expect(after.body.messages[0]!.ts).toBe(reply.body.ts);
  });

  test("ids answered before the crash are still recognised after it: a replay answers 200 with the original ts and stores nothing", async () => {
    expect(outcome, "the crash scenario ran").toBeDefined();
    const relay = testRelay.started[1]!;
    const replayed = [...outcome!.accepted].filter(([, ts]) => ts !== null).slice(0, 5);
    expect(replayed.length).toBeGreaterThan(0);
    for (const [id, ts] of replayed) {
      const { sender, body } = sent.get(id)!;
      const reply = await call<{ id: string; ts: string }>(relay.url, "POST", "/messages", sender.apiKey, body);
      expect(reply.status, reply.text).toBe(200);
      expect(reply.body.id).toBe(id);
      expect(reply.body.ts).toBe(ts);
    }
    const inbox = await readWholeInbox(relay.url, recipient);
    expect(inbox.length).toBe(inboxAfterRestart.length + 1); // + the one sent after the restart
  });

  test("retrying every send whose outcome was lost in the crash leaves each message stored exactly once", async () => {
    expect(outcome, "the crash scenario ran").toBeDefined();
    const relay = testRelay.started[1]!;
    const storedBefore = new Set(inboxAfterRestart.map((m) => m.id));
    const wrong: string[] = [];
    for (const id of outcome!.inDoubt) {
      const { sender, body } = sent.get(id)!;
      const reply = await call(relay.url, "POST", "/messages", sender.apiKey, body);
      // Stored before the crash → a replay (200); lost → stored now (201).
      const expected = storedBefore.has(id) ? 200 : 201;
      if (reply.status !== expected) wrong.push(`${id}: expected ${expected}, got ${reply.status} ${reply.text}`);
    }
    expect(wrong).toEqual([]);

    const inbox = await readWholeInbox(relay.url, recipient);
    const counts = new Map<string, number>();
    for (const message of inbox) counts.set(message.id, (counts.get(message.id) ?? 0) + 1);
    expect([...counts.values()].every((n) => n === 1)).toBe(true);
    for (const id of [...outcome!.accepted.keys(), ...outcome!.inDoubt]) expect(counts.get(id), id).toBe(1);
    for (let i = 1; i < inbox.length; i++) expect(ms(inbox[i]!.ts)).toBeGreaterThan(ms(inbox[i - 1]!.ts));
  });

  test("stopping the restarted relay leaves no workerd process serving its port", async () => {
    const relay = testRelay.started[1]!;
    expect(livingProcesses("workerd", `127.0.0.1:${testRelay.port}`).length).toBeGreaterThan(0);
    await relay.stop();
    await vi.waitFor(() => expect(livingProcesses("workerd", `127.0.0.1:${testRelay.port}`), "workerd still running").toEqual([]), {
      timeout: 10_000,
      interval: 100,
    });
    for (const started of testRelay.started) expect(livingProcesses().filter((p) => p.pgid === started.pid)).toEqual([]);
    await expect(fetch(`${relay.url}/health`, { signal: AbortSignal.timeout(5_000) })).rejects.toThrow();
  });
});
