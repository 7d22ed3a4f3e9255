// The error catalog: every error the relay can answer, one line each. Handlers and objects
// name a code; the Worker renders `{ error, code, ...extra }` in one place (worker/http.ts).

export const ERRORS = {
  BAD_REQUEST: { status: 400, message: "The request is not valid." },
  UNAUTHORIZED: { status: 401, message: "Missing or invalid API key: send Authorization: Bearer <key>." },
  FORBIDDEN: { status: 403, message: "This key may not do that." },
  NOT_FOUND: { status: 404, message: "Not found." },
  UNKNOWN_RECIPIENT: { status: 404, message: "Unknown recipient; nothing was sent." },
  METHOD_NOT_ALLOWED: { status: 405, message: "Method not allowed on this path." },
  CONFLICT: { status: 409, message: "Conflict with existing state." },
  PAYLOAD_TOO_LARGE: { status: 413, message: "Request body too large." },
  RATE_LIMITED: { status: 429, message: "Rate limit exceeded; retry later." },
  INBOX_FULL: { status: 507, message: "The recipient's inbox is full." },
  AUDIT_FULL: { status: 507, message: "The audit log is full; the admin must clear old entries." },
  INTERNAL_ERROR: { status: 500, message: "Internal error." },
} as const satisfies Record<string, { status: number; message: string }>;

export type ErrorCode = keyof typeof ERRORS;

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

/** A failure returned (not thrown) across Durable Object RPC, where custom error fields are lost. */
export interface Failure extends ErrorExtra {
  fail: ErrorCode;
  message?: string;
}

export function failure(code: ErrorCode, message?: string, extra?: ErrorExtra): Failure {
  return { fail: code, ...(message === undefined ? {} : { message }), ...extra };
}

export function isFailure(value: unknown): value is Failure {
  return typeof value === "object" && value !== null && "fail" in value;
}

/** Thrown inside the Worker; rendered by the one error renderer. */
export class RelayError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string = ERRORS[code].message,
    readonly extra: ErrorExtra = {},
    /** HTTP headers the error needs (e.g. `Allow` on a 405). */
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }

  static from(f: Failure): RelayError {
    const { fail, message, ...extra } = f;
    return new RelayError(fail, message ?? ERRORS[fail].message, extra);
  }
}

/** The value of an RPC result, or the RelayError its failure stands for. */
export function unwrap<T>(result: T): Exclude<T, Failure> {
  if (isFailure(result)) throw RelayError.from(result);
  return result as Exclude<T, Failure>;
}
