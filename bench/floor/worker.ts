// The benchmark's floors: what the runtime costs for the shapes of ClawTalk's requests, on the
// same wrangler/workerd as the relay. Every relay figure is reported beside the floor of its
// shape measured in the same run (bench/run.ts):
//
//   POST /                    empty Worker (reads the body)
//   POST /insert/:a           Worker → object a → one SQL insert
//   POST /hop/:a/:b           Worker → object a → object b → one SQL insert in b (a direct send's shape)
//   POST /fan/:a/:n           Worker → object a → objects fan0..fan(n-1), one insert in each (a multicast's shape)
//   GET  /read/:a             Worker → object a → one indexed read of the newest 50 rows (a poll's shape)
//   POST /fanout/:n           Worker → object "caster" → objects crowd0..crowd(n-1) in rounds of 40
//                             at once, one insert in each (a broadcast's fan-out, without the relay)

import { DurableObject } from "cloudflare:workers";

interface FloorEnv {
  FLOOR: DurableObjectNamespace<FloorObject>;
}

export class FloorObject extends DurableObject<FloorEnv> {
  constructor(ctx: DurableObjectState, env: FloorEnv) {
    super(ctx, env);
    ctx.storage.sql.exec("CREATE TABLE IF NOT EXISTS rows (ts INTEGER PRIMARY KEY, body TEXT NOT NULL)");
  }

  async insert(body: string): Promise<number> {
    const ts = Date.now() * 1000 + Math.floor(Math.random() * 1000);
    this.ctx.storage.sql.exec("INSERT OR REPLACE INTO rows (ts, body) VALUES (?, ?)", ts, body);
    return ts;
  }

  async hop(to: string, body: string): Promise<number> {
    return this.env.FLOOR.getByName(to).insert(body);
  }

  async fan(prefix: string, n: number, body: string): Promise<number[]> {
    return Promise.all(Array.from({ length: n }, (_, i) => this.env.FLOOR.getByName(`${prefix}${i}`).insert(body)));
  }

  /** Rounds of FANOUT_BATCH (40) inserts at once, as a broadcast's alarm runs; answers the ms it took. */
  async fanout(n: number, body: string): Promise<number> {
    const started = Date.now();
    for (let i = 0; i < n; i += 40) {
      await Promise.all(Array.from({ length: Math.min(40, n - i) }, (_, j) => this.env.FLOOR.getByName(`crowd${i + j}`).insert(body)));
    }
    return Date.now() - started;
  }

  async read(): Promise<string[]> {
    return this.ctx.storage.sql
      .exec<{ body: string }>("SELECT body FROM rows ORDER BY ts DESC LIMIT 50")
      .toArray()
      .map((row) => row.body);
  }
}

const json = (value: unknown) => new Response(JSON.stringify(value), { headers: { "Content-Type": "application/json" } });

export default {
  async fetch(request: Request, env: FloorEnv): Promise<Response> {
    const [, shape = "", a = "a", b = "b"] = new URL(request.url).pathname.split("/");
    const body = request.method === "POST" ? await request.text() : "";
    switch (shape) {
      case "insert":
        return json({ ts: await env.FLOOR.getByName(a).insert(body) });
      case "hop":
        return json({ ts: await env.FLOOR.getByName(a).hop(b, body) });
      case "fan":
        return json({ ts: await env.FLOOR.getByName(a).fan("fan", Number(b) || 10, body) });
      case "fanout":
        return json({ ms: await env.FLOOR.getByName("caster").fanout(Number(a) || 1000, body) });
      case "read":
        return json({ rows: await env.FLOOR.getByName(a).read() });
      default:
        return json({ ok: true });
    }
  },
};
