// scripts/local-relay.ts kill(): it resolves only when the relay's port can be bound again, so a
// restart on the same port right after it starts. An empty process group was not enough: a
// SIGKILLed workerd can hold its listener a moment longer (most likely its threads end after the
// leader shows as a zombie), and a restart straight after a kill failed with "address already in
// use" (1 in 8 kills of a relay that had just answered requests; webhook-restart failed so in CI).

import { afterAll, expect, test } from "vitest";
import { assertPortFree } from "../../scripts/local-relay.js";
import { prepareTestRelay, type TestRelay } from "../support/node-relay.js";

let life: TestRelay | undefined;

afterAll(async () => {
  await life?.cleanup();
}, 60_000);

test("twice in a row: a relay that has just answered requests is killed, its port binds at once, and it restarts on that port", async () => {
  life = await prepareTestRelay({ prefix: "clawtalk-restart-port-", startTimeoutMs: 45_000 });
  for (let round = 0; round < 2; round++) {
    const relay = await life.start();
    const answers = await Promise.all(Array.from({ length: 4 }, () => fetch(`${relay.url}/health`)));
    expect(answers.map((answer) => answer.status)).toEqual([200, 200, 200, 200]);
    await relay.kill();
    await expect(assertPortFree(life.port), `round ${round}`).resolves.toBeUndefined();
  }
  const last = await life.start();
  expect((await fetch(`${last.url}/health`)).status).toBe(200);
}, 240_000);
