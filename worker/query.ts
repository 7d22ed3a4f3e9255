// Query strings: each parameter turned into a typed value or a 400 naming it (SPEC §4.2).

import { z } from "zod";
import { failures, RelayError } from "../protocol/errors.js";
import type { Limits } from "../protocol/limits.js";
import { NAME_PATTERN, TOPIC_PATTERN, nameKey } from "../protocol/names.js";
import { parseIsoTime } from "../protocol/time.js";
import { FEED_CURSOR_PATTERN } from "../protocol/wire-schemas.js";
import type { MessageQuery } from "../durable-objects/message-query.js";
import type { Parameter } from "./router.js";

const bad = (message: string) => new RelayError(failures.badRequest(message));

export function timeParam(params: URLSearchParams, name: string): number | undefined {
  const raw = params.get(name);
  if (raw === null) return undefined;
  const ms = parseIsoTime(raw);
  if (ms === null) throw bad(`${name}: expected an ISO-8601 timestamp such as 2026-01-31T12:00:00.000Z.`);
  return ms;
}

/** 1..max; larger is clamped to max; missing is the default. */
export function limitParam(params: URLSearchParams, fallback: number, max: number): number {
  const raw = params.get("limit");
  if (raw === null) return fallback;
  if (!/^\d+$/.test(raw.trim())) throw bad(`limit: expected a whole number from 1 to ${max}.`);
  const n = Number(raw);
  if (n < 1) throw bad(`limit: expected a whole number from 1 to ${max}.`);
  return Math.min(n, max);
}

export function topicParam(params: URLSearchParams): string | undefined {
  const raw = params.get("topic");
  if (raw === null) return undefined;
  if (!TOPIC_PATTERN.test(raw)) throw bad("topic: expected 1-64 characters of A-Z a-z 0-9 _ . : / -.");
  return raw;
}

export function nameParam(params: URLSearchParams, name: string): string | undefined {
  const raw = params.get(name);
  if (raw === null) return undefined;
  if (!NAME_PATTERN.test(raw)) throw bad(`${name}: expected an agent name (2-32 characters of A-Z a-z 0-9 _ -).`);
  return nameKey(raw);
}

/** `wait`: seconds from 0, clamped to LONGPOLL_MAX_S; absent is 0. */
export function waitParam(params: URLSearchParams, limits: Limits): number {
  const raw = params.get("wait");
  if (raw === null) return 0;
  if (!/^\d+(\.\d+)?$/.test(raw.trim())) throw bad(`wait: expected a number of seconds from 0 to ${limits.longpollMaxS}.`);
  return Math.min(Number(raw), limits.longpollMaxS);
}

/** A parameter that takes one of a few words; absent is the fallback. */
export function choiceParam<T extends string>(params: URLSearchParams, name: string, choices: readonly T[], fallback: T): T {
  const raw = params.get(name);
  if (raw === null) return fallback;
  if (!(choices as readonly string[]).includes(raw)) throw bad(`${name}: expected ${choices.map((c) => `"${c}"`).join(" or ")}.`);
  return raw as T;
}

/** How a reader receives the copies it reads (SPEC §11.1): `poll` unless an MCP server says `mcp`. */
export function viaParam(params: URLSearchParams): "poll" | "mcp" {
  return choiceParam(params, "via", ["poll", "mcp"] as const, "poll");
}

/** The query of GET /messages, plus `wait` (seconds, clamped to LONGPOLL_MAX_S). */
export function messageQuery(params: URLSearchParams, limits: Limits): MessageQuery & { wait: number } {
  const sort = params.get("sort") ?? "desc";
  if (sort !== "asc" && sort !== "desc") throw bad('sort: expected "asc" or "desc".');
  const after = timeParam(params, "after") ?? timeParam(params, "since");
  const before = timeParam(params, "before");
  const wait = waitParam(params, limits);
  const query: MessageQuery & { wait: number } = { sort, limit: limitParam(params, limits.pageDefault, limits.pageMax), wait };
  if (after !== undefined) query.after = after;
  if (before !== undefined) query.before = before;
  const topic = topicParam(params);
  if (topic !== undefined) query.topic = topic;
  const from = nameParam(params, "from");
  if (from !== undefined) query.from = from;
  if (choiceParam(params, "unread", ["true", "false"] as const, "false") === "true") query.unread = true;
  return query;
}

// ---- The parameters as /openapi.json describes them (the parsers above are what enforce them) ----

const time = z.string().meta({ format: "date-time" });
const pageSize = (max: (limits: Limits) => number, more = "") => ({
  name: "limit",
  description: (limits: Limits) => `Page size: 1 to ${max(limits)} (larger is clamped), default ${limits.pageDefault}${more}`,
  schema: (limits: Limits) => z.int().min(1).default(limits.pageDefault),
});

/** Each query parameter the routes read, by what it is. */
export const queryParams = {
  sort: { name: "sort", description: "desc: newest first (default); asc: oldest first (pollers: asc with after)", schema: z.enum(["asc", "desc"]).default("desc") },
  after: { name: "after", description: "Only messages with ts strictly after this ISO time: the last page's newestTs is an exact cursor", schema: time },
  since: { name: "since", description: "Alias of after", schema: time },
  before: { name: "before", description: "Only items strictly before this ISO time", schema: time },
  limit: pageSize((limits) => limits.pageMax),
  auditLimit: pageSize((limits) => limits.auditPageMax, "; a page also stops at AUDIT_PAGE_BYTES (hasMore says more remain)"),
  topic: { name: "topic", description: "Only this topic", schema: z.string().regex(TOPIC_PATTERN) },
  from: { name: "from", description: "Only from this sender (any case)", schema: z.string().regex(NAME_PATTERN) },
  to: { name: "to", description: "Only entries with this recipient (any case; broadcast: broadcast entries)", schema: z.string().regex(NAME_PATTERN) },
  wait: {
    name: "wait",
    description: (limits: Limits) =>
      `Long-poll: when nothing matches, hold the request up to this many seconds (larger is clamped to LONGPOLL_MAX_S, here ${limits.longpollMaxS}) and answer as soon as a match arrives`,
    schema: z.number().min(0).default(0),
  },
} satisfies Record<string, Parameter>;

/** Parameters of one route each (their parsers are in the route files). */
export const routeParams = {
  afterSeq: {
    name: "afterSeq",
    description:
      "Admin feed only: items after this position in every feed shard (a page's lastSeq, passed back as it is), oldest first; unlike after, never skips or repeats an item that reached the feed late",
    schema: z.string().regex(FEED_CURSOR_PATTERN),
  },
  detail: { name: "detail", description: "Admin only: true gives [{topic, count, lastTs}] instead of topic names", schema: z.boolean().default(false) },
  minutes: { name: "minutes", description: "How many minutes back: 1 or more (larger is clamped to 1440), default 60", schema: z.int().min(1).default(60) },
  unread: {
    name: "unread",
    description: "Agent only: true gives only copies not yet delivered (with every other parameter, wait included)",
    schema: z.boolean().default(false),
  },
  via: {
    name: "via",
    description: "Agent only: how the copies answered count as delivered (their receipts' via): poll, or mcp for an MCP server reading for its agent",
    schema: z.enum(["poll", "mcp"]).default("poll"),
  },
  until: { name: "until", description: "With wait: the state every recipient must reach before the answer (default delivered)", schema: z.enum(["delivered", "acked"]).default("delivered") },
  receiptsWait: {
    name: "wait",
    description: (limits: Limits) => `Hold the request up to this many seconds (clamped to LONGPOLL_MAX_S, here ${limits.longpollMaxS}) until every recipient has reached until`,
    schema: z.number().min(0).default(0),
  },
  sender: { name: "from", description: "Admin only, and required then: the message's sender", schema: z.string().regex(NAME_PATTERN) },
} satisfies Record<string, Parameter>;
