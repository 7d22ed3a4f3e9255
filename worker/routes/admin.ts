// Admin views for the dashboard (SPEC §7): throughput and delivery latency per minute, the
// webhook health of every agent and the agents with something undelivered (oldest first), merged
// over the feed shards, which inboxes feed in batches; and
// the requests that reached each shared object (the Directory and every shard).

import { failures, RelayError } from "../../protocol/errors.js";
import { adminStats, type AdminStats } from "../../protocol/wire-schemas.js";
import { json } from "../http.js";
import { routeParams } from "../query.js";
import { endpoint, type RouteTable } from "../router.js";
import { readStats } from "../shards/stats.js";

export const adminRoutes: RouteTable = {
  "/admin/stats": {
    GET: endpoint({
      operationId: "getAdminStats",
      summary: "Messages and delivery latency per minute (`minutes`, default 60, max 1440), webhook health per agent, and the agents with undelivered messages",
      access: "admin",
      query: [routeParams.minutes],
      answers: { 200: { description: "Per-minute figures, oldest first, webhook health, backlog per agent, and the load on each shared object", json: adminStats } },
      fails: ["BAD_REQUEST"],
      async handle(c) {
        const raw = c.url.searchParams.get("minutes") ?? "60";
        if (!/^\d+$/.test(raw) || Number(raw) < 1) throw new RelayError(failures.badRequest("minutes: expected a whole number from 1 to 1440."));
        const minutes = Math.min(Number(raw), 1440);
        const generatedAt = new Date().toISOString();
        const body: AdminStats = { generatedAt, ...(await readStats(c.env, c.limits, minutes)) };
        return json(body);
      },
    }),
  },
};
