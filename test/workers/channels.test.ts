// GET /channels keeps an inbox's 500 most recent topics (older ones are forgotten by the alarm).

import { runDurableObjectAlarm } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { expect, it } from "vitest";
import { call, register, send, textMessage } from "../support/relay.js";

it("an inbox remembers its 500 most recent topics, most recent first", async () => {
  const [alice, bob] = await Promise.all([register("chan"), register("chan")]);
  // One after another, so "most recent" is well defined.
  for (let n = 0; n < 505; n++) expect((await send(alice, textMessage(bob.name, "x", { topic: `t.${n}` }))).status).toBe(201);
  await runDurableObjectAlarm(env.INBOX.getByName(bob.name.toLowerCase()));
  const channels = (await call("GET", "/channels", { key: bob.apiKey })).body as string[];
  expect(channels).toHaveLength(500);
  expect(channels[0]).toBe("t.504");
  expect(channels.at(-1)).toBe("t.5");
  expect(channels).not.toContain("t.4");
});
