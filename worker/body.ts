// Request bodies: at most MAX_BODY_BYTES bytes (counted as bytes, whatever Content-Length
// claims), UTF-8, JSON whatever the Content-Type says (curl -d sends a form type), and strict:
// no key twice in an object, no number outside the doubles, nested no deeper than MAX_DEPTH (so
// later recursion — hashing, serializing — cannot overflow the stack). Decided here, once, for
// every route.

import { failures, RelayError } from "../protocol/errors.js";
import { strictJsonProblem } from "./strict-json.js";

const MAX_DEPTH = 32;

export async function readJsonBody(request: Request, maxBytes: number): Promise<unknown> {
  const declared = Number(request.headers.get("content-length"));
  if (Number.isFinite(declared) && declared > maxBytes) throw tooLarge(maxBytes);
  const bytes = await readLimited(request, maxBytes);
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch {
    throw new RelayError(failures.badRequest("Body is not valid UTF-8."));
  }
  if (text.trim() === "") throw new RelayError(failures.badRequest("Body is empty; expected a JSON object."));
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    const detail = error instanceof SyntaxError ? ` (${error.message})` : "";
    throw new RelayError(failures.badRequest(`Body is not valid JSON${detail}.`));
  }
  const problem = strictJsonProblem(text, MAX_DEPTH);
  if (problem !== null) throw new RelayError(failures.badRequest(problem));
  return value;
}

async function readLimited(request: Request, maxBytes: number): Promise<Uint8Array> {
  if (request.body === null) return new Uint8Array();
  // Over HTTP a declared length is what framing delivers (the check above refused one over the
  // limit), so such a body is read in one piece, which leaves less behind for the GC than chunks
  // and a copy; it is still measured, since a Request made in-process can claim anything.
  if (request.headers.has("content-length")) {
    const whole = new Uint8Array(await request.arrayBuffer());
    if (whole.byteLength > maxBytes) throw tooLarge(maxBytes);
    return whole;
  }
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel();
      throw tooLarge(maxBytes);
    }
    chunks.push(value);
  }
  const bytes = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return bytes;
}

function tooLarge(maxBytes: number): RelayError {
  return new RelayError(failures.bodyTooLarge(maxBytes));
}
