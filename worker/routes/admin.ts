// Admin views for the dashboard (SPEC §7): throughput and delivery latency per minute, and the
// webhook health of every agent. Read from the Feed, which inboxes feed in batches.

import { failures, RelayError } from "../../protocol/errors.js";
import { adminStats, type AdminStats } from "../../protocol/wire-schemas.js";
import { feedStub } from "../../durable-objects/stubs.js";
import { json } from "../http.js";
import { routeParams } from "../query.js";
import { endpoint, type RouteTable } from "../router.js";

export const adminRoutes: RouteTable = {
  "/admin/stats": {
    GET: endpoint({
      operationId: "getAdminStats",
      summary: "Messages and delivery latency per minute (`minutes`, default 60, max 1440) and webhook health per agent",
      access: "admin",
      query: [routeParams.minutes],
      answers: { 200: { description: "Per-minute figures, oldest first, and webhook health", json: adminStats } },
      fails: ["BAD_REQUEST"],
      async handle(c) {
        const raw = c.url.searchParams.get("minutes") ?? "60";
        if (!/^\d+$/.test(raw) || Number(raw) < 1) throw new RelayError(failures.badRequest("minutes: expected a whole number from 1 to 1440."));
        const minutes = Math.min(Number(raw), 1440);
        const feed = feedStub(c.env);
        const [perMinute, webhooks] = await Promise.all([feed.perMinute(Date.now() - (minutes - 1) * 60_000), feed.webhookHealth()]);
        const body: AdminStats = { generatedAt: new Date().toISOString(), perMinute, webhooks };
        return json(body);
      },
    }),
  },
};
