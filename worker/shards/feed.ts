// The admin feed (GET /messages with the admin key) over every feed shard: each shard answers its
// own page and the pages are merged here with the same answers a single feed would give.
//
// - By time (no `afterSeq`): the newest (or oldest) `limit` items over all shards, ordered by ts,
//   then shard, then arrival; `lastSeq` is every shard's position when it was read, so an
//   `afterSeq` walk from it returns exactly the items that arrive later.
// - By arrival (`afterSeq`): the cursor names a position per shard ("p0_p1_..."). A page takes,
//   shard by shard, a prefix of the items after each position (merged by ts, so a busy shard does
//   not starve a quiet one), and the new cursor moves each position past what was taken from it,
//   so following cursors returns every item exactly once: nothing is skipped, nothing repeated.
//   A single number (the cursor of earlier versions) is the position in shard 0, the one feed
//   those versions had; a shard a cursor does not name (the count grew) is read from its start.
// - `wait`: every shard long-polls; the first to answer with items ends the others' waits.

import { failures, RelayError } from "../../protocol/errors.js";
import type { Limits } from "../../protocol/limits.js";
import { isoTime } from "../../protocol/time.js";
import { FEED_CURSOR_PATTERN } from "../../protocol/wire-schemas.js";
import type { FeedQuery, FeedShardPage, SeqItem } from "../../durable-objects/feed.js";
import type { MessageQuery } from "../../durable-objects/message-query.js";
import { feedStub, shardIndexes } from "../../durable-objects/stubs.js";

export interface AdminFeedPage {
  messages: SeqItem[];
  count: number;
  cursor: string | null;
  oldestTs: string | null;
  newestTs: string | null;
  hasMore: boolean;
  /** The position per shard after this page: pass it as `afterSeq`. */
  lastSeq: string;
}

/** Positions per shard from an `afterSeq` parameter, or a 400. */
export function parseFeedCursor(raw: string, shards: number): number[] {
  if (!FEED_CURSOR_PATTERN.test(raw)) throw new RelayError(failures.badRequest("afterSeq: expected the lastSeq of an earlier page (whole numbers joined by _)."));
  const given = raw.split("_").map(Number);
  return shardIndexes(shards).map((i) => given[i] ?? 0);
}

export function formatFeedCursor(positions: number[]): string {
  return positions.join("_");
}

/** One page of the merged feed; `afterSeq` are positions per shard, or undefined for a page by time. */
export async function readFeed(env: Env, limits: Limits, query: MessageQuery, afterSeq: number[] | undefined, waitS: number): Promise<AdminFeedPage> {
  const shards = shardIndexes(limits.feedShards);
  const pages = await askShards(env, shards, (i) => (afterSeq === undefined ? query : { ...query, afterSeq: afterSeq[i]! }), waitS);
  return afterSeq === undefined ? byTime(pages, query) : byArrival(pages, query.limit, afterSeq);
}

async function askShards(env: Env, shards: number[], queryOf: (i: number) => FeedQuery, waitS: number): Promise<FeedShardPage[]> {
  if (waitS <= 0) return Promise.all(shards.map((i) => feedStub(env, i).query(queryOf(i))));
  const waiterId = crypto.randomUUID();
  const answered = new Set<number>();
  let releasing: Promise<unknown> | null = null;
  const pages = shards.map(async (i) => {
    const page = await feedStub(env, i).query(queryOf(i), waitS, waiterId);
    answered.add(i);
    if (page.items.length > 0 && releasing === null) {
      releasing = Promise.all(shards.filter((j) => !answered.has(j)).map((j) => feedStub(env, j).release(waiterId)));
    }
    return page;
  });
  const all = await Promise.all(pages);
  await releasing;
  return all;
}

function pageFields(items: SeqItem[], hasMore: boolean, lastSeq: string): AdminFeedPage {
  const times = items.map((item) => Date.parse(item.ts));
  const oldestTs = times.length ? isoTime(Math.min(...times)) : null;
  const newestTs = times.length ? isoTime(Math.max(...times)) : null;
  return { messages: items, count: items.length, cursor: oldestTs, oldestTs, newestTs, hasMore, lastSeq };
}

function byTime(pages: FeedShardPage[], query: MessageQuery): AdminFeedPage {
  const sign = query.sort === "asc" ? 1 : -1;
  const all = pages.flatMap((page, shard) => page.items.map((item) => ({ item, shard, ts: Date.parse(item.ts) })));
  all.sort((a, b) => sign * (a.ts - b.ts || a.shard - b.shard || a.item.seq - b.item.seq));
  const items = all.slice(0, query.limit).map((entry) => entry.item);
  // Each shard answered `limit` items or all it has, so the merged order is exact up to `limit`.
  const hasMore = all.length > query.limit || pages.some((page) => page.hasMore);
  return pageFields(items, hasMore, formatFeedCursor(pages.map((page) => page.head)));
}

function byArrival(pages: FeedShardPage[], limit: number, from: number[]): AdminFeedPage {
  const next = pages.map(() => 0);
  const positions = [...from];
  const items: SeqItem[] = [];
  while (items.length < limit) {
    // The oldest next item of any shard; a shard's items are taken in arrival order only.
    let best = -1;
    for (let i = 0; i < pages.length; i++) {
      const candidate = pages[i]!.items[next[i]!];
      if (candidate === undefined) continue;
      if (best < 0 || Date.parse(candidate.ts) < Date.parse(pages[best]!.items[next[best]!]!.ts)) best = i;
    }
    if (best < 0) break;
    const item = pages[best]!.items[next[best]!++]!;
    positions[best] = item.seq;
    items.push(item);
  }
  // A shard's list holds `limit` items unless it had fewer, so none ran out before the page filled.
  const hasMore = pages.some((page, i) => page.hasMore || next[i]! < page.items.length);
  return pageFields(items, hasMore, formatFeedCursor(positions));
}
