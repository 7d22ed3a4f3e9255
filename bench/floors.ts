// Load against the floor Worker (bench/floor/worker.ts): the runtime's cost of each request shape
// ClawTalk has, measured in the same run as the relay and with the same load.

import { floorFigure, type FloorFigure } from "./figure.js";
import { load } from "./measure.js";

/** A body the size of a typical send. */
const BODY = JSON.stringify({ to: "x", type: "notification", encrypted: false, payload: "benchmark message payload of a typical size, about a hundred bytes long......" });

export class Floors {
  constructor(private readonly url: string) {}

  empty(connections: number, seconds: number): Promise<FloorFigure> {
    return this.post("empty Worker", connections, seconds, () => "/");
  }

  /** Worker → object → one insert. */
  insert(connections: number, seconds: number): Promise<FloorFigure> {
    return this.post("Worker → object → one insert", connections, seconds, (i) => `/insert/o${i % 50}`);
  }

  /** Worker → object a → object b → one insert, over the same (sender, recipient) pairs as the relay scenario. */
  hop(pairs: [string, string][], connections: number, seconds: number): Promise<FloorFigure> {
    return this.post("Worker → object → object → one insert", connections, seconds, (i) => {
      const [a, b] = pairs[i % pairs.length]!;
      return `/hop/${a}/${b}`;
    });
  }

  /** Worker → object → n objects, one insert in each. */
  fan(n: number, connections: number, seconds: number): Promise<FloorFigure> {
    return this.post(`Worker → object → ${n} objects, one insert each`, connections, seconds, (i) => `/fan/f${i % 20}/${n}`);
  }

  /** Worker → object → one indexed read of the newest 50 rows (of at least 60). */
  async read(connections: number, seconds: number): Promise<FloorFigure> {
    for (let i = 0; i < 60; i++) await fetch(`${this.url}/insert/reader`, { method: "POST", body: BODY });
    const result = await load({ url: this.url, durationS: seconds, connections, request: () => ({ path: "/read/reader" }) });
    return floorFigure("Worker → object → one indexed read", result);
  }

  private async post(what: string, connections: number, seconds: number, path: (i: number) => string): Promise<FloorFigure> {
    const result = await load({ url: this.url, method: "POST", durationS: seconds, connections, request: (i) => ({ path: path(i), body: BODY }) });
    return floorFigure(what, result);
  }
}
