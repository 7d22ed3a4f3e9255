// The audit log (SPEC §13): agents post entries about their own messages, with the payload as
// they choose to disclose it (plaintext, or sealed to the operator's key); the admin reads and
// clears them. Rate, quota and order are the Audit shards' (durable-objects/audit.ts); the log is
// read and cleared over all of them (worker/shards/audit.ts).

import { z } from "zod";
import { canonicalJson } from "../../protocol/canonical.js";
import { sha256Hex } from "../../protocol/digest.js";
import { failures, RelayError, unwrap } from "../../protocol/errors.js";
import { nameKey } from "../../protocol/names.js";
import { auditEntry, auditPage, deletedCount } from "../../protocol/wire-schemas.js";
import type { AuditQuery } from "../../durable-objects/audit.js";
import { auditStub } from "../../durable-objects/stubs.js";
import { json } from "../http.js";
import { limitParam, nameParam, queryParams, timeParam, topicParam } from "../query.js";
import { endpoint, type RouteTable } from "../router.js";
import { bodies } from "../schemas.js";
import { auditShardOf, clearAudit, parseAuditBefore, readAudit } from "../shards/audit.js";

/** Entries are stored as JSON text and answered as they are. */
function jsonText(text: string, status = 200): Response {
  return new Response(text, { status, headers: { "Content-Type": "application/json; charset=utf-8" } });
}

export const auditRoutes: RouteTable = {
  "/audit": {
    POST: endpoint({
      operationId: "logAuditEntry",
      summary: "Log an audit entry about a message the caller sent or received (payload kept as posted, or sealed)",
      access: "agent",
      body: bodies.audit,
      answers: { 201: { description: "Logged: the entry as kept", json: auditEntry } },
      fails: ["FORBIDDEN", "RATE_LIMITED", "AUDIT_FULL"],
      async handle(c) {
        const { caller, body: entry } = c;
        const me = nameKey(caller.name);
        const recipients = (Array.isArray(entry.to) ? entry.to : [entry.to]).map(nameKey);
        if (entry.direction === "sent" && nameKey(entry.from) !== me) {
          throw new RelayError(failures.auditNotSender);
        }
        if (entry.direction === "received" && !recipients.includes(me) && !recipients.includes("broadcast")) {
          throw new RelayError(failures.auditNotRecipient);
        }
        const hashed = typeof entry.payload === "string" ? entry.payload : canonicalJson(entry.payload);
        const { shard, quota } = auditShardOf(me, c.limits);
        const stored = await auditStub(c.env, shard).append(
          {
            messageId: entry.messageId,
            direction: entry.direction,
            from: entry.from,
            to: entry.to,
            topic: entry.topic ?? null,
            correlationId: entry.correlationId ?? null,
            payload: entry.payload,
            payloadSha256: await sha256Hex(hashed),
            sealed: entry.sealed === true,
            ts: entry.ts,
            loggedBy: caller.name,
          },
          me,
          quota,
        );
        return jsonText(unwrap(stored), 201);
      },
    }),
    GET: endpoint({
      operationId: "listAuditEntries",
      summary: "Read audit entries, newest first: {entries, cursor, hasMore} (since, before, from, to, topic, limit <= 200)",
      access: "admin",
      query: [
        { ...queryParams.since, description: "Only entries logged (loggedAt) strictly after this ISO time" },
        {
          name: "before",
          description: "Only entries logged strictly before this ISO time, or after the page whose cursor this is (pass the previous page's cursor as it is)",
          schema: z.string(),
        },
        { ...queryParams.from, description: "Only entries about messages from this sender (any case)" },
        queryParams.to,
        queryParams.topic,
        queryParams.auditLimit,
      ],
      answers: { 200: { description: "A page of entries, newest first", json: auditPage } },
      fails: ["BAD_REQUEST"],
      async handle(c) {
        const params = c.url.searchParams;
        const query: Omit<AuditQuery, "before"> = { limit: limitParam(params, c.limits.pageDefault, c.limits.auditPageMax) };
        const since = timeParam(params, "since");
        const rawBefore = params.get("before");
        const from = nameParam(params, "from");
        const to = nameParam(params, "to");
        const topic = topicParam(params);
        if (since !== undefined) query.since = since;
        if (from !== undefined) query.from = from;
        if (to !== undefined) query.to = to;
        if (topic !== undefined) query.topic = topic;
        const page = await readAudit(c.env, c.limits, query, rawBefore === null ? undefined : parseAuditBefore(rawBefore));
        return jsonText(`{"entries":[${page.entries.join(",")}],"cursor":${JSON.stringify(page.cursor)},"hasMore":${page.hasMore}}`);
      },
    }),
    DELETE: endpoint({
      operationId: "deleteAuditEntries",
      summary: "Delete audit entries logged before `before` (required): {deleted}",
      access: "admin",
      query: [{ ...queryParams.before, description: "Delete the entries logged before this ISO time", required: true }],
      answers: { 200: { description: "How many entries were deleted", json: deletedCount } },
      fails: ["BAD_REQUEST"],
      async handle(c) {
        const before = timeParam(c.url.searchParams, "before");
        if (before === undefined) throw new RelayError(failures.badRequest("before: required, an ISO-8601 timestamp."));
        return json({ deleted: await clearAudit(c.env, c.limits, before) });
      },
    }),
  },
};
