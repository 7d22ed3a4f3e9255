// Request bodies: one schema per endpoint (named in the route table, validated once by the
// router), turning unknown JSON into a typed value or a 400 that names the field and what was
// expected. Unknown fields are refused so typos surface; an optional field sent as null counts as
// absent (SPEC §4).

import { z } from "zod";
import { sealedPayloadProblem } from "../protocol/audit.js";
import { base64ByteLength } from "../protocol/base64.js";
import type {
  AgentPatch,
  AuditRequest,
  InviteRequest,
  JsonValue,
  RegisterRequest,
  SendRequest,
} from "../protocol/envelope.js";
import { MESSAGE_TYPES } from "../protocol/envelope.js";
import { failures, RelayError } from "../protocol/errors.js";
import type { Limits } from "../protocol/limits.js";
import { NAME_PATTERN, RESERVED_NAMES, TOPIC_PATTERN, nameKey } from "../protocol/names.js";
import { displayTextProblem } from "../protocol/text.js";
import { parseIsoTime } from "../protocol/time.js";
import { webhookUrlProblem } from "../protocol/webhook-url.js";

/** null -> absent, then the schema, optional. */
function optional<T extends z.ZodType>(schema: T) {
  return z.preprocess((value) => (value === null ? undefined : value), schema.optional());
}

const agentName = z
  .string()
  .regex(NAME_PATTERN, "expected 2-32 characters of A-Z a-z 0-9 _ -")
  .refine((name) => !RESERVED_NAMES.has(nameKey(name)), "is a reserved word (broadcast, me, admin, __proto__)");

const topic = z.string().regex(TOPIC_PATTERN, "expected 1-64 characters of A-Z a-z 0-9 _ . : / -");

const base64Bytes = (bytes: number, what: string) =>
  z.string().refine((text) => base64ByteLength(text) === bytes, `expected ${what}: ${bytes} bytes, standard base64`);

const publicKey = base64Bytes(32, "an X25519 public key");
const signingKey = base64Bytes(32, "an Ed25519 public key");
const nonce = base64Bytes(24, "a NaCl nonce");
const signature = base64Bytes(64, "an Ed25519 signature");

const isoTimestamp = z.string().refine((text) => parseIsoTime(text) !== null, "expected an ISO-8601 timestamp");

/** Message ids appear in paths (/messages/:id), so they are limited to URL-safe characters. */
export const MESSAGE_ID_PATTERN = /^[A-Za-z0-9._:-]{1,128}$/;
const messageId = z.string().regex(MESSAGE_ID_PATTERN, "expected 1-128 characters of A-Z a-z 0-9 . _ : -");

/** Free text that people and agents read (owner, capabilities, labels, correlation ids). */
const shortText = (max: number) =>
  z.string().min(1).max(max).superRefine((text, ctx) => {
    const problem = displayTextProblem(text);
    if (problem !== null) ctx.addIssue({ code: "custom", message: problem });
  });

const capabilities = z.array(shortText(64)).max(32);

/** Up to 1,000 agent names, which need not exist yet; repeats (in any case) are dropped, the first spelling kept. */
const MAX_CONTACTS = 1000;
const contacts = z
  .array(z.string().regex(NAME_PATTERN, "expected agent names (2-32 characters of A-Z a-z 0-9 _ -)"))
  .max(MAX_CONTACTS, `expected at most ${MAX_CONTACTS} names`)
  .transform((names) => names.filter((name, i) => names.findIndex((other) => nameKey(other) === nameKey(name)) === i));

/**
 * A JSON object payload is kept exactly as parsed (not rebuilt), so nothing in it is rewritten;
 * its JSON Schema (for /openapi.json) says what the check accepts.
 */
const jsonObject = z
  .custom<{ [key: string]: JsonValue }>((value) => typeof value === "object" && value !== null && !Array.isArray(value), "expected a string or a JSON object")
  .meta({ type: "object", additionalProperties: {} });

const sealedPart = z.strictObject({ payload: z.string(), nonce, signature: optional(signature) });

function webhookUrl(limits: Limits) {
  return z.string().superRefine((url, ctx) => {
    const problem = webhookUrlProblem(url, limits.allowPrivateWebhooks);
    if (problem !== null) ctx.addIssue({ code: "custom", message: problem });
  });
}

function sendSchema(limits: Limits) {
  return z
    .strictObject({
      to: z.union([z.string(), z.array(z.string())], { error: 'expected a name, an array of names or "broadcast"' }),
      type: z.enum(["request", "response", "notification"], { error: `expected one of ${MESSAGE_TYPES.join(", ")}` }),
      encrypted: z.boolean(),
      payload: optional(
        z.union([z.string(), jsonObject], { error: "expected a string or a JSON object" }).meta({ description: "Text or a JSON object; base64 ciphertext when encrypted" }),
      ),
      payloads: optional(
        // zod's record silently skips a `__proto__` key; refuse it first so no entry goes unseen.
        // (A preprocess step, so /openapi.json describes the record.)
        z.preprocess((v, ctx) => {
          if (typeof v === "object" && v !== null && Object.hasOwn(v, "__proto__")) ctx.addIssue({ code: "custom", message: '"__proto__" is not a recipient' });
          return v;
        }, z.record(z.string(), sealedPart)),
      ),
      topic: optional(topic),
      correlationId: optional(shortText(256)),
      replyTo: optional(messageId),
      nonce: optional(nonce),
      signature: optional(signature),
      id: optional(messageId),
      sentAt: optional(isoTimestamp),
      ttl: optional(z.number().int().min(limits.minTtlS).max(limits.maxTtlS)),
    })
    .superRefine((body, ctx) => {
      const issue = (path: string, message: string) => ctx.addIssue({ code: "custom", path: [path], message });
      // Recipients: one name, "broadcast", or up to MULTICAST_MAX distinct names.
      if (typeof body.to === "string") {
        if (nameKey(body.to) !== "broadcast" && !NAME_PATTERN.test(body.to)) issue("to", 'expected an agent name or "broadcast"');
      } else {
        if (body.to.length === 0) issue("to", "expected at least one name");
        if (body.to.length > limits.multicastMax) issue("to", `expected at most ${limits.multicastMax} names`);
        const bad = body.to.find((name) => !NAME_PATTERN.test(name));
        if (bad !== undefined) issue("to", `"${bad}" is not an agent name`);
        const keys = body.to.map(nameKey);
        const twice = keys.find((key, i) => keys.indexOf(key) !== i);
        if (twice !== undefined) issue("to", `"${twice}" is listed twice (names compare case-insensitively)`);
      }
      if (body.payloads !== undefined) {
        if (!Array.isArray(body.to)) issue("payloads", "needs `to` to be an array of names");
        if (!body.encrypted) issue("payloads", "is only for encrypted messages");
        for (const field of ["payload", "nonce", "signature"] as const) {
          if (body[field] !== undefined) issue(field, "must be left out when `payloads` is used");
        }
        if (Array.isArray(body.to)) {
          const wanted = new Set(body.to.map(nameKey));
          const given = new Set(Object.keys(body.payloads).map(nameKey));
          const count = Object.keys(body.payloads).length;
          if (count !== wanted.size || given.size !== count || ![...given].every((key) => wanted.has(key))) {
            issue("payloads", "needs exactly one entry per recipient in `to`");
          }
        }
        return;
      }
      if (body.payload === undefined) issue("payload", "is required");
      if (body.encrypted) {
        if (typeof body.payload !== "string") issue("payload", "must be a base64 string when encrypted");
        if (body.nonce === undefined) issue("nonce", "is required when encrypted");
      }
    });
}

/**
 * POST /audit (SPEC §13). `to` is what the message's `to` was: a name, up to MULTICAST_MAX
 * distinct names, or "broadcast". A sealed payload is checked for its shape only (the relay holds
 * no key that opens it); under AUDIT_REQUIRE_SEALED an unsealed one is refused.
 */
function auditSchema(limits: Limits) {
  return z
    .strictObject({
      messageId: messageId,
      direction: z.enum(["sent", "received"]),
      from: agentName,
      to: z.union([z.string(), z.array(z.string())], { error: 'expected a name, an array of names or "broadcast"' }),
      topic: optional(topic),
      correlationId: optional(shortText(256)),
      payload: z.custom<JsonValue>((value) => value !== undefined, "is required").meta({ description: "Any JSON value (sealed: a base64 string)" }),
      sealed: optional(z.boolean()),
      ts: isoTimestamp,
    })
    .superRefine((body, ctx) => {
      const issue = (path: string, message: string) => ctx.addIssue({ code: "custom", path: [path], message });
      const names = typeof body.to === "string" ? (nameKey(body.to) === "broadcast" ? [] : [body.to]) : body.to;
      if (Array.isArray(body.to) && body.to.length === 0) issue("to", "expected at least one name");
      if (names.length > limits.multicastMax) issue("to", `expected at most ${limits.multicastMax} names`);
      const bad = names.find((name) => !NAME_PATTERN.test(name) || RESERVED_NAMES.has(nameKey(name)));
      if (bad !== undefined) issue("to", `${JSON.stringify(bad.length > 40 ? `${bad.slice(0, 40)}…` : bad)} is not an agent name`);
      const keys = names.map(nameKey);
      const twice = keys.find((key, i) => keys.indexOf(key) !== i);
      if (twice !== undefined) issue("to", `"${twice}" is listed twice (names compare case-insensitively)`);
      if (body.sealed === true) {
        const problem = sealedPayloadProblem(body.payload);
        if (problem !== null) issue("payload", problem);
      } else if (limits.auditRequireSealed) {
        issue("payload", "this relay accepts sealed audit payloads only (AUDIT_REQUIRE_SEALED): seal it to the auditKey of GET /health and set sealed: true");
      }
    });
}

function registerFields(limits: Limits) {
  return {
    name: agentName,
    owner: optional(shortText(128)),
    publicKey: optional(publicKey),
    signingKey: optional(signingKey),
    capabilities: optional(capabilities),
    webhookUrl: optional(webhookUrl(limits)),
  };
}

function schemas(limits: Limits) {
  return {
    send: sendSchema(limits),
    register: z.strictObject(registerFields(limits)),
    selfRegister: z.strictObject({ invite: shortText(128), ...registerFields(limits) }),
    patch: z.strictObject({
      // Here null is meaningful: it clears the webhook.
      webhookUrl: webhookUrl(limits).nullable().optional(),
      capabilities: optional(capabilities),
      publicKey: optional(publicKey),
      signingKey: optional(signingKey),
      keyChangeSignature: optional(signature),
      deleteOnDelivery: optional(z.boolean()),
      accept: optional(z.enum(["anyone", "contacts"], { error: 'expected "anyone" or "contacts"' })),
      contacts: optional(contacts),
      owner: optional(shortText(128)),
    }),
    invite: z.strictObject({
      label: optional(shortText(128)),
      maxUses: optional(z.number().int().min(1).max(100_000)),
      expiresInHours: optional(z.number().positive().max(24 * 366)),
    }),
    ack: z.strictObject({ ids: z.array(z.string()).min(1).max(limits.pageMax) }),
    audit: auditSchema(limits),
  };
}

type Schemas = ReturnType<typeof schemas>;

const cache = new WeakMap<Limits, Schemas>();

function schemasFor(limits: Limits): Schemas {
  let found = cache.get(limits);
  if (!found) cache.set(limits, (found = schemas(limits)));
  return found;
}

/** Each endpoint's body schema, by name, for the route table. */
export const bodies = {
  send: (limits: Limits): z.ZodType<SendRequest> => schemasFor(limits).send,
  register: (limits: Limits): z.ZodType<RegisterRequest> => schemasFor(limits).register,
  selfRegister: (limits: Limits): z.ZodType<RegisterRequest & { invite: string }> => schemasFor(limits).selfRegister,
  patch: (limits: Limits): z.ZodType<AgentPatch> => schemasFor(limits).patch,
  invite: (limits: Limits): z.ZodType<InviteRequest> => schemasFor(limits).invite,
  ack: (limits: Limits): z.ZodType<{ ids: string[] }> => schemasFor(limits).ack,
  audit: (limits: Limits): z.ZodType<AuditRequest> => schemasFor(limits).audit,
};

function describe(issue: z.core.$ZodIssue): string {
  const field = issue.path.map(String).join(".");
  if (issue.code === "unrecognized_keys") {
    const keys = issue.keys.map((key) => `"${key}"`).join(", ");
    return `Unknown field${issue.keys.length > 1 ? "s" : ""} ${keys}${field ? ` in ${field}` : ""}.`;
  }
  if (issue.code === "invalid_type" && issue.input === undefined) return `${field || "body"}: is required.`;
  return `${field || "body"}: ${issue.message}.`;
}

/** The typed value, or a 400 naming the first problem. */
export function validate<T>(schema: z.ZodType<T>, body: unknown): T {
  const result = schema.safeParse(body, { reportInput: true });
  if (result.success) return result.data;
  throw new RelayError(failures.badRequest(describe(result.error.issues[0]!)));
}
