// The hot paths against their floors (issue: a send that costs what the runtime costs): a direct
// send, a multicast and a poll, each interleaved with the floor of its shape under the same load
// (autocannon, the same connections and duration; bench/paired.ts).

import { Relay, sendBody, type BenchAgent } from "./agents.js";
import type { Figure } from "./figure.js";
import type { Floors } from "./floors.js";
import { paired, type PairedOptions } from "./paired.js";

const auth = (agent: BenchAgent) => ({ Authorization: `Bearer ${agent.apiKey}` });

/** Direct sends: 50 agents each sending to the next, and 20 senders to one inbox, at 10 and 50 connections. */
export async function directSends(relay: Relay, floors: Floors, timing: PairedOptions): Promise<Figure[]> {
  const ring = await relay.registerMany("ring_", 50);
  const ringPairs = ring.map((agent, i): [BenchAgent, BenchAgent] => [agent, ring[(i + 1) % ring.length]!]);
  const senders = await relay.registerMany("many_s", 20);
  const one = await relay.register("one_r");
  const fanInPairs = senders.map((agent): [BenchAgent, BenchAgent] => [agent, one]);
  const figures: Figure[] = [];
  for (const connections of [10, 50]) {
    for (const [pairs, what] of [[ringPairs, "50 senders → 50 inboxes"], [fanInPairs, "20 senders → 1 inbox"]] as const) {
      const floor = floors.hop(pairs.map(([a, b]) => [a.name, b.name]), connections);
      const sends = (durationS: number) => ({
        url: relay.url,
        method: "POST" as const,
        durationS,
        connections,
        request: (i: number) => {
          const [from, to] = pairs[i % pairs.length]!;
          return { path: "/messages", headers: auth(from), body: sendBody(to.name) };
        },
      });
      figures.push(await paired("send", `${what}, ${connections} connections`, floor, sends, timing));
    }
  }
  return figures;
}

/** A multicast to 10 recipients against the floor that makes 10 inserts in 10 objects. */
export async function multicast(relay: Relay, floors: Floors, timing: PairedOptions): Promise<Figure> {
  const senders = await relay.registerMany("mc_s", 20);
  const recipients = await relay.registerMany("mc_r", 10);
  const to = recipients.map((r) => r.name);
  return paired("multicast", "to 10 recipients, 10 connections", floors.fan(10, 10), (durationS) => ({
    url: relay.url,
    method: "POST",
    durationS,
    connections: 10,
    request: (i) => ({ path: "/messages", headers: auth(senders[i % senders.length]!), body: sendBody(to) }),
  }), timing);
}

/** GET the newest page of an inbox of 60 against the one-indexed-read floor. */
export async function poll(relay: Relay, floors: Floors, timing: PairedOptions): Promise<Figure> {
  const [sender, owner] = await Promise.all([relay.register("poll_s"), relay.register("poll_r")]);
  for (let i = 0; i < 60; i++) await relay.send(sender, owner.name, `m${i}`);
  await floors.prepareRead();
  return paired("poll", "GET newest page of 50, 10 connections", floors.read(10), (durationS) => ({
    url: relay.url,
    durationS,
    connections: 10,
    request: () => ({ path: "/messages?limit=50", headers: auth(owner) }),
  }), timing);
}
