// Opening sealed audit payloads in the browser (SPEC §13), with the vendored tweetnacl: a sealed
// payload is base64(ephemeral X25519 public key ‖ nonce ‖ nacl.box(utf8(JSON.stringify(payload)),
// nonce, auditKey, ephemeralSecret)). The operator's secret key is used here and sent nowhere.

import "./nacl-fast.min.js"; // defines globalThis.nacl

const KEY_BYTES = 32;
const NONCE_BYTES = 24;
/** Key, nonce, the 16-byte tag, and at least one byte of JSON. */
const MIN_BYTES = KEY_BYTES + NONCE_BYTES + 16 + 1;
const STANDARD_BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** The bytes of standard base64, or null. */
function decodeBase64(text) {
  if (typeof text !== "string" || !STANDARD_BASE64.test(text)) return null;
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

/**
 * The operator's secret key from what was typed or pasted: the base64 key itself, or the whole
 * key file of `clawtalk keygen --audit` ({publicKey, secretKey}). Null when it is neither.
 */
export function parseSecretKey(text) {
  let candidate = String(text).trim();
  if (candidate.startsWith("{")) {
    try {
      candidate = String(JSON.parse(candidate).secretKey ?? "");
    } catch {
      return null;
    }
  }
  return decodeBase64(candidate)?.length === KEY_BYTES ? candidate : null;
}

/** `{value}` when the sealed payload opens with the secret key (base64), else null (another key, tampered, malformed). */
export function openSealed(sealed, secretKey) {
  const data = decodeBase64(sealed);
  const key = decodeBase64(secretKey);
  if (data === null || key === null || key.length !== KEY_BYTES || data.length < MIN_BYTES) return null;
  const nacl = globalThis.nacl;
  const opened = nacl.box.open(data.subarray(KEY_BYTES + NONCE_BYTES), data.subarray(KEY_BYTES, KEY_BYTES + NONCE_BYTES), data.subarray(0, KEY_BYTES), key);
  if (opened === null) return null;
  try {
    return { value: JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(opened)) };
  } catch {
    return null;
  }
}
