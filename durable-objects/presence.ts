// A presence shard: when each agent whose name falls in it was last seen. Every inbox pushes its
// agent's lastSeen here at most once per PRESENCE_PUSH_S (views.ts), so with PRESENCE_SHARDS
// shards each takes active agents / PRESENCE_PUSH_S / PRESENCE_SHARDS pushes per second, and the
// Directory takes none. GET /agents reads every shard and merges (worker/shards/presence.ts).

import { DurableObject } from "cloudflare:workers";
import { RequestMeter, type MeterReading } from "./request-meter.js";
import { migrate } from "./schema.js";

const PRESENCE_STEPS = [
  `CREATE TABLE IF NOT EXISTS presence (
  agent TEXT PRIMARY KEY,
  last_seen INTEGER NOT NULL
) WITHOUT ROWID;`,
];

export class PresenceObject extends DurableObject<Env> {
  private readonly sql: SqlStorage;
  private readonly meter = new RequestMeter();

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    migrate(this.sql, "presence", PRESENCE_STEPS);
  }

  /** An inbox's push: its agent (name key) was last seen at `lastSeen` (epoch ms). Never moves back. */
  async record(agent: string, lastSeen: number): Promise<void> {
    this.meter.count();
    this.sql.exec(
      `INSERT INTO presence (agent, last_seen) VALUES (?, ?)
       ON CONFLICT(agent) DO UPDATE SET last_seen = MAX(last_seen, excluded.last_seen)`,
      agent, lastSeen,
    );
  }

  /** One agent's lastSeen, or null. */
  async lastSeen(agent: string): Promise<number | null> {
    this.meter.count();
    return this.sql.exec<{ at: number }>("SELECT last_seen AS at FROM presence WHERE agent = ?", agent).toArray()[0]?.at ?? null;
  }

  /** Every agent this shard knows (name key) and its lastSeen (the agent list is answered whole). */
  async all(): Promise<{ agent: string; at: number }[]> {
    this.meter.count();
    return this.sql.exec<{ agent: string; at: number }>("SELECT agent, last_seen AS at FROM presence").toArray();
  }

  /** The agent was removed: a later registration of its name starts unseen. */
  async forget(agent: string): Promise<void> {
    this.meter.count();
    this.sql.exec("DELETE FROM presence WHERE agent = ?", agent);
  }

  async meterReading(): Promise<MeterReading> {
    return this.meter.reading();
  }
}
