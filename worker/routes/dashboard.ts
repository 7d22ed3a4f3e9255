// The dashboard's static files (SPEC §7), bundled into the Worker as text (wrangler.toml
// [[rules]]) and served from memory with a strict Content-Security-Policy. Not Workers Static
// Assets: with assets every request of the API would pass the asset router first, which cost a
// third of a millisecond of CPU per request here (bench/cpu.ts) for a dozen small files.

import { failures, RelayError } from "../../protocol/errors.js";
import api from "../../dashboard/api.js";
import app from "../../dashboard/app.js";
import auditSeal from "../../dashboard/audit-seal.js";
import audit from "../../dashboard/audit.js";
import charts from "../../dashboard/charts.js";
import dom from "../../dashboard/dom.js";
import feedList from "../../dashboard/feed-list.js";
import feedLoop from "../../dashboard/feed-loop.js";
import format from "../../dashboard/format.js";
import index from "../../dashboard/index.html";
import nacl from "../../dashboard/nacl-fast.min.js";
import panelViews from "../../dashboard/panel-views.js";
import panels from "../../dashboard/panels.js";
import style from "../../dashboard/style.css";
import { endpoint, type RouteContext, type RouteTable } from "../router.js";

const JS = "text/javascript; charset=utf-8";

/** Every file of dashboard/, by its path under /dashboard/ (a test checks none is missing). */
export const DASHBOARD_FILES: Record<string, { body: string; type: string }> = {
  "index.html": { body: index, type: "text/html; charset=utf-8" },
  "style.css": { body: style, type: "text/css; charset=utf-8" },
  "api.js": { body: api, type: JS },
  "app.js": { body: app, type: JS },
  "audit-seal.js": { body: auditSeal, type: JS },
  "audit.js": { body: audit, type: JS },
  "charts.js": { body: charts, type: JS },
  "dom.js": { body: dom, type: JS },
  "feed-list.js": { body: feedList, type: JS },
  "feed-loop.js": { body: feedLoop, type: JS },
  "format.js": { body: format, type: JS },
  "nacl-fast.min.js": { body: nacl, type: JS },
  "panel-views.js": { body: panelViews, type: JS },
  "panels.js": { body: panels, type: JS },
};

/** The dashboard runs only its own script and styles, and talks only to this relay. */
const DASHBOARD_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
  "font-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

async function serveDashboard(c: RouteContext<"public">): Promise<Response> {
  // Relative links in the page resolve against /dashboard/, not /.
  if (c.url.pathname === "/dashboard") return Response.redirect(new URL("/dashboard/", c.url).toString(), 308);
  const name = c.url.pathname.replace(/^\/dashboard\/?/, "") || "index.html";
  const file = Object.hasOwn(DASHBOARD_FILES, name) ? DASHBOARD_FILES[name] : undefined;
  if (!file) throw new RelayError(failures.noRoute(c.url.pathname));
  return new Response(file.body, {
    headers: {
      "Content-Type": file.type,
      "Content-Security-Policy": DASHBOARD_CSP,
      "X-Content-Type-Options": "nosniff",
      "Referrer-Policy": "no-referrer",
    },
  });
}

/** The media types the dashboard's files are served as. */
const MEDIA_TYPES = [...new Set(Object.values(DASHBOARD_FILES).map((file) => file.type.split(";")[0]!))];

// Two entries for the API description (the redirect, the files); one handler, because
// itty-router's "/dashboard" also matches "/dashboard/".
export const dashboardRoutes: RouteTable = {
  "/dashboard": {
    GET: endpoint({
      operationId: "openDashboard",
      summary: "The monitoring dashboard: redirects to /dashboard/",
      access: "public",
      answers: { 308: { description: "To /dashboard/, so the page's relative links resolve", headers: { Location: "The dashboard's page: /dashboard/" } } },
      handle: serveDashboard,
    }),
  },
  "/dashboard/*": {
    GET: endpoint({
      operationId: "getDashboardFile",
      summary: "The monitoring dashboard's files (the page asks for the admin key)",
      access: "public",
      answers: { 200: { description: "The file (empty path: index.html), with a strict Content-Security-Policy", media: MEDIA_TYPES } },
      fails: ["NOT_FOUND"],
      handle: serveDashboard,
    }),
  },
};
