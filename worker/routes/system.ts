// Health, the dashboard's static files, and (in index.ts) the OpenAPI description.

import { VERSION } from "../../protocol/version.js";
import { directoryStub } from "../../durable-objects/stubs.js";
import { json } from "../http.js";
import { endpoint, type RouteTable } from "../router.js";

/** The dashboard runs only its own script and styles, and talks only to this relay. */
const DASHBOARD_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
  "font-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/** Health is unauthenticated, so its agent count is cached briefly rather than asked per request. */
let agentCount: { value: number; until: number } | null = null;

export const systemRoutes: RouteTable = {
  "/health": {
    GET: endpoint({
      summary: "Liveness, agent count and version (and auditKey, when audit entries are sealed)",
      access: "public",
      async handle(c) {
        if (agentCount === null || agentCount.until < Date.now()) {
          agentCount = { value: await directoryStub(c.env).count(), until: Date.now() + 5_000 };
        }
        // auditKey: the operator's key that audit payloads are sealed to (SPEC §13), when set.
        const audit = c.limits.auditPublicKey === null ? {} : { auditKey: c.limits.auditPublicKey };
        return json({ status: "ok", ts: new Date().toISOString(), agents: agentCount.value, version: VERSION, ...audit });
      },
    }),
  },
  "/dashboard/*": {
    GET: endpoint({
      summary: "The monitoring dashboard (static files; the page asks for the admin key)",
      access: "public",
      async handle(c) {
        // Relative links in the page resolve against /dashboard/, not /.
        if (c.url.pathname === "/dashboard") return Response.redirect(new URL("/dashboard/", c.url).toString(), 308);
        const path = c.url.pathname.replace(/^\/dashboard\/?/, "/");
        const asset = new URL(path === "/" ? "/index.html" : path, c.url);
        const response = await c.env.ASSETS.fetch(new Request(asset, c.request));
        const out = new Response(response.body, response);
        out.headers.set("Content-Security-Policy", DASHBOARD_CSP);
        out.headers.set("X-Content-Type-Options", "nosniff");
        out.headers.set("Referrer-Policy", "no-referrer");
        return out;
      },
    }),
  },
};
