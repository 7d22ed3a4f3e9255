// durable-objects/recent-messages.ts: the in-memory cache of an inbox's newest messages. Its
// contract: whenever it answers a query (non-null), the answer equals what storage would answer.
// Checked here against a plain reference (an array, filter and sort) over many random
// sequences of adds, deletes, expiries, restarts and queries, seeded so a failure replays.

import { describe, expect, it } from "vitest";
import type { MessageQuery } from "../../../durable-objects/message-query.js";
import type { StoredMessage } from "../../../durable-objects/message-store.js";
import { RecentMessages } from "../../../durable-objects/recent-messages.js";

/** mulberry32: a small seeded PRNG, so every run sees the same sequences. */
function prng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int: (lo: number, hi: number) => lo + Math.floor(next() * (hi - lo + 1)),
    chance: (p: number) => next() < p,
    pick: <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)]!,
  };
}
type Random = ReturnType<typeof prng>;

const TOPICS = [null, "a", "b", "c"] as const;
const SENDERS = ["x", "y", "z"] as const;
/** Over the 1 Mi character budget in a handful of messages, so the cache's size cap drops old items too. */
const BIG_JSON = "j".repeat(250_000);

/** What storage would answer (InboxStore.query): limit + 1 live matches in the requested order. */
function reference(stored: readonly StoredMessage[], q: MessageQuery, now: number): StoredMessage[] {
  const matches = stored.filter(
    (m) =>
      m.expiresAt > now &&
      (q.after === undefined || m.ts > q.after) &&
      (q.before === undefined || m.ts < q.before) &&
      (q.topic === undefined || m.topic === q.topic) &&
      (q.from === undefined || m.sender === q.from) &&
      (q.unread !== true || m.deliveredAt === null),
  );
  matches.sort((x, y) => (q.sort === "asc" ? x.ts - y.ts : y.ts - x.ts));
  return matches.slice(0, q.limit + 1);
}

/** A boundary-heavy timestamp: near a stored ts, or anywhere in (and just outside) the range. */
function randomTs(r: Random, stored: readonly StoredMessage[], lastTs: number): number {
  if (stored.length > 0 && r.chance(0.6)) return r.pick(stored).ts + r.int(-1, 1);
  return r.int(-2, lastTs + 2);
}

function randomQuery(r: Random, stored: readonly StoredMessage[], lastTs: number): MessageQuery {
  const q: MessageQuery = { sort: r.chance(0.5) ? "asc" : "desc", limit: r.pick([1, 2, 3, 5, 10, 50, 100, 300]) };
  if (r.chance(0.5)) q.after = randomTs(r, stored, lastTs);
  if (r.chance(0.3)) q.before = randomTs(r, stored, lastTs);
  if (r.chance(0.3)) q.topic = r.pick(["a", "b", "c", "d"]);
  if (r.chance(0.3)) q.from = r.pick(["x", "y", "z", "w"]);
  if (r.chance(0.15)) q.unread = true;
  return q;
}

interface RunStats {
  queries: number;
  answered: number;
  adds: number;
  byIdHits: number;
}

/** One random sequence; asserts after every query. */
function run(seed: number, steps: number, stats: RunStats): void {
  const r = prng(seed);
  let stored: StoredMessage[] = []; // ascending ts: the inbox's storage
  let cache = new RecentMessages();
  let now = 1_000;
  let lastTs = 0;
  let serial = 0;
  // Some runs add in long bursts (past the 256-item cap), some churn with many deletes.
  const addWeight = r.pick([0.4, 0.6, 0.85]);
  const bigChance = r.pick([0, 0, 0.02, 0.2]);

  const describeStep = (what: string) => `seed ${seed}, step ${what}, now ${now}, ${stored.length} stored`;

  for (let step = 0; step < steps; step++) {
    const roll = r.next();
    if (roll < addWeight) {
      // A new message: ts strictly increasing (max(now, last + 1)), as the inbox assigns it.
      const ts = Math.max(now, lastTs + 1);
      lastTs = ts;
      const message: StoredMessage = {
        ts,
        id: `m${seed}-${serial++}`,
        sender: r.pick(SENDERS),
        topic: r.pick(TOPICS),
        bodyHash: "h",
        expiresAt: ts + r.pick([3, 20, 200, 1e12]),
        json: r.chance(bigChance) ? BIG_JSON : `{"n":${serial}}`,
        deliveredAt: null,
        via: null,
        reported: 0,
        depth: 0,
      };
      stored.push(message);
      cache.add(message);
      stats.adds++;
      if (r.chance(0.5)) now += r.int(0, 2);
    } else if (roll < addWeight + 0.03 && stored.length > 0) {
      // Some copy is delivered (a read marks the shared object, as the inbox does).
      const read = r.pick(stored);
      read.deliveredAt ??= now;
      read.via ??= "poll";
    } else if (roll < addWeight + 0.08) {
      // Delete (ack) a few, sometimes ids that are not there.
      const gone = new Set<number>();
      for (let i = r.int(1, 5); i > 0 && stored.length > 0; i--) gone.add(r.pick(stored).ts);
      if (r.chance(0.2)) gone.add(lastTs + 1000);
      stored = stored.filter((m) => !gone.has(m.ts));
      cache.remove(gone);
    } else if (roll < addWeight + 0.07) {
      // The expiry pass (alarm, or a full inbox making room): storage drops expired rows.
      const gone = new Set(stored.filter((m) => m.expiresAt <= now).map((m) => m.ts));
      stored = stored.filter((m) => !gone.has(m.ts));
      cache.remove(gone);
    } else if (roll < addWeight + 0.09) {
      now += r.int(1, 50);
    } else if (roll < addWeight + 0.1) {
      // The object restarts: memory is lost. Usually the first read warms it from storage
      // (the newest 200 live messages, as the inbox does); sometimes messages arrive first.
      cache = new RecentMessages();
      if (r.chance(0.7)) {
        const live = stored.filter((m) => m.expiresAt > now);
        const newest = live.slice(-200);
        cache.load(newest, newest.length < 200);
      }
    } else if (roll < addWeight + 0.13) {
      // Reading one message by id: a cached answer must agree with storage.
      const id = stored.length > 0 && r.chance(0.8) ? r.pick(stored).id : `m${seed}-${r.int(0, serial + 3)}`;
      const hit = cache.byId(id, now);
      if (hit === undefined) continue;
      const truth = stored.find((m) => m.id === id && m.expiresAt > now) ?? null;
      expect(hit?.id ?? null, describeStep(`byId ${id}`)).toBe(truth?.id ?? null);
      if (hit) stats.byIdHits++;
    } else {
      const q = randomQuery(r, stored, lastTs);
      const answer = cache.query(q, now);
      stats.queries++;
      if (answer === null) continue;
      stats.answered++;
      const want = reference(stored, q, now).map((m) => m.ts);
      expect(answer.map((m) => m.ts), describeStep(`query ${JSON.stringify(q)}`)).toEqual(want);
    }
  }
}

describe("the recent-messages cache", () => {
  it("answers every query it answers exactly as storage would (random sequences)", () => {
    const stats: RunStats = { queries: 0, answered: 0, adds: 0, byIdHits: 0 };
    for (let seed = 1; seed <= 150; seed++) run(seed, 1_200, stats);
    // The test is only meaningful if the cache answered most queries and dropped items often.
    expect(stats.queries).toBeGreaterThan(10_000);
    expect(stats.answered / stats.queries).toBeGreaterThan(0.5);
    expect(stats.byIdHits).toBeGreaterThan(100);
  });

  it("stays exact after far more than 256 messages, when it holds only the newest", () => {
    const r = prng(4242);
    const cache = new RecentMessages();
    const stored: StoredMessage[] = [];
    for (let ts = 1; ts <= 1_000; ts++) {
      const message: StoredMessage = {
        ts,
        id: `id${ts}`,
        sender: r.pick(SENDERS),
        topic: r.pick(TOPICS),
        bodyHash: "h",
        expiresAt: 1e12,
        json: "{}",
        deliveredAt: null,
        via: null,
        reported: 0,
        depth: 0,
      };
      stored.push(message);
      cache.add(message);
    }
    const now = 2_000;
    // The newest page is served from memory...
    const newest = cache.query({ sort: "desc", limit: 50 }, now);
    expect(newest?.map((m) => m.ts)).toEqual(reference(stored, { sort: "desc", limit: 50 }, now).map((m) => m.ts));
    // ...and so is a cursor read near the end.
    const tail = cache.query({ sort: "asc", after: 900, limit: 10 }, now);
    expect(tail?.map((m) => m.ts)).toEqual(reference(stored, { sort: "asc", after: 900, limit: 10 }, now).map((m) => m.ts));
    // Anything that may need dropped messages goes to storage (null), never a partial answer.
    expect(cache.query({ sort: "asc", limit: 10 }, now)).toBeNull();
    expect(cache.query({ sort: "asc", after: 10, limit: 10 }, now)).toBeNull();
    expect(cache.query({ sort: "desc", topic: "never", limit: 10 }, now)).toBeNull();
    expect(cache.query({ sort: "desc", before: 100, limit: 10 }, now)).toBeNull();
    // An id that was dropped is unknown here (undefined), not "absent" (null).
    expect(cache.byId("id1", now)).toBeUndefined();
    expect(cache.byId("id1000", now)?.ts).toBe(1000);
  });

  it("knows nothing before it is loaded or fed", () => {
    const cache = new RecentMessages();
    expect(cache.query({ sort: "desc", limit: 10 }, 0)).toBeNull();
    expect(cache.query({ sort: "asc", after: 0, limit: 10 }, 0)).toBeNull();
    expect(cache.byId("anything", 0)).toBeUndefined();
  });

  it("answers an empty inbox from memory once loaded as complete", () => {
    const cache = new RecentMessages();
    cache.load([], true);
    expect(cache.query({ sort: "desc", limit: 10 }, 0)).toEqual([]);
    expect(cache.query({ sort: "asc", limit: 10 }, 0)).toEqual([]);
  });
});
