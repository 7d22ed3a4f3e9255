// Hostile input across the whole API (SPEC §1.5, §3, §4, §9): wrong types, absurd numbers,
// deep nesting, prototype keys, odd characters in names and topics, path tricks, broken
// Authorization headers, bodies that are not JSON, and multicast / encryption mistakes.
//
// The catalog below is one table per area. Every row must answer a 4xx with exactly the error
// shape `{error, code}` (plus `names`/`retryAfter` where the spec allows them), with the code
// SPEC §9 gives, and must change nothing: every inbox, agent record, audit entry and invite this
// file owns is read before and after the request and compared.

import { beforeAll, describe, expect, it } from "vitest";
import type { AgentPublic, AuditEntry, Envelope, Invite, MessagePage, SendResponse } from "../../protocol/envelope.js";
import type { ErrorBody } from "../../protocol/errors.js";
import {
  ADMIN_KEY,
  base64Bytes,
  call,
  inbox,
  register,
  send,
  textMessage,
  uniqueName,
  type Reply,
  type TestAgent,
} from "../support/relay.js";

/** SPEC §9: the status of each error code a hostile request may get. */
const SPEC_STATUS = {
  BAD_REQUEST: 400,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  UNKNOWN_RECIPIENT: 404,
  METHOD_NOT_ALLOWED: 405,
  CONFLICT: 409,
  PAYLOAD_TOO_LARGE: 413,
} as const;
type Code = keyof typeof SPEC_STATUS;

/** The fields an error body may have (SPEC §1.5, §9). */
const ERROR_FIELDS = new Set(["error", "code", "names", "retryAfter"]);

/** Agents, an invite and an audit entry owned by this file, created once. */
interface World {
  alice: TestAgent;
  bob: TestAgent;
  carol: TestAgent;
  invite: string;
  /** The id of a message alice sent bob before any hostile request. */
  seedId: string;
}

interface HostileCase {
  name: string;
  request: (w: World) => Promise<Reply>;
  code: Code;
  /** Agent names that must not exist afterwards (attempted registrations). */
  absent?: (w: World) => string[];
  /** A word the error message must contain: the field at fault. */
  mentions?: string;
  /** The state this request could corrupt, when not its area's default. */
  watch?: View[];
}

/** Every label of an invite created by a hostile request in this file starts with this. */
const MARK = uniqueName("hinv");

// ---- Request builders ----

const sendBody = (build: (w: World) => unknown, headers: Record<string, string> = {}) => (w: World) => send(w.alice, build(w), headers);
/** A valid text message from alice to bob, with some fields replaced or added. */
const toBob = (extra: Record<string, unknown>) => sendBody((w) => ({ ...textMessage(w.bob.name, "hostile"), ...extra }));
/** A raw body (not produced by JSON.stringify) sent to POST /messages by alice. */
const rawSend = (raw: string | Uint8Array | ((w: World) => string), contentType?: string) => (w: World) =>
  call("POST", "/messages", {
    key: w.alice.apiKey,
    raw: typeof raw === "function" ? raw(w) : raw,
    headers: contentType === undefined ? {} : { "Content-Type": contentType },
  });
/** A valid send from alice to bob with a literal Authorization header instead of alice's key. */
const sendWithAuth = (authorization: string) => (w: World) =>
  call("POST", "/messages", { json: textMessage(w.bob.name, "hostile"), headers: { Authorization: authorization } });
const bobPolls = (query: string) => (w: World) => inbox(w.bob, query);
const bobAcks = (build: (w: World) => unknown) => (w: World) => call("POST", "/messages/ack", { key: w.bob.apiKey, json: build(w) });
const adminRegisters = (build: () => unknown) => () => call("POST", "/agents", { key: ADMIN_KEY, json: build() });
const selfRegisters = (build: (w: World) => unknown) => (w: World) => call("POST", "/register", { json: build(w) });
const alicePatches = (build: (w: World) => unknown) => (w: World) =>
  call("PATCH", `/agents/${w.alice.name}`, { key: w.alice.apiKey, json: build(w) });
const aliceAudits = (build: (w: World) => unknown) => (w: World) => call("POST", "/audit", { key: w.alice.apiKey, json: build(w) });
const auditEntry = (w: World, extra: Record<string, unknown> = {}) => ({
  messageId: w.seedId,
  direction: "sent",
  from: w.alice.name,
  to: w.bob.name,
  payload: "hostile",
  ts: new Date().toISOString(),
  ...extra,
});
const adminInvites = (body: unknown) => () => call("POST", "/invites", { key: ADMIN_KEY, json: body });
const admin = (method: string, path: string | ((w: World) => string)) => (w: World) =>
  call(method, typeof path === "function" ? path(w) : path, { key: ADMIN_KEY });
const asBob = (method: string, path: string) => (w: World) => call(method, path, { key: w.bob.apiKey });

/** A valid send body with an extra key at the top level, as raw JSON (so `__proto__` is a real key). */
const withTopLevelKey = (key: string) => (w: World) =>
  `{"to":${JSON.stringify(w.bob.name)},"type":"notification","encrypted":false,"payload":"hostile",${JSON.stringify(key)}:{"polluted":true}}`;

/** `{d: {d: ... "deep" ...}}`, `levels` objects deep. */
function nested(levels: number): unknown {
  let value: unknown = "deep";
  for (let i = 0; i < levels; i++) value = { d: value };
  return value;
}

/** A string whose bytes are the UTF-8 encoding of `text`, as a header value carries it. */
function utf8AsLatin1(text: string): string {
  return String.fromCharCode(...new TextEncoder().encode(text));
}

/** A registration body with a fresh name; the name is listed in `absent` by the rows below. */
const freshNames = new Map<string, string>();
function fresh(label: string): string {
  let name = freshNames.get(label);
  if (name === undefined) freshNames.set(label, (name = uniqueName("hreg")));
  return name;
}

/** 101 distinct, well-formed names (MULTICAST_MAX is 100 in this project). */
const tooManyNames = (w: World) => [w.bob.name, ...Array.from({ length: 100 }, (_, i) => `nobody_${i}`)];

const sealed = () => ({ payload: base64Bytes(40), nonce: base64Bytes(24) });

// ---- The catalog ----

const SEND_BODY: HostileCase[] = [
  { name: "to as a number", request: toBob({ to: 42 }), code: "BAD_REQUEST", mentions: "to" },
  { name: "to as an object", request: sendBody((w) => textMessage({ name: w.bob.name })), code: "BAD_REQUEST", mentions: "to" },
  { name: "to as a boolean", request: toBob({ to: true }), code: "BAD_REQUEST", mentions: "to" },
  { name: "to as null (required)", request: toBob({ to: null }), code: "BAD_REQUEST", mentions: "to" },
  { name: "to left out", request: sendBody(() => ({ type: "notification", encrypted: false, payload: "x" })), code: "BAD_REQUEST", mentions: "to" },
  { name: "to as an empty string", request: toBob({ to: "" }), code: "BAD_REQUEST", mentions: "to" },
  { name: "to of one character", request: toBob({ to: "b" }), code: "BAD_REQUEST", mentions: "to" },
  { name: "to of 33 characters", request: toBob({ to: "b".repeat(33) }), code: "BAD_REQUEST", mentions: "to" },
  { name: "to with a space", request: sendBody((w) => textMessage(`${w.bob.name} x`)), code: "BAD_REQUEST", mentions: "to" },
  { name: "to with a control character", request: sendBody((w) => textMessage(`${w.bob.name.slice(0, 8)}\u0000`)), code: "BAD_REQUEST", mentions: "to" },
  { name: "to with an emoji", request: sendBody((w) => textMessage(`${w.bob.name.slice(0, 8)}🙂`)), code: "BAD_REQUEST", mentions: "to" },
  {
    name: "to spelled with a Cyrillic look-alike letter",
    request: sendBody((w) => textMessage(w.bob.name.replace(/^h/, "һ"))), // U+04BB looks like h
    code: "BAD_REQUEST",
    mentions: "to",
  },
  { name: "to as an empty array", request: toBob({ to: [] }), code: "BAD_REQUEST", mentions: "to" },
  { name: "to with a number inside the array", request: sendBody((w) => textMessage([w.bob.name, 7])), code: "BAD_REQUEST", mentions: "to" },
  {
    name: "to listing one recipient twice in different case",
    request: sendBody((w) => textMessage([w.bob.name, w.bob.name.toUpperCase()])),
    code: "BAD_REQUEST",
    mentions: "to",
  },
  { name: "to listing 101 recipients (over MULTICAST_MAX)", request: sendBody((w) => textMessage(tooManyNames(w))), code: "BAD_REQUEST", mentions: "to" },
  { name: "to with an invalid name among valid ones", request: sendBody((w) => textMessage([w.bob.name, "bad name"])), code: "BAD_REQUEST", mentions: "to" },
  // "broadcast" is a reserved word, never an agent's name: inside an array it is an unknown recipient.
  { name: '"broadcast" inside an array', request: sendBody((w) => textMessage([w.bob.name, "broadcast"])), code: "UNKNOWN_RECIPIENT", mentions: "broadcast" },
  { name: "to an agent that does not exist", request: sendBody(() => textMessage(uniqueName("ghost"))), code: "UNKNOWN_RECIPIENT" },
  {
    name: "multicast with one unknown name",
    request: sendBody((w) => textMessage([w.bob.name, w.carol.name, uniqueName("ghost")])),
    code: "UNKNOWN_RECIPIENT",
    watch: ["bob's inbox", "carol's inbox"],
  },
  { name: 'to "constructor" (a prototype property name)', request: sendBody(() => textMessage("constructor")), code: "UNKNOWN_RECIPIENT" },
  { name: 'to "__proto__" (a prototype property name)', request: sendBody(() => textMessage("__proto__")), code: "UNKNOWN_RECIPIENT" },
  { name: "type as a number", request: toBob({ type: 7 }), code: "BAD_REQUEST", mentions: "type" },
  { name: "type in the wrong case", request: toBob({ type: "REQUEST" }), code: "BAD_REQUEST", mentions: "type" },
  { name: "type not in the list", request: toBob({ type: "chat" }), code: "BAD_REQUEST", mentions: "type" },
  { name: "type as null (required)", request: toBob({ type: null }), code: "BAD_REQUEST", mentions: "type" },
  { name: "encrypted as a string", request: toBob({ encrypted: "false" }), code: "BAD_REQUEST", mentions: "encrypted" },
  { name: "encrypted as 0", request: toBob({ encrypted: 0 }), code: "BAD_REQUEST", mentions: "encrypted" },
  { name: "encrypted as null (required)", request: toBob({ encrypted: null }), code: "BAD_REQUEST", mentions: "encrypted" },
  { name: "payload as a number", request: toBob({ payload: 42 }), code: "BAD_REQUEST", mentions: "payload" },
  { name: "payload as an array", request: toBob({ payload: ["a", "b"] }), code: "BAD_REQUEST", mentions: "payload" },
  { name: "payload as a boolean", request: toBob({ payload: true }), code: "BAD_REQUEST", mentions: "payload" },
  { name: "payload as null (required)", request: toBob({ payload: null }), code: "BAD_REQUEST", mentions: "payload" },
  { name: "payload nested 100 levels deep", request: toBob({ payload: nested(100) }), code: "BAD_REQUEST" },
  { name: "payload of arrays nested 100 levels deep", request: rawSend((w) => `{"to":"${w.bob.name}","type":"notification","encrypted":false,"payload":{"a":${"[".repeat(100)}${"]".repeat(100)}}}`), code: "BAD_REQUEST" },
  { name: "topic as a number", request: toBob({ topic: 5 }), code: "BAD_REQUEST", mentions: "topic" },
  { name: "topic as an empty string", request: toBob({ topic: "" }), code: "BAD_REQUEST", mentions: "topic" },
  { name: "topic of 65 characters", request: toBob({ topic: "t".repeat(65) }), code: "BAD_REQUEST", mentions: "topic" },
  { name: "topic with a space", request: toBob({ topic: "two words" }), code: "BAD_REQUEST", mentions: "topic" },
  { name: "topic with an emoji", request: toBob({ topic: "sync🙂" }), code: "BAD_REQUEST", mentions: "topic" },
  { name: "topic with a control character", request: toBob({ topic: "sync\u0007" }), code: "BAD_REQUEST", mentions: "topic" },
  { name: "topic with a newline", request: toBob({ topic: "sync\nX-Injected: 1" }), code: "BAD_REQUEST", mentions: "topic" },
  { name: "correlationId as a number", request: toBob({ correlationId: 123 }), code: "BAD_REQUEST", mentions: "correlationId" },
  { name: "correlationId empty", request: toBob({ correlationId: "" }), code: "BAD_REQUEST", mentions: "correlationId" },
  { name: "correlationId of 257 characters", request: toBob({ correlationId: "c".repeat(257) }), code: "BAD_REQUEST", mentions: "correlationId" },
  { name: "replyTo with a path", request: toBob({ replyTo: "../../etc/passwd" }), code: "BAD_REQUEST", mentions: "replyTo" },
  { name: "replyTo as a number", request: toBob({ replyTo: 5 }), code: "BAD_REQUEST", mentions: "replyTo" },
  { name: "id with a space", request: toBob({ id: "has space" }), code: "BAD_REQUEST", mentions: "id" },
  { name: "id with a slash", request: toBob({ id: "a/b" }), code: "BAD_REQUEST", mentions: "id" },
  { name: "id of 129 characters", request: toBob({ id: "i".repeat(129) }), code: "BAD_REQUEST", mentions: "id" },
  { name: "id as a number", request: toBob({ id: 123 }), code: "BAD_REQUEST", mentions: "id" },
  { name: "id empty", request: toBob({ id: "" }), code: "BAD_REQUEST", mentions: "id" },
  { name: "sentAt as a number", request: toBob({ sentAt: 1_700_000_000 }), code: "BAD_REQUEST", mentions: "sentAt" },
  { name: "sentAt not a timestamp", request: toBob({ sentAt: "yesterday" }), code: "BAD_REQUEST", mentions: "sentAt" },
  { name: "ttl -1", request: toBob({ ttl: -1 }), code: "BAD_REQUEST", mentions: "ttl" },
  { name: "ttl 0", request: toBob({ ttl: 0 }), code: "BAD_REQUEST", mentions: "ttl" },
  { name: "ttl 59 (below the minimum)", request: toBob({ ttl: 59 }), code: "BAD_REQUEST", mentions: "ttl" },
  { name: "ttl one second over 90 days", request: toBob({ ttl: 90 * 86400 + 1 }), code: "BAD_REQUEST", mentions: "ttl" },
  { name: "ttl 1e308", request: toBob({ ttl: 1e308 }), code: "BAD_REQUEST", mentions: "ttl" },
  { name: "ttl 2**53", request: toBob({ ttl: 2 ** 53 }), code: "BAD_REQUEST", mentions: "ttl" },
  { name: "ttl 1e999 (Infinity once parsed)", request: rawSend((w) => `{"to":"${w.bob.name}","type":"notification","encrypted":false,"payload":"x","ttl":1e999}`), code: "BAD_REQUEST", mentions: "ttl" },
  { name: "ttl -1e999 (-Infinity once parsed)", request: rawSend((w) => `{"to":"${w.bob.name}","type":"notification","encrypted":false,"payload":"x","ttl":-1e999}`), code: "BAD_REQUEST", mentions: "ttl" },
  { name: "ttl not a whole number", request: toBob({ ttl: 3600.5 }), code: "BAD_REQUEST", mentions: "ttl" },
  { name: 'ttl as the string "86400"', request: toBob({ ttl: "86400" }), code: "BAD_REQUEST", mentions: "ttl" },
  { name: 'ttl as the string "NaN"', request: toBob({ ttl: "NaN" }), code: "BAD_REQUEST", mentions: "ttl" },
  { name: 'ttl as the string "Infinity"', request: toBob({ ttl: "Infinity" }), code: "BAD_REQUEST", mentions: "ttl" },
  { name: "ttl as an object", request: toBob({ ttl: { seconds: 60 } }), code: "BAD_REQUEST", mentions: "ttl" },
  { name: "an unknown field", request: toBob({ colour: "blue" }), code: "BAD_REQUEST", mentions: "colour" },
  { name: "a misspelt field (recipient)", request: toBob({ recipient: "x" }), code: "BAD_REQUEST", mentions: "recipient" },
  { name: "a from field (the relay sets it)", request: toBob({ from: "admin" }), code: "BAD_REQUEST", mentions: "from" },
  { name: "a top-level __proto__ key", request: rawSend(withTopLevelKey("__proto__"), "application/json"), code: "BAD_REQUEST", mentions: "__proto__" },
  { name: "a top-level constructor key", request: rawSend(withTopLevelKey("constructor"), "application/json"), code: "BAD_REQUEST", mentions: "constructor" },
  { name: "encrypted:true without a nonce", request: toBob({ encrypted: true, payload: base64Bytes(40) }), code: "BAD_REQUEST", mentions: "nonce" },
  { name: "encrypted:true with an object payload", request: toBob({ encrypted: true, payload: { text: "hi" }, nonce: base64Bytes(24) }), code: "BAD_REQUEST", mentions: "payload" },
  { name: "a nonce of 23 bytes", request: toBob({ encrypted: true, payload: base64Bytes(40), nonce: base64Bytes(23) }), code: "BAD_REQUEST", mentions: "nonce" },
  { name: "a nonce that is not base64", request: toBob({ encrypted: true, payload: base64Bytes(40), nonce: "!".repeat(32) }), code: "BAD_REQUEST", mentions: "nonce" },
  { name: "a nonce as a number", request: toBob({ encrypted: true, payload: base64Bytes(40), nonce: 12 }), code: "BAD_REQUEST", mentions: "nonce" },
  { name: "a signature as a boolean", request: toBob({ signature: true }), code: "BAD_REQUEST", mentions: "signature" },
  { name: "a signature of 63 bytes", request: toBob({ signature: base64Bytes(63) }), code: "BAD_REQUEST", mentions: "signature" },
  {
    name: "payloads missing a recipient",
    request: sendBody((w) => ({ to: [w.bob.name, w.carol.name], type: "notification", encrypted: true, payloads: { [w.bob.name]: sealed() } })),
    code: "BAD_REQUEST",
    mentions: "payloads",
    watch: ["bob's inbox", "carol's inbox"],
  },
  {
    name: "payloads with an extra recipient",
    request: sendBody((w) => ({
      to: [w.bob.name],
      type: "notification",
      encrypted: true,
      payloads: { [w.bob.name]: sealed(), [w.carol.name]: sealed() },
    })),
    code: "BAD_REQUEST",
    mentions: "payloads",
    watch: ["bob's inbox", "carol's inbox"],
  },
  {
    name: "payloads with an extra __proto__ entry",
    request: rawSend(
      (w) =>
        `{"to":["${w.bob.name}","${w.carol.name}"],"type":"notification","encrypted":true,"payloads":{` +
        `"${w.bob.name}":${JSON.stringify(sealed())},"${w.carol.name}":${JSON.stringify(sealed())},"__proto__":${JSON.stringify(sealed())}}}`,
    ),
    code: "BAD_REQUEST",
    mentions: "payloads",
    watch: ["bob's inbox", "carol's inbox"],
  },
  {
    name: "payloads keyed by one recipient twice in different case",
    request: sendBody((w) => ({
      to: [w.bob.name, w.carol.name],
      type: "notification",
      encrypted: true,
      payloads: { [w.bob.name]: sealed(), [w.bob.name.toUpperCase()]: sealed() },
    })),
    code: "BAD_REQUEST",
    mentions: "payloads",
    watch: ["bob's inbox", "carol's inbox"],
  },
  {
    name: "payloads on a plaintext message",
    request: sendBody((w) => ({ to: [w.bob.name], type: "notification", encrypted: false, payloads: { [w.bob.name]: sealed() } })),
    code: "BAD_REQUEST",
    mentions: "payloads",
    watch: ["bob's inbox", "carol's inbox"],
  },
  {
    name: "payloads with a single recipient string",
    request: sendBody((w) => ({ to: w.bob.name, type: "notification", encrypted: true, payloads: { [w.bob.name]: sealed() } })),
    code: "BAD_REQUEST",
    mentions: "payloads",
    watch: ["bob's inbox", "carol's inbox"],
  },
  {
    name: "payloads beside a payload",
    request: sendBody((w) => ({ to: [w.bob.name], type: "notification", encrypted: true, payload: "x", payloads: { [w.bob.name]: sealed() } })),
    code: "BAD_REQUEST",
    mentions: "payload",
  },
  {
    name: "a payloads entry with an unknown field",
    request: sendBody((w) => ({ to: [w.bob.name], type: "notification", encrypted: true, payloads: { [w.bob.name]: { ...sealed(), extra: 1 } } })),
    code: "BAD_REQUEST",
    mentions: "extra",
  },
  {
    name: "a payloads entry without a nonce",
    request: sendBody((w) => ({ to: [w.bob.name], type: "notification", encrypted: true, payloads: { [w.bob.name]: { payload: "x" } } })),
    code: "BAD_REQUEST",
    mentions: "nonce",
  },
  { name: "an Idempotency-Key with spaces", request: sendBody((w) => textMessage(w.bob.name), { "Idempotency-Key": "two words" }), code: "BAD_REQUEST", mentions: "Idempotency-Key" },
  { name: "an Idempotency-Key of 129 characters", request: sendBody((w) => textMessage(w.bob.name), { "Idempotency-Key": "k".repeat(129) }), code: "BAD_REQUEST", mentions: "Idempotency-Key" },
  { name: "an Idempotency-Key of 10 KB", request: sendBody((w) => textMessage(w.bob.name), { "Idempotency-Key": "k".repeat(10_240) }), code: "BAD_REQUEST", mentions: "Idempotency-Key" },
  { name: "an empty Idempotency-Key", request: sendBody((w) => textMessage(w.bob.name), { "Idempotency-Key": "" }), code: "BAD_REQUEST", mentions: "Idempotency-Key" },
  { name: "a non-ASCII Idempotency-Key", request: sendBody((w) => textMessage(w.bob.name), { "Idempotency-Key": utf8AsLatin1("ключ") }), code: "BAD_REQUEST", mentions: "Idempotency-Key" },
  { name: "a body over 64 KiB", request: toBob({ payload: "x".repeat(65 * 1024) }), code: "PAYLOAD_TOO_LARGE" },
];

const NOT_JSON: HostileCase[] = [
  { name: 'text/plain "hello"', request: rawSend("hello", "text/plain"), code: "BAD_REQUEST" },
  { name: 'form-encoded "a=1"', request: rawSend("a=1", "application/x-www-form-urlencoded"), code: "BAD_REQUEST" },
  { name: "JSON with a trailing comma", request: rawSend((w) => `{"to":"${w.bob.name}","type":"notification","encrypted":false,"payload":"x",}`, "application/json"), code: "BAD_REQUEST" },
  { name: "JSON with single quotes", request: rawSend((w) => `{'to':'${w.bob.name}'}`, "application/json"), code: "BAD_REQUEST" },
  { name: "two JSON objects back to back", request: rawSend((w) => `${JSON.stringify(textMessage(w.bob.name))}{}`, "application/json"), code: "BAD_REQUEST" },
  { name: "a bare JSON string", request: rawSend('"hello"', "application/json"), code: "BAD_REQUEST" },
  { name: "a bare JSON number", request: rawSend("42", "application/json"), code: "BAD_REQUEST" },
  { name: "a bare JSON array", request: rawSend((w) => `[${JSON.stringify(textMessage(w.bob.name))}]`, "application/json"), code: "BAD_REQUEST" },
  { name: "a bare JSON null", request: rawSend("null", "application/json"), code: "BAD_REQUEST" },
  { name: "a bare JSON true", request: rawSend("true", "application/json"), code: "BAD_REQUEST" },
  { name: "invalid UTF-8 bytes", request: rawSend(new Uint8Array([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x3a, 0x31, 0x7d]), "application/json"), code: "BAD_REQUEST" },
  { name: "an empty body", request: rawSend("", "application/json"), code: "BAD_REQUEST" },
  { name: "a body of whitespace", request: rawSend(" \n\t ", "application/json"), code: "BAD_REQUEST" },
  { name: "a UTF-8 BOM and nothing else", request: rawSend(new Uint8Array([0xef, 0xbb, 0xbf]), "application/json"), code: "BAD_REQUEST" },
  { name: 'a UTF-8 BOM before "hello"', request: rawSend(new Uint8Array([0xef, 0xbb, 0xbf, 0x68, 0x65, 0x6c, 0x6c, 0x6f]), "text/plain"), code: "BAD_REQUEST" },
  { name: "no body at all", request: (w) => call("POST", "/messages", { key: w.alice.apiKey }), code: "BAD_REQUEST" },
];

const AUTH: HostileCase[] = [
  { name: "no Authorization header", request: (w) => call("POST", "/messages", { json: textMessage(w.bob.name) }), code: "UNAUTHORIZED" },
  { name: "an empty Authorization header", request: sendWithAuth(""), code: "UNAUTHORIZED" },
  { name: '"Bearer" alone', request: sendWithAuth("Bearer"), code: "UNAUTHORIZED" },
  { name: '"Bearer" and two spaces', request: sendWithAuth("Bearer  "), code: "UNAUTHORIZED" },
  { name: '"bearer ct_short"', request: sendWithAuth("bearer ct_short"), code: "UNAUTHORIZED" },
  { name: "a Basic credential", request: sendWithAuth(`Basic ${btoa("alice:secret")}`), code: "UNAUTHORIZED" },
  { name: "a non-ASCII key", request: sendWithAuth(`Bearer ct_${utf8AsLatin1("ключ🙂")}${"A".repeat(30)}`), code: "UNAUTHORIZED" },
  { name: "a 10 KB key", request: sendWithAuth(`Bearer ct_${"A".repeat(10_240)}`), code: "UNAUTHORIZED" },
  { name: "a well-formed key nobody holds", request: sendWithAuth(`Bearer ct_${"Q".repeat(43)}`), code: "UNAUTHORIZED" },
  { name: "a real key with one character changed", request: (w) => sendWithAuth(`Bearer ${w.alice.apiKey.slice(0, -1)}${w.alice.apiKey.endsWith("A") ? "B" : "A"}`)(w), code: "UNAUTHORIZED" },
  { name: "a real key followed by a second word", request: (w) => sendWithAuth(`Bearer ${w.alice.apiKey} extra`)(w), code: "UNAUTHORIZED" },
  { name: "the admin key on an agent's send route", request: (w) => call("POST", "/messages", { key: ADMIN_KEY, json: textMessage(w.bob.name) }), code: "FORBIDDEN" },
  { name: "an empty Authorization header on GET /messages", request: () => call("GET", "/messages", { headers: { Authorization: "" } }), code: "UNAUTHORIZED" },
  { name: "an empty Authorization header on GET /agents", request: () => call("GET", "/agents", { headers: { Authorization: "Bearer " } }), code: "UNAUTHORIZED" },
];

const QUERY: HostileCase[] = [
  { name: "limit=-5", request: bobPolls("limit=-5"), code: "BAD_REQUEST", mentions: "limit" },
  { name: "limit=0", request: bobPolls("limit=0"), code: "BAD_REQUEST", mentions: "limit" },
  { name: "limit=abc", request: bobPolls("limit=abc"), code: "BAD_REQUEST", mentions: "limit" },
  { name: "limit=1e99", request: bobPolls("limit=1e99"), code: "BAD_REQUEST", mentions: "limit" },
  { name: "limit=1.5", request: bobPolls("limit=1.5"), code: "BAD_REQUEST", mentions: "limit" },
  { name: "limit empty", request: bobPolls("limit="), code: "BAD_REQUEST", mentions: "limit" },
  { name: "limit=NaN", request: bobPolls("limit=NaN"), code: "BAD_REQUEST", mentions: "limit" },
  { name: "wait=-1", request: bobPolls("wait=-1"), code: "BAD_REQUEST", mentions: "wait" },
  { name: "wait=abc", request: bobPolls("wait=abc"), code: "BAD_REQUEST", mentions: "wait" },
  { name: "wait=Infinity", request: bobPolls("wait=Infinity"), code: "BAD_REQUEST", mentions: "wait" },
  { name: "sort=random", request: bobPolls("sort=random"), code: "BAD_REQUEST", mentions: "sort" },
  { name: "after=yesterday", request: bobPolls("after=yesterday"), code: "BAD_REQUEST", mentions: "after" },
  { name: "since as epoch milliseconds", request: bobPolls("since=1700000000000"), code: "BAD_REQUEST", mentions: "since" },
  { name: "before with month 13", request: bobPolls("before=2026-13-45T00:00:00.000Z"), code: "BAD_REQUEST", mentions: "before" },
  { name: "topic with a space", request: bobPolls("topic=two%20words"), code: "BAD_REQUEST", mentions: "topic" },
  { name: "topic of 65 characters", request: bobPolls(`topic=${"t".repeat(65)}`), code: "BAD_REQUEST", mentions: "topic" },
  { name: "topic empty", request: bobPolls("topic="), code: "BAD_REQUEST", mentions: "topic" },
  { name: "from of one character", request: bobPolls("from=a"), code: "BAD_REQUEST", mentions: "from" },
  { name: "from with a NUL byte", request: bobPolls("from=al%00ice"), code: "BAD_REQUEST", mentions: "from" },
  { name: "limit=abc on the admin feed", request: admin("GET", "/messages?limit=abc"), code: "BAD_REQUEST", mentions: "limit" },
];

const ACK: HostileCase[] = [
  { name: "ids as a string", request: bobAcks((w) => ({ ids: w.seedId })), code: "BAD_REQUEST", mentions: "ids" },
  { name: "ids empty", request: bobAcks(() => ({ ids: [] })), code: "BAD_REQUEST", mentions: "ids" },
  { name: "ids as null (required)", request: bobAcks(() => ({ ids: null })), code: "BAD_REQUEST", mentions: "ids" },
  { name: "ids left out", request: bobAcks(() => ({})), code: "BAD_REQUEST", mentions: "ids" },
  { name: "ids with a number beside a real id", request: bobAcks((w) => ({ ids: [w.seedId, 5] })), code: "BAD_REQUEST", mentions: "ids" },
  { name: "101 ids including a real one", request: bobAcks((w) => ({ ids: [w.seedId, ...Array.from({ length: 100 }, (_, i) => `x${i}`)] })), code: "BAD_REQUEST", mentions: "ids" },
  { name: "a real id and an unknown field", request: bobAcks((w) => ({ ids: [w.seedId], all: true })), code: "BAD_REQUEST", mentions: "all" },
  { name: "a bare array of real ids", request: bobAcks((w) => [w.seedId]), code: "BAD_REQUEST" },
  { name: "the admin key", request: (w) => call("POST", "/messages/ack", { key: ADMIN_KEY, json: { ids: [w.seedId] } }), code: "FORBIDDEN" },
];

const REGISTRATION: HostileCase[] = [
  ...["broadcast", "me", "admin", "ADMIN", "Broadcast"].map(
    (name): HostileCase => ({ name: `the reserved name "${name}"`, request: adminRegisters(() => ({ name })), code: "BAD_REQUEST", mentions: "name", absent: () => [name] }),
  ),
  { name: "an empty name", request: adminRegisters(() => ({ name: "" })), code: "BAD_REQUEST", mentions: "name" },
  { name: "a name of one character", request: adminRegisters(() => ({ name: "x" })), code: "BAD_REQUEST", mentions: "name", absent: () => ["x"] },
  { name: "a name of 33 characters", request: adminRegisters(() => ({ name: fresh("long").padEnd(33, "x") })), code: "BAD_REQUEST", mentions: "name", absent: () => [fresh("long").padEnd(32, "x")] },
  { name: "a name with a space", request: adminRegisters(() => ({ name: `${fresh("space")} x` })), code: "BAD_REQUEST", mentions: "name", absent: () => [fresh("space")] },
  { name: "a name with an emoji", request: adminRegisters(() => ({ name: `${fresh("emoji")}🙂` })), code: "BAD_REQUEST", mentions: "name", absent: () => [fresh("emoji")] },
  { name: "a name with a control character", request: adminRegisters(() => ({ name: `${fresh("ctrl")}\u0000` })), code: "BAD_REQUEST", mentions: "name", absent: () => [fresh("ctrl")] },
  { name: "a name with a path", request: adminRegisters(() => ({ name: "../admin" })), code: "BAD_REQUEST", mentions: "name" },
  {
    name: "a name with a Cyrillic look-alike letter",
    request: adminRegisters(() => ({ name: fresh("lookalike").replace(/^h/, "һ") })), // U+04BB looks like h
    code: "BAD_REQUEST",
    mentions: "name",
    absent: () => [fresh("lookalike")],
  },
  { name: "a name as a number", request: adminRegisters(() => ({ name: 42 })), code: "BAD_REQUEST", mentions: "name" },
  { name: "a name as null (required)", request: adminRegisters(() => ({ name: null })), code: "BAD_REQUEST", mentions: "name" },
  { name: "no name", request: adminRegisters(() => ({ owner: "x" })), code: "BAD_REQUEST", mentions: "name" },
  {
    name: "a taken name in another case",
    request: (w) => call("POST", "/agents", { key: ADMIN_KEY, json: { name: w.bob.name.toUpperCase() } }),
    code: "CONFLICT",
    watch: ["bob's record"],
  },
  { name: "an unknown field (role)", request: adminRegisters(() => ({ name: fresh("role"), role: "admin" })), code: "BAD_REQUEST", mentions: "role", absent: () => [fresh("role")] },
  {
    name: "a top-level __proto__ key",
    request: () => call("POST", "/agents", { key: ADMIN_KEY, raw: `{"name":"${fresh("proto")}","__proto__":{"isAdmin":true}}` }),
    code: "BAD_REQUEST",
    mentions: "__proto__",
    absent: () => [fresh("proto")],
  },
  {
    name: "a top-level constructor key",
    request: adminRegisters(() => ({ name: fresh("ctor"), constructor: { prototype: { isAdmin: true } } })),
    code: "BAD_REQUEST",
    mentions: "constructor",
    absent: () => [fresh("ctor")],
  },
  { name: "a publicKey of 31 bytes", request: adminRegisters(() => ({ name: fresh("pk31"), publicKey: base64Bytes(31) })), code: "BAD_REQUEST", mentions: "publicKey", absent: () => [fresh("pk31")] },
  { name: "a signingKey that is not base64", request: adminRegisters(() => ({ name: fresh("skbad"), signingKey: "not base64!" })), code: "BAD_REQUEST", mentions: "signingKey", absent: () => [fresh("skbad")] },
  { name: "capabilities as a string", request: adminRegisters(() => ({ name: fresh("capstr"), capabilities: "all" })), code: "BAD_REQUEST", mentions: "capabilities", absent: () => [fresh("capstr")] },
  { name: "capabilities with a number", request: adminRegisters(() => ({ name: fresh("capnum"), capabilities: [1] })), code: "BAD_REQUEST", mentions: "capabilities", absent: () => [fresh("capnum")] },
  { name: "a webhookUrl with ftp", request: adminRegisters(() => ({ name: fresh("ftp"), webhookUrl: "ftp://example.com/hook" })), code: "BAD_REQUEST", mentions: "webhookUrl", absent: () => [fresh("ftp")] },
  { name: "a javascript: webhookUrl", request: adminRegisters(() => ({ name: fresh("js"), webhookUrl: "javascript:alert(1)" })), code: "BAD_REQUEST", mentions: "webhookUrl", absent: () => [fresh("js")] },
  { name: "an owner of 129 characters", request: adminRegisters(() => ({ name: fresh("owner"), owner: "o".repeat(129) })), code: "BAD_REQUEST", mentions: "owner", absent: () => [fresh("owner")] },
  { name: "an owner as an object", request: adminRegisters(() => ({ name: fresh("ownerobj"), owner: { name: "x" } })), code: "BAD_REQUEST", mentions: "owner", absent: () => [fresh("ownerobj")] },
  { name: "a bare array body", request: adminRegisters(() => [{ name: fresh("array") }]), code: "BAD_REQUEST", absent: () => [fresh("array")] },
  { name: "a text/plain body", request: () => call("POST", "/agents", { key: ADMIN_KEY, raw: fresh("plain"), headers: { "Content-Type": "text/plain" } }), code: "BAD_REQUEST", absent: () => [fresh("plain")] },
  { name: "an agent's key", request: (w) => call("POST", "/agents", { key: w.alice.apiKey, json: { name: fresh("byagent") } }), code: "UNAUTHORIZED", absent: () => [fresh("byagent")] },
  { name: "no key", request: () => call("POST", "/agents", { json: { name: fresh("nokey") } }), code: "UNAUTHORIZED", absent: () => [fresh("nokey")] },
  { name: "self-registration with the reserved name admin", request: selfRegisters((w) => ({ invite: w.invite, name: "admin" })), code: "BAD_REQUEST", mentions: "name", absent: () => ["admin"], watch: ["invites"] },
  { name: "self-registration with the reserved name me", request: selfRegisters((w) => ({ invite: w.invite, name: "Me" })), code: "BAD_REQUEST", mentions: "name", absent: () => ["me"], watch: ["invites"] },
  { name: "self-registration with 33 characters", request: selfRegisters((w) => ({ invite: w.invite, name: "n".repeat(33) })), code: "BAD_REQUEST", mentions: "name", absent: () => ["n".repeat(32)], watch: ["invites"] },
  { name: "self-registration with an unknown field", request: selfRegisters((w) => ({ invite: w.invite, name: fresh("selfx"), admin: true })), code: "BAD_REQUEST", mentions: "admin", absent: () => [fresh("selfx")], watch: ["invites"] },
  { name: "self-registration without an invite", request: selfRegisters(() => ({ name: fresh("noinv") })), code: "BAD_REQUEST", mentions: "invite", absent: () => [fresh("noinv")] },
  { name: "self-registration with a null invite", request: selfRegisters(() => ({ invite: null, name: fresh("nullinv") })), code: "BAD_REQUEST", mentions: "invite", absent: () => [fresh("nullinv")], watch: ["invites"] },
  { name: "self-registration with an empty invite", request: selfRegisters(() => ({ invite: "", name: fresh("emptyinv") })), code: "BAD_REQUEST", mentions: "invite", absent: () => [fresh("emptyinv")], watch: ["invites"] },
  { name: "self-registration with a numeric invite", request: selfRegisters(() => ({ invite: 12345, name: fresh("numinv") })), code: "BAD_REQUEST", mentions: "invite", absent: () => [fresh("numinv")], watch: ["invites"] },
  { name: "self-registration with an unknown invite", request: selfRegisters(() => ({ invite: "no-such-invite", name: fresh("badinv") })), code: "FORBIDDEN", absent: () => [fresh("badinv")], watch: ["invites"] },
  {
    name: "self-registration with a taken name",
    request: selfRegisters((w) => ({ invite: w.invite, name: w.carol.name.toUpperCase() })),
    code: "CONFLICT",
    watch: ["carol's record", "invites"],
  },
];

const PATCH: HostileCase[] = [
  { name: "capabilities as a string", request: alicePatches(() => ({ capabilities: "all" })), code: "BAD_REQUEST", mentions: "capabilities" },
  { name: "capabilities with a number", request: alicePatches(() => ({ capabilities: [1] })), code: "BAD_REQUEST", mentions: "capabilities" },
  { name: "33 capabilities", request: alicePatches(() => ({ capabilities: Array.from({ length: 33 }, (_, i) => `c${i}`) })), code: "BAD_REQUEST", mentions: "capabilities" },
  { name: "an empty capability", request: alicePatches(() => ({ capabilities: [""] })), code: "BAD_REQUEST", mentions: "capabilities" },
  { name: "a capability of 65 characters", request: alicePatches(() => ({ capabilities: ["c".repeat(65)] })), code: "BAD_REQUEST", mentions: "capabilities" },
  { name: 'deleteOnDelivery as "true"', request: alicePatches(() => ({ deleteOnDelivery: "true" })), code: "BAD_REQUEST", mentions: "deleteOnDelivery" },
  { name: "deleteOnDelivery as 1", request: alicePatches(() => ({ deleteOnDelivery: 1 })), code: "BAD_REQUEST", mentions: "deleteOnDelivery" },
  { name: "a webhookUrl with ftp", request: alicePatches(() => ({ webhookUrl: "ftp://example.com/hook" })), code: "BAD_REQUEST", mentions: "webhookUrl" },
  { name: "a webhookUrl as a number", request: alicePatches(() => ({ webhookUrl: 5 })), code: "BAD_REQUEST", mentions: "webhookUrl" },
  { name: "a webhookUrl with credentials", request: alicePatches(() => ({ webhookUrl: "https://user:pw@example.com/hook" })), code: "BAD_REQUEST", mentions: "webhookUrl" },
  { name: "a webhookUrl that is not a URL", request: alicePatches(() => ({ webhookUrl: "not a url" })), code: "BAD_REQUEST", mentions: "webhookUrl" },
  { name: "a publicKey of 31 bytes", request: alicePatches(() => ({ publicKey: base64Bytes(31) })), code: "BAD_REQUEST", mentions: "publicKey" },
  { name: "a signingKey that is not base64", request: alicePatches(() => ({ signingKey: "not base64!" })), code: "BAD_REQUEST", mentions: "signingKey" },
  { name: "a name change (unknown field)", request: alicePatches(() => ({ name: "renamed" })), code: "BAD_REQUEST", mentions: "name" },
  { name: "an apiKey (unknown field)", request: alicePatches(() => ({ apiKey: `ct_${"A".repeat(43)}` })), code: "BAD_REQUEST", mentions: "apiKey" },
  { name: "a valid field beside an unknown one", request: alicePatches(() => ({ capabilities: ["x"], role: "admin" })), code: "BAD_REQUEST", mentions: "role" },
  {
    name: "a top-level __proto__ key",
    request: (w) => call("PATCH", `/agents/${w.alice.name}`, { key: w.alice.apiKey, raw: '{"capabilities":["x"],"__proto__":{"owner":"mallory"}}' }),
    code: "BAD_REQUEST",
    mentions: "__proto__",
  },
  { name: "a top-level constructor key", request: alicePatches(() => ({ constructor: { prototype: { owner: "mallory" } } })), code: "BAD_REQUEST", mentions: "constructor" },
  { name: "a bare array body", request: alicePatches(() => [{ capabilities: ["x"] }]), code: "BAD_REQUEST" },
  { name: "a bare null body", request: alicePatches(() => null), code: "BAD_REQUEST" },
  { name: "an empty body", request: (w) => call("PATCH", `/agents/${w.alice.name}`, { key: w.alice.apiKey }), code: "BAD_REQUEST" },
  { name: "owner set by the agent itself", request: alicePatches(() => ({ owner: "mallory" })), code: "FORBIDDEN" },
  { name: "an empty owner set by the admin", request: (w) => call("PATCH", `/agents/${w.alice.name}`, { key: ADMIN_KEY, json: { owner: "" } }), code: "BAD_REQUEST", mentions: "owner" },
  { name: "another agent's record", request: (w) => call("PATCH", `/agents/${w.bob.name}`, { key: w.alice.apiKey, json: { capabilities: ["x"] } }), code: "FORBIDDEN", watch: ["bob's record"] },
  {
    name: "another agent's record in another case",
    request: (w) => call("PATCH", `/agents/${w.bob.name.toUpperCase()}`, { key: w.alice.apiKey, json: { capabilities: ["x"] } }),
    code: "FORBIDDEN",
    watch: ["bob's record"],
  },
  { name: "/agents/me with the admin key", request: () => call("PATCH", "/agents/me", { key: ADMIN_KEY, json: { capabilities: ["x"] } }), code: "FORBIDDEN" },
  { name: "an agent that does not exist (admin)", request: () => call("PATCH", `/agents/${uniqueName("ghost")}`, { key: ADMIN_KEY, json: { capabilities: ["x"] } }), code: "NOT_FOUND" },
  { name: "no key", request: (w) => call("PATCH", `/agents/${w.alice.name}`, { json: { capabilities: ["x"] } }), code: "UNAUTHORIZED" },
];

const AUDIT: HostileCase[] = [
  { name: "direction sideways", request: aliceAudits((w) => auditEntry(w, { direction: "sideways" })), code: "BAD_REQUEST", mentions: "direction" },
  { name: "messageId with a space", request: aliceAudits((w) => auditEntry(w, { messageId: "has space" })), code: "BAD_REQUEST", mentions: "messageId" },
  { name: "messageId as null (required)", request: aliceAudits((w) => auditEntry(w, { messageId: null })), code: "BAD_REQUEST", mentions: "messageId" },
  { name: "from the reserved name admin", request: aliceAudits((w) => auditEntry(w, { from: "admin", direction: "received", to: w.alice.name })), code: "BAD_REQUEST", mentions: "from" },
  { name: "to as an empty array", request: aliceAudits((w) => auditEntry(w, { to: [] })), code: "BAD_REQUEST", mentions: "to" },
  { name: "to with 101 names", request: aliceAudits((w) => auditEntry(w, { to: tooManyNames(w) })), code: "BAD_REQUEST", mentions: "to" },
  { name: "to as a number", request: aliceAudits((w) => auditEntry(w, { to: 5 })), code: "BAD_REQUEST", mentions: "to" },
  { name: "to as markup, not a name", request: aliceAudits((w) => auditEntry(w, { to: "<img src=x>" })), code: "BAD_REQUEST", mentions: "to" },
  { name: "to listing a name twice", request: aliceAudits((w) => auditEntry(w, { to: [w.bob.name, w.bob.name.toUpperCase()] })), code: "BAD_REQUEST", mentions: "to" },
  { name: "a sealed payload that is an object", request: aliceAudits((w) => auditEntry(w, { sealed: true, payload: { text: "x" } })), code: "BAD_REQUEST", mentions: "payload" },
  { name: "a sealed payload that is not base64", request: aliceAudits((w) => auditEntry(w, { sealed: true, payload: "%%% not base64 %%%" })), code: "BAD_REQUEST", mentions: "payload" },
  { name: "a sealed payload too short to hold key, nonce and box", request: aliceAudits((w) => auditEntry(w, { sealed: true, payload: btoa("x".repeat(72)) })), code: "BAD_REQUEST", mentions: "payload" },
  { name: "sealed as a string", request: aliceAudits((w) => auditEntry(w, { sealed: "true" })), code: "BAD_REQUEST", mentions: "sealed" },
  { name: "ts not a timestamp", request: aliceAudits((w) => auditEntry(w, { ts: "now" })), code: "BAD_REQUEST", mentions: "ts" },
  { name: "topic with an emoji", request: aliceAudits((w) => auditEntry(w, { topic: "sync🙂" })), code: "BAD_REQUEST", mentions: "topic" },
  { name: "no payload", request: aliceAudits((w) => ({ ...auditEntry(w), payload: undefined })), code: "BAD_REQUEST", mentions: "payload" },
  { name: "an unknown field", request: aliceAudits((w) => auditEntry(w, { loggedBy: "admin" })), code: "BAD_REQUEST", mentions: "loggedBy" },
  {
    name: "a top-level __proto__ key",
    request: (w) => call("POST", "/audit", { key: w.alice.apiKey, raw: `${JSON.stringify(auditEntry(w)).slice(0, -1)},"__proto__":{"loggedBy":"admin"}}` }),
    code: "BAD_REQUEST",
    mentions: "__proto__",
  },
  { name: "a payload nested 100 levels deep", request: aliceAudits((w) => auditEntry(w, { payload: nested(100) })), code: "BAD_REQUEST" },
  { name: "a sent entry from another agent", request: aliceAudits((w) => auditEntry(w, { from: w.bob.name })), code: "FORBIDDEN" },
  { name: "a received entry not addressed to the caller", request: aliceAudits((w) => auditEntry(w, { direction: "received", from: w.bob.name, to: w.carol.name })), code: "FORBIDDEN" },
  { name: "POST with the admin key", request: (w) => call("POST", "/audit", { key: ADMIN_KEY, json: auditEntry(w) }), code: "FORBIDDEN" },
  { name: "GET with limit=abc", request: admin("GET", "/audit?limit=abc"), code: "BAD_REQUEST", mentions: "limit" },
  { name: "GET with limit=-5", request: admin("GET", "/audit?limit=-5"), code: "BAD_REQUEST", mentions: "limit" },
  { name: "GET with limit=1e99", request: admin("GET", "/audit?limit=1e99"), code: "BAD_REQUEST", mentions: "limit" },
  { name: "GET with since=garbage", request: admin("GET", "/audit?since=garbage"), code: "BAD_REQUEST", mentions: "since" },
  { name: "GET with from of one character", request: admin("GET", "/audit?from=a"), code: "BAD_REQUEST", mentions: "from" },
  { name: "GET with to containing a space", request: admin("GET", "/audit?to=a%20b"), code: "BAD_REQUEST", mentions: "to" },
  { name: "GET with an agent's key", request: asBob("GET", "/audit"), code: "UNAUTHORIZED" },
  { name: "DELETE without before", request: admin("DELETE", "/audit"), code: "BAD_REQUEST", mentions: "before" },
  { name: "DELETE with before=garbage", request: admin("DELETE", "/audit?before=garbage"), code: "BAD_REQUEST", mentions: "before" },
  { name: "DELETE with before=1e99", request: admin("DELETE", "/audit?before=1e99"), code: "BAD_REQUEST", mentions: "before" },
  { name: "DELETE with an agent's key", request: asBob("DELETE", `/audit?before=${encodeURIComponent("2999-01-01T00:00:00.000Z")}`), code: "UNAUTHORIZED" },
  { name: "DELETE with no key", request: () => call("DELETE", `/audit?before=${encodeURIComponent("2999-01-01T00:00:00.000Z")}`), code: "UNAUTHORIZED" },
];

const INVITES: HostileCase[] = [
  { name: "maxUses 0", request: adminInvites({ label: `${MARK}-0`, maxUses: 0 }), code: "BAD_REQUEST", mentions: "maxUses" },
  { name: "maxUses -1", request: adminInvites({ label: `${MARK}-1`, maxUses: -1 }), code: "BAD_REQUEST", mentions: "maxUses" },
  { name: "maxUses 1.5", request: adminInvites({ label: `${MARK}-2`, maxUses: 1.5 }), code: "BAD_REQUEST", mentions: "maxUses" },
  { name: 'maxUses "5"', request: adminInvites({ label: `${MARK}-3`, maxUses: "5" }), code: "BAD_REQUEST", mentions: "maxUses" },
  { name: "maxUses 1e308", request: adminInvites({ label: `${MARK}-4`, maxUses: 1e308 }), code: "BAD_REQUEST", mentions: "maxUses" },
  { name: "expiresInHours -1", request: adminInvites({ label: `${MARK}-5`, expiresInHours: -1 }), code: "BAD_REQUEST", mentions: "expiresInHours" },
  { name: "expiresInHours 0", request: adminInvites({ label: `${MARK}-6`, expiresInHours: 0 }), code: "BAD_REQUEST", mentions: "expiresInHours" },
  { name: "expiresInHours 1e308", request: adminInvites({ label: `${MARK}-7`, expiresInHours: 1e308 }), code: "BAD_REQUEST", mentions: "expiresInHours" },
  { name: 'expiresInHours "24"', request: adminInvites({ label: `${MARK}-8`, expiresInHours: "24" }), code: "BAD_REQUEST", mentions: "expiresInHours" },
  { name: "a label of 129 characters", request: adminInvites({ label: `${MARK}${"l".repeat(129)}` }), code: "BAD_REQUEST", mentions: "label" },
  { name: "a label as a number", request: adminInvites({ label: 5 }), code: "BAD_REQUEST", mentions: "label" },
  { name: "an unknown field", request: adminInvites({ label: `${MARK}-9`, code: "chosen-code" }), code: "BAD_REQUEST", mentions: "code" },
  { name: "an agent's key", request: (w) => call("POST", "/invites", { key: w.alice.apiKey, json: { label: `${MARK}-10` } }), code: "UNAUTHORIZED" },
  { name: "a text/plain body", request: () => call("POST", "/invites", { key: ADMIN_KEY, raw: `label=${MARK}-11`, headers: { "Content-Type": "text/plain" } }), code: "BAD_REQUEST" },
  { name: "DELETE of a path-like code", request: admin("DELETE", "/invites/..%2F..%2Fagents"), code: "NOT_FOUND" },
];

const LONG = "a".repeat(5000);
const ALICE: View[] = ["alice's record"];
const BOB_INBOX: View[] = ["bob's inbox"];

const PATHS: HostileCase[] = [
  { name: "GET /agents/..%2F..%2Fadmin", request: admin("GET", "/agents/..%2F..%2Fadmin"), code: "NOT_FOUND" },
  { name: "GET /agents/%00", request: admin("GET", "/agents/%00"), code: "NOT_FOUND" },
  { name: "GET /agents/ with malformed percent-encoding", request: admin("GET", "/agents/%E0%A4%A"), code: "NOT_FOUND" },
  { name: "GET /agents/ with a 5000-character segment", request: admin("GET", `/agents/${LONG}`), code: "NOT_FOUND" },
  { name: "GET /agents/admin", request: admin("GET", "/agents/admin"), code: "NOT_FOUND" },
  { name: "DELETE /agents/<alice>%00", request: admin("DELETE", (w) => `/agents/${w.alice.name}%00`), code: "NOT_FOUND", watch: ALICE },
  { name: "DELETE /agents/<alice>%2F..", request: admin("DELETE", (w) => `/agents/${w.alice.name}%2F..`), code: "NOT_FOUND", watch: ALICE },
  { name: "DELETE /agents//<alice>", request: admin("DELETE", (w) => `/agents//${w.alice.name}`), code: "NOT_FOUND", watch: ALICE },
  { name: "DELETE /agents/ME", request: admin("DELETE", "/agents/ME"), code: "NOT_FOUND" },
  {
    name: "PATCH /agents/..%2F<bob> by alice",
    request: (w) => call("PATCH", `/agents/..%2F${w.bob.name}`, { key: w.alice.apiKey, json: { capabilities: ["x"] } }),
    code: "FORBIDDEN",
    watch: ["alice's record", "bob's record"],
  },
  { name: "PATCH /agents/..%2F..%2Fadmin by the admin", request: () => call("PATCH", "/agents/..%2F..%2Fadmin", { key: ADMIN_KEY, json: { capabilities: ["x"] } }), code: "NOT_FOUND" },
  { name: "POST /agents/<alice>%2Frotate-key", request: (w) => call("POST", `/agents/${w.alice.name}%2Frotate-key`, { key: w.alice.apiKey }), code: "METHOD_NOT_ALLOWED", watch: ALICE },
  { name: "GET /messages/..%2Fack", request: asBob("GET", "/messages/..%2Fack"), code: "NOT_FOUND" },
  { name: "DELETE /messages/..%2F..%2Fmessages", request: asBob("DELETE", "/messages/..%2F..%2Fmessages"), code: "NOT_FOUND", watch: BOB_INBOX },
  { name: "DELETE /messages/%2A (a wildcard)", request: asBob("DELETE", "/messages/%2A"), code: "NOT_FOUND", watch: BOB_INBOX },
  { name: "DELETE /messages/%25 (a percent sign)", request: asBob("DELETE", "/messages/%25"), code: "NOT_FOUND", watch: BOB_INBOX },
  { name: "DELETE /messages/ with a 5000-character id", request: asBob("DELETE", `/messages/${LONG}`), code: "NOT_FOUND", watch: BOB_INBOX },
  { name: "GET /messages/ with malformed percent-encoding", request: asBob("GET", "/messages/%ZZ"), code: "NOT_FOUND" },
  {
    name: "POST /messages/..%2Fack",
    request: (w) => call("POST", "/messages/..%2Fack", { key: w.bob.apiKey, json: { ids: [w.seedId] } }),
    code: "METHOD_NOT_ALLOWED",
    watch: BOB_INBOX,
  },
  { name: "POST /messages%2Fack", request: (w) => call("POST", "/messages%2Fack", { key: w.bob.apiKey, json: { ids: [w.seedId] } }), code: "NOT_FOUND", watch: BOB_INBOX },
  { name: "POST /messages//ack", request: (w) => call("POST", "/messages//ack", { key: w.bob.apiKey, json: { ids: [w.seedId] } }), code: "NOT_FOUND", watch: BOB_INBOX },
  { name: "POST //messages", request: (w) => call("POST", "//messages", { key: w.alice.apiKey, json: textMessage(w.bob.name) }), code: "NOT_FOUND", watch: BOB_INBOX },
  { name: "GET /admin", request: admin("GET", "/admin"), code: "NOT_FOUND" },
  { name: "GET /%2e%2e/%2e%2e/etc/passwd", request: admin("GET", "/%2e%2e/%2e%2e/etc/passwd"), code: "NOT_FOUND" },
  { name: "GET of a 5000-character path", request: admin("GET", `/${LONG}`), code: "NOT_FOUND" },
];

/** Each area, with the state its requests could corrupt (a row may name its own). */
const CATALOG: [area: string, watch: View[], cases: HostileCase[]][] = [
  ["POST /messages: bodies", BOB_INBOX, SEND_BODY],
  ["bodies that are not JSON (POST /messages)", BOB_INBOX, NOT_JSON],
  ["Authorization headers", BOB_INBOX, AUTH],
  ["GET /messages query parameters", BOB_INBOX, QUERY],
  ["POST /messages/ack", BOB_INBOX, ACK],
  ["registration (POST /agents, POST /register)", [], REGISTRATION],
  ["PATCH /agents/:name", ALICE, PATCH],
  ["audit (POST, GET, DELETE /audit)", ["audit log"], AUDIT],
  ["POST /invites, DELETE /invites/:code", ["invites"], INVITES],
  ["path parameters and path tricks", [], PATHS],
];

// ---- The state a hostile request must not change ----
//
// Each view is read once before the catalog runs and again after every request that could change
// it, and compared with the previous reading.

type View = "bob's inbox" | "carol's inbox" | "alice's record" | "bob's record" | "carol's record" | "audit log" | "invites";

async function read(view: View, w: World): Promise<unknown> {
  const agentOf = (v: string) => (v.startsWith("alice") ? w.alice : v.startsWith("bob") ? w.bob : w.carol);
  if (view.endsWith("inbox")) {
    const page = await inbox<MessagePage>(agentOf(view), "sort=asc&limit=100");
    expect(page.status).toBe(200);
    // `delivered` records this very read (delivery state, SPEC §11.1); everything else must stay.
    return page.body.messages.map(({ delivered: _delivered, ...rest }) => rest);
  }
  if (view.endsWith("record")) {
    const reply = await call("GET", `/agents/${agentOf(view).name}`, { key: ADMIN_KEY });
    expect(reply.status).toBe(200);
    // lastSeen/online move with every authenticated request; everything else must stay.
    const { lastSeen: _lastSeen, online: _online, ...record } = reply.body as Record<string, unknown>;
    return record;
  }
  if (view === "audit log") {
    const reply = await call<{ entries: AuditEntry[] }>("GET", "/audit?limit=200", { key: ADMIN_KEY });
    expect(reply.status).toBe(200);
    const mine = new Set([w.alice, w.bob, w.carol].map((a) => a.name.toLowerCase()));
    return reply.body.entries.filter((entry) => mine.has(entry.loggedBy.toLowerCase()));
  }
  const reply = await call<Invite[]>("GET", "/invites", { key: ADMIN_KEY });
  expect(reply.status).toBe(200);
  return reply.body.filter((i) => i.code === w.invite || i.label?.startsWith(MARK));
}

const ALL_VIEWS: View[] = ["bob's inbox", "carol's inbox", "alice's record", "bob's record", "carol's record", "audit log", "invites"];
const baseline = new Map<View, unknown>();

function expectErrorShape(reply: Reply, code: Code): void {
  expect(reply.status, reply.text).toBe(SPEC_STATUS[code]);
  expect(reply.headers.get("Content-Type") ?? "").toContain("application/json");
  const body = reply.body as Record<string, unknown>;
  expect(typeof body, reply.text).toBe("object");
  expect(body).not.toBeNull();
  expect(Object.keys(body).filter((key) => !ERROR_FIELDS.has(key)), reply.text).toEqual([]);
  expect(typeof body.error).toBe("string");
  expect((body.error as string).length).toBeGreaterThan(0);
  expect(body.code).toBe(code);
  if (body.names !== undefined) expect(Array.isArray(body.names) && body.names.every((n) => typeof n === "string")).toBe(true);
  if (body.retryAfter !== undefined) expect(typeof body.retryAfter).toBe("number");
}

// ---- The tests ----

let world: World;

beforeAll(async () => {
  const [alice, bob, carol] = await Promise.all([register("h_alice"), register("h_bob"), register("h_carol")]);
  // Each inbox holds something, so "unchanged" compares real content, not two empty pages.
  const seed = await send<SendResponse>(alice, textMessage(bob.name, "seed for bob", { topic: "seed" }));
  expect(seed.status).toBe(201);
  expect((await send(bob, textMessage(carol.name, "seed for carol"))).status).toBe(201);
  const invite = await call<Invite>("POST", "/invites", { key: ADMIN_KEY, json: { label: `${MARK}-real`, maxUses: 5 } });
  expect(invite.status).toBe(201);
  world = { alice, bob, carol, invite: invite.body.code, seedId: seed.body.id };
  const logged = await call("POST", "/audit", { key: alice.apiKey, json: auditEntry(world) });
  expect(logged.status).toBe(201);
  for (const view of ALL_VIEWS) baseline.set(view, await read(view, world));
});

describe("hostile input is refused with a clear 4xx and changes nothing", () => {
  for (const [area, areaWatch, cases] of CATALOG) {
    describe(area, () => {
      it.each(cases)("$name → $code", async ({ request, code, absent, mentions, watch }) => {
        const reply = await request(world);
        // Read what the request could have changed before judging the reply, so a failure here
        // is reported by this row alone (the baseline moves on), not by every later row.
        for (const view of watch ?? areaWatch) {
          const now = await read(view, world);
          const before = baseline.get(view);
          baseline.set(view, now);
          expect.soft(now, `${view} changed`).toEqual(before);
        }
        const names = absent?.(world) ?? [];
        if (names.length > 0) {
          const list = await call<AgentPublic[]>("GET", "/agents", { key: ADMIN_KEY });
          const existing = list.body.map((a) => a.name.toLowerCase());
          for (const name of names) expect.soft(existing, `agent ${name} exists`).not.toContain(name.toLowerCase());
        }
        expectErrorShape(reply, code);
        if (mentions !== undefined) expect((reply.body as ErrorBody).error).toContain(mentions);
      });
    });
  }
});

describe("body validation errors name the field (SPEC §9)", () => {
  it("an out-of-range ttl is refused with a message that names ttl and the range", async () => {
    const reply = await send<ErrorBody>(world.alice, textMessage(world.bob.name, "x", { ttl: 10 }));
    expectErrorShape(reply, "BAD_REQUEST");
    expect(reply.body.error).toMatch(/\bttl\b/);
    expect(reply.body.error).toMatch(/60/);
  });

  it("an unknown field is refused with a message that quotes it", async () => {
    const reply = await send<ErrorBody>(world.alice, textMessage(world.bob.name, "x", { tll: 3600 }));
    expectErrorShape(reply, "BAD_REQUEST");
    expect(reply.body.error).toContain('"tll"');
  });
});

describe("a refused send leaves no trace in the sender's state", () => {
  it("a client id first used in refused sends is still fresh afterwards", async () => {
    const id = crypto.randomUUID();
    const refused = await send(world.alice, textMessage(world.bob.name, "x", { id, colour: "blue" }));
    expectErrorShape(refused, "BAD_REQUEST");
    const unknown = await send(world.alice, textMessage([world.bob.name, uniqueName("ghost")], "x", { id }));
    expectErrorShape(unknown, "UNKNOWN_RECIPIENT");
    // Neither attempt was remembered: the id is new, with new content, so it is stored (201, not 200 or 409).
    const accepted = await send<SendResponse>(world.alice, textMessage(world.bob.name, "the real one", { id }));
    expect(accepted.status, accepted.text).toBe(201);
    expect(accepted.body.id).toBe(id);
    const got = await call<Envelope>("GET", `/messages/${id}`, { key: world.bob.apiKey });
    expect(got.body.payload).toBe("the real one");
    expect((await call("DELETE", `/messages/${id}`, { key: world.bob.apiKey })).status).toBe(204);
  });

  it("an Idempotency-Key first used in a refused send is still fresh afterwards", async () => {
    const key = `hostile-${crypto.randomUUID()}`;
    const refused = await send(world.alice, textMessage(world.bob.name, "x", { ttl: -1 }), { "Idempotency-Key": key });
    expectErrorShape(refused, "BAD_REQUEST");
    const accepted = await send<SendResponse>(world.alice, textMessage(world.bob.name, "different content"), { "Idempotency-Key": key });
    expect(accepted.status, accepted.text).toBe(201);
    expect((await call("DELETE", `/messages/${accepted.body.id}`, { key: world.bob.apiKey })).status).toBe(204);
  });
});

describe("prototype keys inside a payload are data (SPEC §4.1: the relay never rewrites a field)", () => {
  it("a payload object with __proto__ and constructor keys is stored verbatim and pollutes nothing", async () => {
    const prototypeKeys = Object.getOwnPropertyNames(Object.prototype).sort();
    const payloadText =
      '{"__proto__":{"polluted":"yes","isAdmin":true},"constructor":{"prototype":{"polluted":"yes"}},' +
      '"nested":{"__proto__":{"polluted":"yes"},"list":[{"__proto__":null}]},"text":"hi"}';
    const raw = `{"to":${JSON.stringify(world.bob.name)},"type":"notification","encrypted":false,"payload":${payloadText}}`;
    const sent = await call<SendResponse>("POST", "/messages", { key: world.alice.apiKey, raw, headers: { "Content-Type": "application/json" } });
    expect(sent.status, sent.text).toBe(201);

    // The stored envelope, read as text: the payload serializes exactly as it was sent.
    const one = await call("GET", `/messages/${sent.body.id}`, { key: world.bob.apiKey });
    expect(one.status).toBe(200);
    const stored = (JSON.parse(one.text) as { payload: unknown }).payload;
    expect(JSON.stringify(stored)).toBe(payloadText);
    expect(Object.prototype.hasOwnProperty.call(stored, "__proto__")).toBe(true);
    const page = await inbox(world.bob, "sort=desc&limit=1");
    const listed = (JSON.parse(page.text) as { messages: { id: string; payload: unknown }[] }).messages[0]!;
    expect(listed.id).toBe(sent.body.id);
    expect(JSON.stringify(listed.payload)).toBe(payloadText);

    // Nothing leaked onto shared prototypes (the Worker and its objects run in this isolate).
    const probe: Record<string, unknown> = {};
    expect(probe.polluted).toBeUndefined();
    expect(probe.isAdmin).toBeUndefined();
    expect(Object.getOwnPropertyNames(Object.prototype).sort()).toEqual(prototypeKeys);
    const record = await call("GET", `/agents/${world.alice.name}`, { key: ADMIN_KEY });
    expect(record.body).not.toHaveProperty("isAdmin");
    expect(record.body).not.toHaveProperty("polluted");
    expect((await call("DELETE", `/messages/${sent.body.id}`, { key: world.bob.apiKey })).status).toBe(204);
  });

  it("an audit entry whose payload has __proto__ keys is accepted and pollutes nothing", async () => {
    const raw = JSON.stringify(auditEntry(world)).replace(
      '"payload":"hostile"',
      '"payload":{"__proto__":{"polluted":"yes"},"constructor":{"prototype":{"polluted":"yes"}}}',
    );
    const logged = await call("POST", "/audit", { key: world.alice.apiKey, raw });
    expect(logged.status, logged.text).toBe(201);
    expect(logged.body).not.toHaveProperty("polluted");
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});
