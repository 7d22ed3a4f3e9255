// Load against the floor Worker (bench/floor/worker.ts): the runtime's cost of each request shape
// ClawTalk has, with the same load as the relay scenario it is compared with. Each method answers
// a run (not yet started), so a scenario can interleave floor and relay slices (bench/paired.ts).

import type { LoadOptions } from "./measure.js";

/** A body the size of a typical send. */
const BODY = JSON.stringify({ to: "x", type: "notification", encrypted: false, payload: "benchmark message payload of a typical size, about a hundred bytes long......" });

/** A floor's shape and the load that measures it. */
export interface FloorRun {
  what: string;
  options: (seconds: number) => LoadOptions;
}

export class Floors {
  constructor(private readonly url: string) {}

  empty(connections: number): FloorRun {
    return this.post("empty Worker", connections, () => "/");
  }

  /** Worker → object → one insert. */
  insert(connections: number): FloorRun {
    return this.post("Worker → object → one insert", connections, (i) => `/insert/o${i % 50}`);
  }

  /** Worker → object a → object b → one insert, over the same (sender, recipient) pairs as the relay scenario. */
  hop(pairs: [string, string][], connections: number): FloorRun {
    return this.post("Worker → object → object → one insert", connections, (i) => {
      const [a, b] = pairs[i % pairs.length]!;
      return `/hop/${a}/${b}`;
    });
  }

  /** Worker → object → n objects, one insert in each. */
  fan(n: number, connections: number): FloorRun {
    return this.post(`Worker → object → ${n} objects, one insert each`, connections, (i) => `/fan/f${i % 20}/${n}`);
  }

  /** Worker → object → one indexed read of the newest 50 rows (fill with `prepareRead` first). */
  read(connections: number): FloorRun {
    return { what: "Worker → object → one indexed read", options: (durationS) => ({ url: this.url, durationS, connections, request: () => ({ path: "/read/reader" }) }) };
  }

  /** One object reaching n objects in rounds of 40, one insert each: the ms it took (measured inside the object). */
  async fanout(n: number): Promise<number> {
    const response = await fetch(`${this.url}/fanout/${n}`, { method: "POST", body: BODY });
    if (!response.ok) throw new Error(`the fan-out floor answered ${response.status}`);
    return ((await response.json()) as { ms: number }).ms;
  }

  async prepareRead(): Promise<void> {
    for (let i = 0; i < 60; i++) await fetch(`${this.url}/insert/reader`, { method: "POST", body: BODY });
  }

  private post(what: string, connections: number, path: (i: number) => string): FloorRun {
    return { what, options: (durationS) => ({ url: this.url, method: "POST", durationS, connections, request: (i) => ({ path: path(i), body: BODY }) }) };
  }
}
