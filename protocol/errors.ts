// The error catalog: every distinct failure the relay can answer, one named value each (a wire
// `code`, a sentence, extra fields), in the manner of ntfy's errors.go. Handlers and objects
// return or throw these values; the Worker renders `{ error, code, ...extra }` in one place
// (worker/http.ts). A client switches on `code`; the sentence is for people.

/** Wire codes and their HTTP status (SPEC §9). */
export const ERROR_STATUS = {
  BAD_REQUEST: 400,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  NOT_ACCEPTED: 403,
  NOT_FOUND: 404,
  UNKNOWN_RECIPIENT: 404,
  METHOD_NOT_ALLOWED: 405,
  CONFLICT: 409,
  LOOP_DETECTED: 409,
  PAYLOAD_TOO_LARGE: 413,
  RATE_LIMITED: 429,
  INTERNAL_ERROR: 500,
  UNAVAILABLE: 503,
  INBOX_FULL: 507,
  AUDIT_FULL: 507,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;

/** Optional fields an error may carry beside `error` and `code`. */
export interface ErrorExtra {
  names?: string[];
  retryAfter?: number;
  requestId?: string;
}

export interface ErrorBody extends ErrorExtra {
  error: string;
  code: ErrorCode;
}

/**
 * A failure as a plain value: it crosses Durable Object RPC intact (thrown errors lose their
 * fields there), so objects return these and the Worker throws them.
 */
export interface Failure extends ErrorExtra {
  fail: ErrorCode;
  message: string;
}

function failure(code: ErrorCode, message: string, extra: ErrorExtra = {}): Failure {
  return { fail: code, message, ...extra };
}

const list = (names: string[]) => names.join(", ");

/** Every failure, by what went wrong. */
export const failures = {
  // 400: validation messages name the field and what was expected; they are built where checked.
  badRequest: (message: string) => failure("BAD_REQUEST", message),

  /** The relay's MCP endpoint holds no private keys (SPEC §11.3). */
  remoteCannotEncrypt: failure(
    "BAD_REQUEST",
    "This remote MCP endpoint holds no private keys, so it cannot encrypt: leave encrypt out to send plaintext, or run the local MCP server (npx clawtalk mcp --key-file FILE), which encrypts and signs end to end.",
  ),

  // 401
  missingAuthorization: failure("UNAUTHORIZED", "Missing Authorization header; send Authorization: Bearer <key>."),
  malformedAuthorization: failure("UNAUTHORIZED", "Malformed Authorization header; send Authorization: Bearer <key>."),
  invalidKey: failure("UNAUTHORIZED", "Invalid API key."),
  adminKeyRequired: failure("UNAUTHORIZED", "This route needs the admin key; an agent key is not accepted here."),

  // 403
  agentKeyRequired: failure("FORBIDDEN", "This route acts on an agent's own inbox; use that agent's key."),
  ownRecordOnly: failure("FORBIDDEN", "An agent may act only on its own record."),
  adminHasNoRecord: failure("FORBIDDEN", "The admin key has no record of its own; name the agent."),
  ownerAdminOnly: failure("FORBIDDEN", "Only the admin may change owner."),
  inviteUnknown: failure("FORBIDDEN", "Unknown invite code."),
  inviteExpired: failure("FORBIDDEN", "This invite has expired."),
  inviteUsedUp: failure("FORBIDDEN", "This invite has been used up."),
  auditNotSender: failure("FORBIDDEN", "For a sent message, `from` must be the caller."),
  auditNotRecipient: failure("FORBIDDEN", "For a received message, the caller must be among `to`."),
  notAccepted: (names: string[]) =>
    failure("NOT_ACCEPTED", `${list(names)} accept${names.length === 1 ? "s" : ""} messages from their contacts only; nothing was stored.`, { names }),

  // 404
  noRoute: (path: string) => failure("NOT_FOUND", `No route for ${path}.`),
  malformedPath: (param: string) => failure("NOT_FOUND", `Malformed percent-encoding in ${param}.`),
  noSuchAgent: failure("NOT_FOUND", "No such agent."),
  noSuchMessage: failure("NOT_FOUND", "No message with this id in your inbox."),
  noSuchSentMessage: failure("NOT_FOUND", "No message with this id among the messages this agent sent (receipts are kept for the message's TTL)."),
  noSuchInvite: failure("NOT_FOUND", "No such invite."),
  noWebhookUrl: failure("NOT_FOUND", "This agent has no webhookUrl; set one with PATCH first."),
  unknownRecipients: (names: string[]) =>
    failure("UNKNOWN_RECIPIENT", `Unknown recipient${names.length > 1 ? "s" : ""} ${list(names)}; nothing was sent.`, { names }),

  // 405
  methodNotAllowed: (method: string, allow: string) => failure("METHOD_NOT_ALLOWED", `${method} is not allowed here; use ${allow}.`),

  // 409
  nameTaken: (name: string) => failure("CONFLICT", `The name "${name}" is taken.`),
  nameLooksLike: (name: string, existing: string) =>
    failure("CONFLICT", `The name "${name}" looks like the existing agent "${existing}" (the same look-alike form); choose another.`),
  loopDetected: (depth: number, max: number) =>
    failure("LOOP_DETECTED", `This reply would be ${depth} replies deep, beyond MAX_REPLY_DEPTH (${max}): two agents are answering each other in a loop. Nothing was sent; stop replying automatically to this thread.`),
  keysChanged: failure("CONFLICT", "The agent's keys changed while this change was checked; read them again and retry."),
  idConflict: (names?: string[]) =>
    failure("CONFLICT", "A different message was already sent with this id or Idempotency-Key; nothing was stored.", names ? { names } : {}),

  // 413
  bodyTooLarge: (maxBytes: number) => failure("PAYLOAD_TOO_LARGE", `Request body exceeds ${maxBytes} bytes.`),

  // 429
  sendRateLimited: (perWindow: number, windowS: number, retryAfter: number) =>
    failure("RATE_LIMITED", `Rate limit of ${perWindow} sends per ${windowS} s exceeded.`, { retryAfter }),
  broadcastRateLimited: (perWindow: number, windowS: number, retryAfter: number) =>
    failure("RATE_LIMITED", `Broadcast limit of ${perWindow} per ${windowS} s exceeded.`, { retryAfter }),

  auditRateLimited: (perWindow: number, windowS: number, retryAfter: number) =>
    failure("RATE_LIMITED", `Audit limit of ${perWindow} entries per ${windowS} s exceeded.`, { retryAfter }),

  // 503
  /** The agent's own inbox could not take its settings (a registration or a change of the agent): nothing changed. */
  agentInboxUnavailable: (name: string) =>
    failure("UNAVAILABLE", `The inbox of ${name} could not be reached; nothing was changed. Try again in a moment.`, { names: [name], retryAfter: 1 }),
  recipientsUnavailable: (names: string[]) =>
    failure("UNAVAILABLE", `The inbox of ${list(names)} could not be reached; nothing was stored there. Send again (with the same id, only the missing copies are stored).`, { names }),

  // 507
  inboxFull: (names: string[]) =>
    failure("INBOX_FULL", `The inbox of ${list(names)} is full; nothing was stored. The recipient must delete messages first.`, { names }),

  auditFull: (max: number) =>
    failure("AUDIT_FULL", `The audit log holds its maximum of ${max} entries; the admin must clear old ones (DELETE /audit?before=...).`),

  // 500
  internal: (requestId: string) => failure("INTERNAL_ERROR", `Internal error (request ${requestId}).`, { requestId }),
} as const;

/** An unexpected error as one log line (its name and message; never a payload or a stack). */
export function describeError(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : "unknown error";
}

export function isFailure(value: unknown): value is Failure {
  return typeof value === "object" && value !== null && "fail" in value;
}

/** A failure thrown inside the Worker; rendered by the one error renderer. */
export class RelayError extends Error {
  constructor(
    readonly failure: Failure,
    /** HTTP headers the error needs (e.g. `Allow` on a 405). */
    readonly headers: Record<string, string> = {},
  ) {
    super(failure.message);
  }

  get code(): ErrorCode {
    return this.failure.fail;
  }
}

/** The value of an RPC result, or the RelayError its failure stands for. */
export function unwrap<T>(result: T): Exclude<T, Failure> {
  if (isFailure(result)) throw new RelayError(result);
  return result as Exclude<T, Failure>;
}
