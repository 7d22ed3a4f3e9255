// Long-poll, `GET /messages?wait=N` (SPEC §4.2, §4.3): when nothing matches, the request is held in
// the agent's Inbox object until a matching message is stored or the wait ends (at most
// LONGPOLL_MAX_S, 30 s here). Held polls are promises in the object's memory, so they must not slow
// or block anything else the inbox does.
//
// To know a poll is really held (and not answered before the message it should wake on), the tests
// look at the Inbox's in-memory long-polls (`polls.held`) with runInDurableObject. Durations are never measured
// beyond generous upper bounds: a poll that is woken answers far below its 30 s deadline.

import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import type { AgentPublic, MessagePage, SendResponse } from "../../protocol/envelope.js";
import type { ErrorBody } from "../../protocol/errors.js";
import { ADMIN_KEY, call, inbox, register, send, textMessage, type Reply, type TestAgent } from "../support/relay.js";

/** A poll that is woken answers well before this; its deadline (30 s) is far beyond it. */
const WOKEN_BOUND_MS = 10_000;

/** The private state of an Inbox object that these tests read (never write). */
interface InboxInternals {
  polls: { held: number };
  views: { lastSeenAt: number | null };
}

function internals<T>(agent: TestAgent, read: (inbox: InboxInternals) => T): Promise<T> {
  return runInDurableObject(env.INBOX.getByName(agent.name.toLowerCase()), (instance) => read(instance as unknown as InboxInternals));
}

/** How many long-polls the agent's inbox holds right now. */
function heldPolls(agent: TestAgent): Promise<number> {
  return internals(agent, (inbox) => inbox.polls.held);
}

/** Waits until the agent's inbox holds exactly `n` long-polls. */
async function untilHeld(agent: TestAgent, n: number): Promise<void> {
  await vi.waitFor(async () => expect(await heldPolls(agent), `held polls in ${agent.name}'s inbox`).toBe(n), { timeout: 10_000, interval: 50 });
}

interface Poll {
  reply: Promise<Reply<MessagePage>>;
  /** Set once the reply arrived. */
  settled: () => boolean;
  /** Milliseconds from the start of the request to its answer. */
  elapsed: Promise<number>;
}

/** Starts `GET /messages?<query>` without awaiting it. */
function startPoll(agent: TestAgent, query: string): Poll {
  const started = Date.now();
  let done = false;
  const reply = inbox<MessagePage>(agent, query).then((r) => {
    done = true;
    return r;
  });
  return { reply, settled: () => done, elapsed: reply.then(() => Date.now() - started) };
}

/** A send that must be stored; answers the message's id and its ts in the recipient's inbox. */
async function sent(from: TestAgent, to: TestAgent, payload: string, extra: Record<string, unknown> = {}): Promise<{ id: string; ts: string }> {
  const reply = await send<SendResponse>(from, textMessage(to.name, payload, extra));
  expect(reply.status, reply.text).toBe(201);
  return { id: reply.body.id, ts: reply.body.recipients[0]!.ts };
}

const ids = (reply: Reply<MessagePage>): string[] => reply.body.messages.map((m) => m.id);

describe("a long-poll when something already matches", () => {
  it("answers at once with the matching messages, even with wait=30", async () => {
    const [alice, bob] = await Promise.all([register("lp_now_a"), register("lp_now_b")]);
    const first = await sent(alice, bob, "already here");
    const poll = startPoll(bob, "wait=30");
    const reply = await poll.reply;
    expect(reply.status).toBe(200);
    expect(ids(reply)).toEqual([first.id]);
    expect(await poll.elapsed).toBeLessThan(WOKEN_BOUND_MS);
    expect(await heldPolls(bob)).toBe(0);
  });

  it("answers at once with only the messages after the cursor", async () => {
    const [alice, bob] = await Promise.all([register("lp_cur_a"), register("lp_cur_b")]);
    const old = await sent(alice, bob, "old");
    const newer = await sent(alice, bob, "newer");
    const reply = await startPoll(bob, `wait=30&sort=asc&after=${encodeURIComponent(old.ts)}`).reply;
    expect(reply.status).toBe(200);
    expect(ids(reply)).toEqual([newer.id]);
  });
});

describe("a waiting long-poll", () => {
  it("wakes on a matching message and answers it, without the messages before its cursor", async () => {
    const [alice, bob] = await Promise.all([register("lp_wake_a"), register("lp_wake_b")]);
    const old = await sent(alice, bob, "before the poll");
    const poll = startPoll(bob, `wait=30&sort=asc&after=${encodeURIComponent(old.ts)}`);
    await untilHeld(bob, 1);
    expect(poll.settled()).toBe(false);

    const fresh = await sent(alice, bob, "wake up", { topic: "lp.fresh" });
    const reply = await poll.reply;
    expect(reply.status).toBe(200);
    expect(reply.body.messages).toEqual([
      expect.objectContaining({ id: fresh.id, from: alice.name, to: bob.name, ts: fresh.ts, payload: "wake up", topic: "lp.fresh" }),
    ]);
    expect(reply.body).toMatchObject({ count: 1, oldestTs: fresh.ts, newestTs: fresh.ts, cursor: fresh.ts, hasMore: false });
    expect(await poll.elapsed).toBeLessThan(WOKEN_BOUND_MS);
    expect(await heldPolls(bob)).toBe(0);
  });

  it("does not wake on a message of another topic", async () => {
    const [alice, bob] = await Promise.all([register("lp_topic_a"), register("lp_topic_b")]);
    const poll = startPoll(bob, "wait=30&topic=wanted");
    await untilHeld(bob, 1);

    await sent(alice, bob, "other topic", { topic: "unwanted" });
    await sent(alice, bob, "no topic");
    // A store wakes matching polls before the send answers (a woken poll leaves the set at once),
    // so the poll still being held now means these two did not wake it.
    expect(await heldPolls(bob)).toBe(1);
    expect(poll.settled()).toBe(false);

    const wanted = await sent(alice, bob, "the one", { topic: "wanted" });
    const reply = await poll.reply;
    expect(reply.status).toBe(200);
    expect(ids(reply)).toEqual([wanted.id]);
    expect(await poll.elapsed).toBeLessThan(WOKEN_BOUND_MS);
  });

  it("does not wake on a message from another sender when it filters with from=", async () => {
    const [alice, bob, carol] = await Promise.all([register("lp_from_a"), register("lp_from_b"), register("lp_from_c")]);
    const poll = startPoll(bob, `wait=30&from=${alice.name.toUpperCase()}`);
    await untilHeld(bob, 1);

    await sent(carol, bob, "not from alice");
    expect(await heldPolls(bob)).toBe(1); // still held after the store: not woken (see above)
    expect(poll.settled()).toBe(false);

    const fromAlice = await sent(alice, bob, "from alice");
    const reply = await poll.reply;
    expect(reply.status).toBe(200);
    expect(ids(reply)).toEqual([fromAlice.id]);
    expect(reply.body.messages[0]!.from).toBe(alice.name);
  });

  it("answers an empty page when its wait ends with nothing matching", async () => {
    const bob = await register("lp_deadline");
    const poll = startPoll(bob, "wait=1");
    await untilHeld(bob, 1);
    const reply = await poll.reply;
    expect(reply.status).toBe(200);
    expect(reply.body).toEqual({ messages: [], count: 0, cursor: null, oldestTs: null, newestTs: null, hasMore: false });
    expect(await poll.elapsed).toBeLessThan(WOKEN_BOUND_MS);
    expect(await heldPolls(bob)).toBe(0);
  });

  it("with wait=0 answers an empty inbox at once without holding", async () => {
    const bob = await register("lp_zero");
    const reply = await inbox(bob, "wait=0");
    expect(reply.status).toBe(200);
    expect(reply.body).toMatchObject({ messages: [], count: 0, hasMore: false });
    expect(await heldPolls(bob)).toBe(0);
  });
});

describe("many long-polls", () => {
  it("wakes every one of 20 concurrent polls on one inbox with the same message", async () => {
    const [alice, bob] = await Promise.all([register("lp_many_a"), register("lp_many_b")]);
    const polls = Array.from({ length: 20 }, () => startPoll(bob, "wait=30"));
    await untilHeld(bob, 20);

    const message = await sent(alice, bob, "for everyone");
    const replies = await Promise.all(polls.map((p) => p.reply));
    for (const reply of replies) {
      expect(reply.status).toBe(200);
      expect(ids(reply)).toEqual([message.id]);
    }
    for (const elapsed of await Promise.all(polls.map((p) => p.elapsed))) expect(elapsed).toBeLessThan(WOKEN_BOUND_MS);
    expect(await heldPolls(bob)).toBe(0);
  });

  it("keeps different agents' polls independent: a message to one wakes only that one", async () => {
    const [alice, bob, carol] = await Promise.all([register("lp_ind_a"), register("lp_ind_b"), register("lp_ind_c")]);
    const bobPoll = startPoll(bob, "wait=30");
    const carolPoll = startPoll(carol, "wait=30");
    await Promise.all([untilHeld(bob, 1), untilHeld(carol, 1)]);

    const toBob = await sent(alice, bob, "for bob");
    const bobReply = await bobPoll.reply;
    expect(ids(bobReply)).toEqual([toBob.id]);
    expect(await heldPolls(carol)).toBe(1); // still held once bob's poll answered: not woken
    expect(carolPoll.settled()).toBe(false);

    const toCarol = await sent(alice, carol, "for carol");
    const carolReply = await carolPoll.reply;
    expect(ids(carolReply)).toEqual([toCarol.id]);
  });

  it("a send is not slowed by 50 waiting polls, and wakes them all well before their deadline", async () => {
    const [alice, bob] = await Promise.all([register("lp_fifty_a"), register("lp_fifty_b")]);
    const polls = Array.from({ length: 50 }, () => startPoll(bob, "wait=30"));
    await untilHeld(bob, 50);
    expect(polls.some((p) => p.settled())).toBe(false);

    const sendStarted = Date.now();
    const reply = await send<SendResponse>(alice, textMessage(bob.name, "wake all fifty"));
    expect(reply.status).toBe(201);
    expect(Date.now() - sendStarted).toBeLessThan(WOKEN_BOUND_MS);
    const replies = await Promise.all(polls.map((p) => p.reply));
    for (const r of replies) {
      expect(r.status).toBe(200);
      expect(ids(r)).toEqual([reply.body.id]);
    }
    for (const elapsed of await Promise.all(polls.map((p) => p.elapsed))) expect(elapsed).toBeLessThan(WOKEN_BOUND_MS);
    expect(await heldPolls(bob)).toBe(0);
  });

  it("other reads and the agent's own sends answer while its polls wait, and do not wake them", async () => {
    const [alice, bob] = await Promise.all([register("lp_other_a"), register("lp_other_b")]);
    const stored = await sent(alice, bob, "stored earlier");
    const polls = Array.from({ length: 10 }, () => startPoll(bob, `wait=30&after=${encodeURIComponent(stored.ts)}`));
    await untilHeld(bob, 10);

    const list = await inbox<MessagePage>(bob);
    expect(list.status).toBe(200);
    expect(ids(list)).toEqual([stored.id]);
    const one = await call("GET", `/messages/${stored.id}`, { key: bob.apiKey });
    expect(one.status).toBe(200);
    expect(one.body).toMatchObject({ id: stored.id, payload: "stored earlier" });
    const outgoing = await send(bob, textMessage(alice.name, "bob sends while polling"));
    expect(outgoing.status).toBe(201);
    const channels = await call("GET", "/channels", { key: bob.apiKey });
    expect(channels.status).toBe(200);

    expect(polls.some((p) => p.settled())).toBe(false);
    expect(await heldPolls(bob)).toBe(10);

    const wake = await sent(alice, bob, "now wake");
    for (const reply of await Promise.all(polls.map((p) => p.reply))) expect(ids(reply)).toEqual([wake.id]);
  });
});

describe("the wait parameter", () => {
  it.each(["-1", "abc", "1e2", "", "NaN", "Infinity", "0x10"])("wait=%s is refused with 400 naming wait", async (value) => {
    const bob = await register("lp_badwait");
    const reply = await inbox<ErrorBody>(bob, `wait=${encodeURIComponent(value)}`);
    expect(reply.status).toBe(400);
    expect(reply.body).toMatchObject({ code: "BAD_REQUEST" });
    expect(reply.body.error).toMatch(/wait/);
    expect(await heldPolls(bob)).toBe(0);
  });

  it("accepts a fractional number of seconds", async () => {
    const bob = await register("lp_frac");
    const reply = await inbox(bob, "wait=0.2");
    expect(reply.status).toBe(200);
    expect(reply.body).toMatchObject({ messages: [], count: 0 });
  });

  it("accepts a wait above the maximum (clamped) and still wakes on a message", async () => {
    const [alice, bob] = await Promise.all([register("lp_clamp_a"), register("lp_clamp_b")]);
    const poll = startPoll(bob, "wait=9999");
    await untilHeld(bob, 1);
    const message = await sent(alice, bob, "clamped but woken");
    const reply = await poll.reply;
    expect(reply.status).toBe(200);
    expect(ids(reply)).toEqual([message.id]);
    expect(await poll.elapsed).toBeLessThan(WOKEN_BOUND_MS);
  });
});

describe("presence while long-polling (SPEC §4.3)", () => {
  it("a long-polling agent is online while it waits, in its own record and in the directory", async () => {
    const [alice, bob] = await Promise.all([register("lp_seen_a"), register("lp_seen_b")]);
    const before = Date.now();
    const poll = startPoll(bob, "wait=30");
    await untilHeld(bob, 1);

    // Only the poll has been made by bob: the directory's view (pushed by the inbox) shows it seen.
    const listed = await vi.waitFor(
      async () => {
        const reply = await call<AgentPublic>("GET", `/agents/${bob.name}`, { key: ADMIN_KEY });
        expect(reply.body.online, "bob online in the directory").toBe(true);
        return reply.body;
      },
      { timeout: 10_000, interval: 50 },
    );
    expect(Date.parse(listed.lastSeen!)).toBeGreaterThanOrEqual(before - 1000);

    const me = await call("GET", "/agents/me", { key: bob.apiKey });
    expect(me.status).toBe(200);
    expect(me.body).toMatchObject({ name: bob.name, online: true });
    expect(poll.settled()).toBe(false);

    const message = await sent(alice, bob, "done waiting");
    expect(ids(await poll.reply)).toEqual([message.id]);
  });

  it("marks the agent seen again when the wait ends", async () => {
    const bob = await register("lp_seen_end");
    const poll = startPoll(bob, "wait=1");
    await untilHeld(bob, 1);
    const atStart = await internals(bob, (inbox) => inbox.views.lastSeenAt);
    expect(atStart).not.toBeNull();
    await poll.reply;
    const atEnd = await internals(bob, (inbox) => inbox.views.lastSeenAt);
    expect(atEnd).toBeGreaterThan(atStart!);
  });
});
