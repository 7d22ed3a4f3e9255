// POST /messages (SPEC §4.1): check every recipient exists, then hand the message to the
// sender's Inbox, which takes the rate limit and stores one copy in each recipient's Inbox before
// answering (durable-objects/outbox.ts). A broadcast is recorded there and fanned out by its alarm.

import { z } from "zod";
import { canonicalJson } from "../../protocol/canonical.js";
import { sha256Hex } from "../../protocol/digest.js";
import type { RecipientReceipt, RejectedRecipient, SendRequest, SendResponse } from "../../protocol/envelope.js";
import { failures, RelayError, unwrap } from "../../protocol/errors.js";
import { nameKey } from "../../protocol/names.js";
import { isoTime } from "../../protocol/time.js";
import { sendResponse } from "../../protocol/wire-schemas.js";
import { REJECTED_CODE, type AcceptResult, type OutgoingMessage } from "../../durable-objects/outbox.js";
import { inboxStub } from "../../durable-objects/stubs.js";
import { json } from "../http.js";
import { resolveNames } from "../identity.js";
import { endpoint, type RouteContext } from "../router.js";
import { bodies } from "../schemas.js";

const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,128}$/;

export const sendEndpoint = endpoint({
  operationId: "sendMessage",
  summary: "Send a message (direct, multicast or broadcast)",
  access: "agent",
  keyCheck: "handler",
  body: bodies.send,
  headers: [
    {
      name: "Idempotency-Key",
      description: "Makes a send without a client id repeatable: the same key and content answers 200 with the first answer, other content 409",
      schema: z.string().regex(IDEMPOTENCY_KEY),
    },
  ],
  answers: {
    201: { description: "Stored in every recipient's inbox (multicast: those not under rejected); a broadcast is recorded and queued", json: sendResponse },
    200: { description: "A repeat of an earlier send (same id or Idempotency-Key, same content): its first answer, nothing stored again", json: sendResponse },
  },
  fails: ["UNKNOWN_RECIPIENT", "CONFLICT", "RATE_LIMITED", "UNAVAILABLE", "INBOX_FULL"],
  handle: send,
});

async function send(c: RouteContext<"agent", SendRequest>): Promise<Response> {
  const sent = await sendMessage(c, c.body, c.request.headers.get("Idempotency-Key"));
  return json(sent.answer, sent.status);
}

export interface Sent {
  status: 200 | 201;
  answer: SendResponse;
}

/**
 * The send itself, for POST /messages and the MCP tool send_message (worker/mcp-backend.ts):
 * `body` validated by bodies.send, `header` the Idempotency-Key (or null).
 */
export async function sendMessage(c: RouteContext<"agent", unknown>, body: SendRequest, header: string | null): Promise<Sent> {
  const { caller } = c;
  if (header !== null && !IDEMPOTENCY_KEY.test(header)) {
    throw new RelayError(failures.badRequest("Idempotency-Key: expected 1-128 printable ASCII characters."));
  }
  const senderKey = nameKey(caller.name);
  // Only a send that can be repeated (a client id or an Idempotency-Key) is ever compared with an
  // earlier one, so only then is its content hashed. The sender is part of the hash: the same body
  // from another agent is different content.
  const repeatable = body.id !== undefined || header !== null;
  const bodyHash = repeatable ? await sha256Hex(`${senderKey}\n${canonicalJson(body)}`) : null;
  const { payloads, id: _id, to, ...fields } = body;
  const message: OutgoingMessage = {
    envelope: { id: body.id ?? crypto.randomUUID(), from: caller.name, to, ...fields, payload: body.payload ?? "" },
    recipients: [],
    ttlS: body.ttl ?? c.limits.defaultTtlS,
    bodyHash,
    clientId: body.id !== undefined,
    ...(header === null ? {} : { idempotencyKey: `${senderKey}:${header}` }),
  };
  const sender = inboxStub(c.env, caller.name);

  if (typeof to === "string" && nameKey(to) === "broadcast") {
    const recorded = unwrap(await sender.broadcast(caller.keyHash, message));
    const answer: SendResponse = { id: recorded.id, ts: isoTime(recorded.ts), recipients: [], broadcast: { status: "queued" } };
    return { answer, status: recorded.replay ? 200 : 201 };
  }

  const targets = Array.isArray(to) ? to : [to];
  const known = await resolveNames(c.env, c.ctx, targets);
  const unknown = targets.filter((name) => !known.has(nameKey(name)));
  if (unknown.length > 0) throw new RelayError(failures.unknownRecipients(unknown));
  message.recipients = targets.map((name) => known.get(nameKey(name))!);
  // Validation guarantees exactly one `payloads` entry per recipient (names compared case-insensitively).
  if (payloads) message.parts = Object.fromEntries(Object.entries(payloads).map(([name, part]) => [nameKey(name), part]));
  const results = unwrap(await sender.send(caller.keyHash, message));
  return answer(message.recipients, results, Array.isArray(to));
}

function answer(names: string[], results: AcceptResult[], multicast: boolean): Sent {
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
      rejected.push({ name, code: REJECTED_CODE[result.status] });
    }
  });
  if (id === undefined || (!multicast && rejected.length > 0)) throw new RelayError(rejection(rejected));
  const body: SendResponse = { id, ts: recipients.map((r) => r.ts).sort()[0]!, recipients };
  if (rejected.length > 0) body.rejected = rejected;
  return { answer: body, status: fresh ? 201 : 200 };
}

/** The error for a send that stored nothing: a conflict first, then a full inbox, a refusing one, an unreachable one, a vanished agent. */
function rejection(rejected: RejectedRecipient[]) {
  const names = (code: RejectedRecipient["code"]) => rejected.filter((r) => r.code === code).map((r) => r.name);
  const conflicts = names("CONFLICT");
  if (conflicts.length > 0) return failures.idConflict(conflicts);
  const full = names("INBOX_FULL");
  if (full.length > 0) return failures.inboxFull(full);
  const refusing = names("NOT_ACCEPTED");
  if (refusing.length > 0) return failures.notAccepted(refusing);
  const unavailable = names("UNAVAILABLE");
  if (unavailable.length > 0) return failures.recipientsUnavailable(unavailable);
  return failures.unknownRecipients(names("UNKNOWN_RECIPIENT"));
}
