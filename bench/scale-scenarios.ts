// Scale scenarios: GET latency as an inbox grows to 100,000 messages, and whether
// authentication costs more with 10,000 agents registered than with 10.

import { sendBody, type BenchAgent, type Relay } from "./agents.js";
import { againstFloor, type Figure } from "./figure.js";
import type { Floors } from "./floors.js";
import { load } from "./measure.js";
import { floorOnly } from "./paired.js";

const auth = (agent: BenchAgent) => ({ Authorization: `Bearer ${agent.apiKey}` });

/** Inbox scale: GET latency as the inbox grows (newest page from memory; an older page and a topic filter from SQL). */
export async function inboxScale(relay: Relay, floors: Floors, sizes: number[], seconds: number): Promise<Figure[]> {
  await floors.prepareRead();
  const floor = await floorOnly(floors.read(10), { slices: 1, seconds });
  const senders = await relay.registerMany("scale_s", 20);
  const owner = await relay.register("scale_r");
  const figures: Figure[] = [];
  let stored = 0;
  let middle: string | null = null;
  for (const size of sizes) {
    if (size > stored) {
      const fill = await load({
        url: relay.url,
        method: "POST",
        amount: size - stored,
        connections: 32,
        request: (i) => ({
          path: "/messages",
          headers: auth(senders[i % senders.length]!),
          body: JSON.stringify({ to: owner.name, type: "notification", encrypted: false, payload: `m${i}`, topic: i % 10 === 0 ? "rare" : "common" }),
        }),
      });
      stored += fill.ok;
      if (fill.failed > 0) throw new Error(`filling the inbox: ${fill.failed} sends failed`);
    }
    // A ts from the middle of the inbox: paging from there cannot be answered from memory.
    const oldest = await relay.inbox(owner, "sort=asc&limit=1");
    const newest = await relay.inbox(owner, "sort=desc&limit=1");
    middle = new Date((Date.parse(oldest.messages[0]!.ts) + Date.parse(newest.messages[0]!.ts)) / 2).toISOString();
    const headers = auth(owner);
    const queries: [string, string][] = [
      ["newest page (memory)", "/messages?limit=50"],
      ["page from the middle (SQL)", `/messages?sort=asc&limit=50&after=${encodeURIComponent(middle)}`],
      ["topic filter (SQL index)", "/messages?limit=50&topic=rare&before=" + encodeURIComponent(middle)],
    ];
    for (const [what, path] of queries) {
      const result = await load({ url: relay.url, durationS: seconds, connections: 10, request: () => ({ path, headers }) });
      figures.push(againstFloor(`inbox of ${stored.toLocaleString("en")}`, `GET ${what}`, result, floor));
    }
  }
  return figures;
}

/** Auth cost: send latency with this many registered agents (senders spread over all of them). */
export async function authCost(relay: Relay, floors: Floors, senders: BenchAgent[], recipient: BenchAgent, seconds: number, label: string): Promise<Figure> {
  const floor = await floorOnly(floors.hop(senders.map((s) => [s.name, recipient.name]), 10), { slices: 1, seconds });
  const result = await load({
    connections: 10,
    url: relay.url,
    method: "POST",
    durationS: seconds,
    request: (i) => ({ path: "/messages", headers: auth(senders[i % senders.length]!), body: sendBody(recipient.name) }),
  });
  return againstFloor("auth cost", label, result, floor);
}
