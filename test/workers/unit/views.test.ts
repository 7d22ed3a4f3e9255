// durable-objects/views.ts: an inbox's feed push that the shard does not take (restarting,
// overloaded) is kept and carried by the alarm's retry, never lost. The Feed binding is replaced
// here by one whose first record() throws: a real shard cannot be made to fail on demand.

import { expect, it } from "vitest";
import { AlarmScheduler } from "../../../durable-objects/alarm-tasks.js";
import type { FeedPush } from "../../../durable-objects/feed-batch.js";
import type { StoredMessage } from "../../../durable-objects/message-store.js";
import { Views } from "../../../durable-objects/views.js";
import { readLimits } from "../../../protocol/limits.js";

it("a feed push that fails is pushed again with the next one, with what was collected meanwhile", async () => {
  const pushes: FeedPush[] = [];
  let failures = 1;
  const feed = {
    async record(push: FeedPush) {
      if (failures-- > 0) throw new Error("Network connection lost.");
      pushes.push(push);
      return { nextPushInMs: 0 };
    },
  };
  const env = { FEED: { getByName: () => feed } } as unknown as Env;
  const storage = { setAlarm: async () => {}, getAlarm: async () => null } as unknown as DurableObjectStorage;
  const scheduler = new AlarmScheduler(storage);
  const views = new Views(env, readLimits({}), scheduler, () => "bob", () => null);
  const feedTask = views.tasks.find((task) => task.name === "feed")!;
  const stored = (id: string, ts: number): StoredMessage => ({ ts, id, sender: "alice", topic: "t", bodyHash: "", expiresAt: ts + 1000, json: "{}", deliveredAt: null, via: null, reported: 0, depth: 0 });
  const envelope = { id: "", from: "alice", to: "bob", type: "notification", encrypted: false, payload: "hi" } as never;

  views.stored(stored("m1", 1), envelope, "bob");
  await expect(feedTask.run(Date.now() + 60_000)).rejects.toThrow("Network connection lost.");
  expect(pushes).toEqual([]);

  views.stored(stored("m2", 2), envelope, "bob");
  await feedTask.run(Date.now() + 60_000);
  expect(pushes).toHaveLength(1);
  expect(pushes[0]!.items.map((item) => item.id)).toEqual(["m1", "m2"]);
  expect(pushes[0]!.topics.get("t")?.count).toBe(2);
});
