// POST /messages (SPEC §4.1): validate, check every recipient exists, take the sender's rate
// limit in the sender's Inbox, then store one copy in each recipient's Inbox before answering.
// A broadcast is recorded in the sender's Inbox and fanned out by its alarm.

import { canonicalJson } from "../protocol/canonical.js";
import { sha256Hex } from "../protocol/digest.js";
import type { RecipientReceipt, RejectedRecipient, SendRequest, SendResponse } from "../protocol/envelope.js";
import { RelayError, unwrap } from "../protocol/errors.js";
import { nameKey } from "../protocol/names.js";
import { isoTime } from "../protocol/time.js";
import { inboxStub, type Delivery, type DeliveryResult } from "../durable-objects/inbox.js";
import { json } from "./http.js";
import { resolveNames } from "./identity.js";
import { agentCaller, type RouteContext } from "./router.js";
import { parseSend } from "./schemas.js";

const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,128}$/;

export async function send(c: RouteContext): Promise<Response> {
  const caller = agentCaller(c);
  const body = parseSend(c.limits, c.body);
  const header = c.request.headers.get("Idempotency-Key");
  if (header !== null && !IDEMPOTENCY_KEY.test(header)) {
    throw new RelayError("BAD_REQUEST", "Idempotency-Key: expected 1-128 printable ASCII characters.");
  }
  const senderKey = nameKey(caller.name);
  // The sender is part of the hash: the same body from another agent is different content.
  const bodyHash = await sha256Hex(`${senderKey}\n${canonicalJson(body)}`);
  const base = {
    id: body.id ?? crypto.randomUUID(),
    bodyHash,
    ttlS: body.ttl ?? c.limits.defaultTtlS,
    ...(header === null ? {} : { idempotencyKey: `${senderKey}:${header}` }),
  };
  const sender = inboxStub(c.env, caller.name);

  if (typeof body.to === "string" && nameKey(body.to) === "broadcast") {
    const delivery: Delivery = { envelope: envelopeFor(body, base.id, caller.name), ...base };
    const recorded = await sender.broadcast(caller.keyHash, { delivery, expiresAt: Date.now() + base.ttlS * 1000 });
    const { known: sent, replay } = unwrap(recorded);
    const answer: SendResponse = { id: sent.id, ts: isoTime(sent.ts), recipients: [], broadcast: { status: "queued" } };
    return json(answer, replay ? 200 : 201);
  }

  const targets = Array.isArray(body.to) ? body.to : [body.to];
  const known = await resolveNames(c.env, c.ctx, targets);
  const unknown = targets.filter((name) => !known.has(nameKey(name)));
  if (unknown.length > 0) {
    throw new RelayError("UNKNOWN_RECIPIENT", `Unknown recipient${unknown.length > 1 ? "s" : ""} ${unknown.join(", ")}; nothing was sent.`, {
      names: unknown,
    });
  }
  const names = targets.map((name) => known.get(nameKey(name))!);
  const copies = names.map((name) => ({ name, delivery: { envelope: envelopeFor(body, base.id, caller.name, name), ...base } }));
  // The sender's inbox takes the rate limit and stores the copies, so it knows whether the
  // request stored anything (a rejected request counts nothing).
  const results = unwrap(await sender.send(caller.keyHash, copies));
  return answer(names, results, Array.isArray(body.to));
}

/** What each recipient's inbox stores: the sender's fields plus id and from (the inbox adds ts). */
function envelopeFor(body: SendRequest, id: string, from: string, recipient?: string): Delivery["envelope"] {
  const { payloads, id: _id, to, ...fields } = body;
  const envelope: Delivery["envelope"] = { id, from, to, ...fields, payload: body.payload ?? "" };
  // Validation guarantees exactly one `payloads` entry per recipient (names compared case-insensitively).
  const part = payloads && recipient && Object.entries(payloads).find(([name]) => nameKey(name) === nameKey(recipient))?.[1];
  if (part) {
    envelope.payload = part.payload;
    envelope.nonce = part.nonce;
    if (part.signature !== undefined) envelope.signature = part.signature;
  }
  return envelope;
}

function answer(names: string[], results: DeliveryResult[], multicast: boolean): Response {
  const recipients: RecipientReceipt[] = [];
  const rejected: RejectedRecipient[] = [];
  let id: string | undefined;
  let fresh = false;
  results.forEach((result, i) => {
    const name = names[i]!;
    if (result.status === "stored" || result.status === "duplicate") {
      recipients.push({ name, ts: isoTime(result.ts) });
      id ??= result.id;
      fresh ||= result.status === "stored";
    } else {
      rejected.push({ name, code: result.status === "full" ? "INBOX_FULL" : result.status === "conflict" ? "CONFLICT" : "UNKNOWN_RECIPIENT" });
    }
  });
  if (id === undefined || (!multicast && rejected.length > 0)) throw rejection(rejected);
  const body: SendResponse = { id, ts: recipients.map((r) => r.ts).sort()[0]!, recipients };
  if (rejected.length > 0) body.rejected = rejected;
  return json(body, fresh ? 201 : 200);
}

/** The error for a send that stored nothing: a conflict first, then a full inbox, then a vanished agent. */
function rejection(rejected: RejectedRecipient[]): RelayError {
  const names = (code: RejectedRecipient["code"]) => rejected.filter((r) => r.code === code).map((r) => r.name);
  const conflicts = names("CONFLICT");
  if (conflicts.length > 0) {
    return new RelayError("CONFLICT", "A different message was already sent with this id or Idempotency-Key; nothing was stored.", {
      names: conflicts,
    });
  }
  const full = names("INBOX_FULL");
  if (full.length > 0) {
    return new RelayError("INBOX_FULL", `The inbox of ${full.join(", ")} is full; nothing was stored. The recipient must delete messages first.`, {
      names: full,
    });
  }
  const gone = names("UNKNOWN_RECIPIENT");
  return new RelayError("UNKNOWN_RECIPIENT", `Unknown recipient ${gone.join(", ")}; nothing was sent.`, { names: gone });
}
