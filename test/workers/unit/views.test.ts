// durable-objects/views.ts: an inbox's feed push that the shard does not take (restarting,
// overloaded) is kept and carried by the timer's retry, never lost. The Feed binding is replaced
// here by one whose first record() throws: a real shard cannot be made to fail on demand.

import { expect, it } from "vitest";
import type { FeedPush } from "../../../durable-objects/feed-batch.js";
import type { StoredMessage } from "../../../durable-objects/message-store.js";
import { Views } from "../../../durable-objects/views.js";
import { readLimits } from "../../../protocol/limits.js";

const envelope = { id: "", from: "alice", to: "bob", type: "notification", encrypted: false, payload: "hi" } as never;

function stored(id: string, ts: number, topic: string | null): StoredMessage {
  return { ts, id, sender: "alice", topic, bodyHash: "", expiresAt: ts + 1000, json: "{}", deliveredAt: null, via: null, reported: 0, depth: 0 };
}

/** Views of bob's inbox over a feed shard whose first record() fails; `shard.pushes` are the ones it took. */
function viewsOverFailingShard(vars: Record<string, string> = {}) {
  const shard = { pushes: [] as FeedPush[], tries: 0 };
  const feed = {
    async record(push: FeedPush) {
      if (shard.tries++ === 0) throw new Error("Network connection lost.");
      shard.pushes.push(push);
      return { nextPushInMs: 0 };
    },
  };
  const env = { FEED: { getByName: () => feed } } as unknown as Env;
  return { shard, views: new Views(env, readLimits(vars), () => "bob", () => null) };
}

it("a feed push that fails is pushed again with the next one, with what was collected meanwhile", async () => {
  const { shard, views } = viewsOverFailingShard();
  try {
    views.stored(stored("m1", 1, "t"), envelope, "bob");
    await views.pushDue(Date.now() + 60_000); // the failure is logged and retried, not thrown
    expect(shard.tries).toBe(1);
    expect(shard.pushes).toEqual([]);

    views.stored(stored("m2", 2, "t"), envelope, "bob");
    await views.pushDue(Date.now() + 60_000);
    expect(shard.pushes).toHaveLength(1);
    expect(shard.pushes[0]!.items.map((item) => item.id)).toEqual(["m1", "m2"]);
    expect(shard.pushes[0]!.topics.get("t")?.count).toBe(2);
  } finally {
    views.reset(); // stops the timer
  }
});

it("a failed push is retried by the timer on its own, with nothing else calling it", async () => {
  const { shard, views } = viewsOverFailingShard({ FEED_FLUSH_MS: "10" });
  try {
    views.stored(stored("m1", 1, null), envelope, "bob");
    await expect.poll(() => shard.pushes.length, { timeout: 10_000, interval: 50 }).toBe(1);
    expect(shard.tries).toBe(2); // one failed try, then the push
    expect(shard.pushes[0]!.items.map((item) => item.id)).toEqual(["m1"]);
  } finally {
    views.reset();
  }
});
