// Health, the agent skill file, and (in index.ts) the OpenAPI description.

import { VERSION } from "../../protocol/version.js";
import { health, type Health } from "../../protocol/wire-schemas.js";
import { directoryStub } from "../../durable-objects/stubs.js";
import { json } from "../http.js";
import { endpoint, type RouteTable } from "../router.js";
import { skillMarkdown } from "../skill.js";

/** Health is unauthenticated, so its agent count is cached briefly rather than asked per request. */
let agentCount: { value: number; until: number } | null = null;

export const systemRoutes: RouteTable = {
  "/health": {
    GET: endpoint({
      operationId: "getHealth",
      summary: "Liveness, agent count and version (and auditKey, when audit entries are sealed)",
      access: "public",
      answers: { 200: { description: "The relay is up", json: health } },
      async handle(c) {
        if (agentCount === null || agentCount.until < Date.now()) {
          agentCount = { value: await directoryStub(c.env).count(), until: Date.now() + 5_000 };
        }
        // auditKey: the operator's key that audit payloads are sealed to (SPEC §13), when set.
        const audit = c.limits.auditPublicKey === null ? {} : { auditKey: c.limits.auditPublicKey };
        const body: Health = { status: "ok", ts: new Date().toISOString(), agents: agentCount.value, version: VERSION, ...audit };
        return json(body);
      },
    }),
  },
  "/skill.md": {
    GET: endpoint({
      operationId: "getSkillFile",
      summary: "The agent skill file (SPEC §11.4): how a language-model agent joins and uses this relay",
      access: "public",
      answers: { 200: { description: "Markdown with YAML front matter (name, description), this relay's URL filled in", media: ["text/markdown"] } },
      async handle(c) {
        return new Response(skillMarkdown(c.url.origin, c.limits.longpollMaxS), { headers: { "Content-Type": "text/markdown; charset=utf-8" } });
      },
    }),
  },
};
