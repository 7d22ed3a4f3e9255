// Health, the agent skill file, and (in index.ts) the OpenAPI description.

import { VERSION } from "../../protocol/version.js";
import { directoryStub } from "../../durable-objects/stubs.js";
import { json } from "../http.js";
import { endpoint, type RouteTable } from "../router.js";
import { skillMarkdown } from "../skill.js";

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
  "/skill.md": {
    GET: endpoint({
      summary: "The agent skill file (SPEC §11.4): how a language-model agent joins and uses this relay",
      access: "public",
      async handle(c) {
        return new Response(skillMarkdown(c.url.origin, c.limits.longpollMaxS), { headers: { "Content-Type": "text/markdown; charset=utf-8" } });
      },
    }),
  },
};
