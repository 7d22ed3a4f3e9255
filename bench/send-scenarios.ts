// The hot paths against their floors (issue: a send that costs what the runtime costs): a direct
// send, a multicast and a poll, each measured right after the floor of its shape, with the same
// load (autocannon, the same connections and duration).

import { Relay, sendBody, type BenchAgent } from "./agents.js";
import { againstFloor, type Figure } from "./figure.js";
import type { Floors } from "./floors.js";
import { load } from "./measure.js";

const auth = (agent: BenchAgent) => ({ Authorization: `Bearer ${agent.apiKey}` });

/** Sends along (sender, recipient) pairs, and the two-object floor over the same pairs. */
async function sendsAgainstFloor(
  relay: Relay,
  floors: Floors,
  pairs: [BenchAgent, BenchAgent][],
  what: string,
  connections: number,
  seconds: number,
): Promise<Figure> {
  const floor = await floors.hop(pairs.map(([a, b]) => [a.name, b.name]), connections, seconds);
  const result = await load({
    url: relay.url,
    method: "POST",
    durationS: seconds,
    connections,
    request: (i) => {
      const [from, to] = pairs[i % pairs.length]!;
      return { path: "/messages", headers: auth(from), body: sendBody(to.name) };
    },
  });
  return againstFloor("send", `${what}, ${connections} connections`, result, floor);
}

/** Direct sends: 50 agents each sending to the next, and 20 senders to one inbox, at 10 and 50 connections. */
export async function directSends(relay: Relay, floors: Floors, seconds: number): Promise<Figure[]> {
  const ring = await relay.registerMany("ring_", 50);
  const ringPairs = ring.map((agent, i): [BenchAgent, BenchAgent] => [agent, ring[(i + 1) % ring.length]!]);
  const senders = await relay.registerMany("many_s", 20);
  const one = await relay.register("one_r");
  const fanInPairs = senders.map((agent): [BenchAgent, BenchAgent] => [agent, one]);
  const figures: Figure[] = [];
  for (const connections of [10, 50]) {
    figures.push(await sendsAgainstFloor(relay, floors, ringPairs, "50 senders → 50 inboxes", connections, seconds));
    figures.push(await sendsAgainstFloor(relay, floors, fanInPairs, "20 senders → 1 inbox", connections, seconds));
  }
  return figures;
}

/** A multicast to 10 recipients against the floor that makes 10 inserts in 10 objects. */
export async function multicast(relay: Relay, floors: Floors, seconds: number): Promise<Figure> {
  const senders = await relay.registerMany("mc_s", 20);
  const recipients = await relay.registerMany("mc_r", 10);
  const to = recipients.map((r) => r.name);
  const floor = await floors.fan(10, 10, seconds);
  const result = await load({
    url: relay.url,
    method: "POST",
    durationS: seconds,
    connections: 10,
    request: (i) => ({ path: "/messages", headers: auth(senders[i % senders.length]!), body: sendBody(to) }),
  });
  return againstFloor("multicast", "to 10 recipients, 10 connections", result, floor);
}

/** GET the newest page of an inbox of 60 against the one-indexed-read floor. */
export async function poll(relay: Relay, floors: Floors, seconds: number): Promise<Figure> {
  const [sender, owner] = await Promise.all([relay.register("poll_s"), relay.register("poll_r")]);
  for (let i = 0; i < 60; i++) await relay.send(sender, owner.name, `m${i}`);
  const floor = await floors.read(10, seconds);
  const result = await load({ url: relay.url, durationS: seconds, connections: 10, request: () => ({ path: "/messages?limit=50", headers: auth(owner) }) });
  return againstFloor("poll", "GET newest page of 50, 10 connections", result, floor);
}
