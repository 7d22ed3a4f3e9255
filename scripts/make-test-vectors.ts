// Writes the SDK's published test vectors (SPEC §5) to stdout, from fixed inputs, so a client in
// another language can check its encryption, signatures and webhook verification byte for byte:
//
//   node --import tsx scripts/make-test-vectors.ts > client/test-vectors.json
//
// Every value is computed with the SDK itself (client/crypto.ts) or, for the webhook signature,
// with the relay's own signer (standardwebhooks). The output is deterministic: the same inputs
// give the same file. test/workers/unit/client-crypto.test.ts recomputes every value inside
// workerd, and test/node/sdk.test.ts checks the signatures independently with node:crypto.

import nacl from "tweetnacl";
import { Webhook } from "standardwebhooks";
import { legacySigningInput, encrypt, sign, signingInput, type SignedFields } from "../client/crypto.js";
import { encodeBase64 } from "../protocol/base64.js";
import type { Envelope, JsonValue } from "../protocol/envelope.js";

/** `length` bytes counting up from `first` (mod 256): easy to write down in any language. */
function counting(first: number, length: number): Uint8Array {
  return Uint8Array.from({ length }, (_, i) => (first + i) & 0xff);
}

const b64 = encodeBase64;

// ---- Fixed inputs ----

const aliceBox = nacl.box.keyPair.fromSecretKey(counting(0x01, 32));
const aliceSign = nacl.sign.keyPair.fromSeed(counting(0x61, 32));
const bobBox = nacl.box.keyPair.fromSecretKey(counting(0x21, 32));
const carolBox = nacl.box.keyPair.fromSecretKey(counting(0x41, 32));

const keys = {
  description:
    "Fixed keys. X25519 (encryption): the secret key is 32 bytes, the public key is X25519(secretKey, basepoint 9), " +
    "as nacl.box.keyPair.fromSecretKey(secretKey). Ed25519 (signatures): nacl.sign.keyPair.fromSeed(seed), i.e. the " +
    "RFC 8032 key pair of the 32-byte private key `seed`; tweetnacl's 64-byte secret key is seed || publicKey. " +
    "Alice's box secret key is the bytes 0x01..0x20, Bob's 0x21..0x40, Carol's 0x41..0x60; Alice's signing seed is " +
    "0x61..0x80. An agent registers boxPublicKey as `publicKey` and signingPublicKey as `signingKey`.",
  alice: {
    name: "Alice",
    boxSecretKey: b64(aliceBox.secretKey),
    boxPublicKey: b64(aliceBox.publicKey),
    signingSeed: b64(aliceSign.secretKey.slice(0, 32)),
    signingPublicKey: b64(aliceSign.publicKey),
    signingSecretKey: b64(aliceSign.secretKey),
  },
  bob: { name: "Bob", boxSecretKey: b64(bobBox.secretKey), boxPublicKey: b64(bobBox.publicKey) },
  carol: { name: "Carol", boxSecretKey: b64(carolBox.secretKey), boxPublicKey: b64(carolBox.publicKey) },
};

// Non-ASCII in several planes (Latin-1, CJK, an emoji outside the BMP), an escaped quote and a
// newline, a nested array and numbers: the JSON text below is exactly what is encrypted.
const plaintext: JsonValue = {
  text: "Grüße aus Zürich — 東京で会いましょう 🦞",
  quote: 'She said "ok"\nthen left',
  items: [1, 2.5, -3, true, null],
  meta: { lang: "de", ünïcode: "✓" },
};

// ---- Encryption and v2 signatures ----

const recipients = { bob: bobBox, carol: carolBox } as const;

interface CaseInput {
  name: string;
  recipient: keyof typeof recipients;
  nonce: Uint8Array;
  fields: Omit<SignedFields, "payload" | "nonce" | "encrypted" | "from">;
}

function encryptedCase(input: CaseInput) {
  const sealed = encrypt(plaintext, b64(recipients[input.recipient].publicKey), b64(aliceBox.secretKey), input.nonce);
  const { id, to, ...rest } = input.fields;
  const envelope: SignedFields = { id, from: "Alice", to, ...rest, encrypted: true, payload: sealed.payload, nonce: sealed.nonce };
  return {
    name: input.name,
    sender: "alice",
    recipient: input.recipient,
    nonce: sealed.nonce,
    payload: sealed.payload,
    envelope,
    signingInput: signingInput(envelope),
    signature: sign(envelope, b64(aliceSign.secretKey)),
  };
}

const full = {
  type: "request" as const,
  topic: "sync/orders.v2",
  correlationId: "corr-0001",
  replyTo: "00000000-0000-4000-8000-000000000001",
  sentAt: "2026-01-01T12:00:00.000Z",
};

const encryptedCases = [
  encryptedCase({
    name: "direct: `to` is one name, every optional field present",
    recipient: "bob",
    nonce: counting(0xa0, 24),
    fields: { id: "6f9b2a52-6a1e-4c1e-9d55-5d3f1c2b7a01", to: "Bob", ...full },
  }),
  encryptedCase({
    name: "encrypted multicast, Bob's copy: `to` is the whole recipient list",
    recipient: "bob",
    nonce: counting(0xb0, 24),
    fields: { id: "6f9b2a52-6a1e-4c1e-9d55-5d3f1c2b7a02", to: ["Bob", "Carol"], ...full },
  }),
  encryptedCase({
    name: "encrypted multicast, Carol's copy: same id and `to`, its own nonce, ciphertext and signature",
    recipient: "carol",
    nonce: counting(0xc0, 24),
    fields: { id: "6f9b2a52-6a1e-4c1e-9d55-5d3f1c2b7a02", to: ["Bob", "Carol"], ...full },
  }),
];

const plainEnvelope: SignedFields = {
  id: "6f9b2a52-6a1e-4c1e-9d55-5d3f1c2b7a03",
  from: "Alice",
  to: "Bob",
  type: "notification",
  sentAt: "2026-01-01T12:00:01.000Z",
  encrypted: false,
  payload: { zeta: "last", alpha: "Grüße 🦞", nested: { b: 2, a: [1, "x"] }, ctrl: "tab\there" },
};

// ---- Legacy signatures (the original ClawTalk client) ----

function legacyCase(name: string, envelope: Envelope, withTtl: boolean) {
  const input = legacySigningInput(envelope, withTtl);
  return {
    name,
    withTtl,
    envelope,
    signingInput: input,
    signature: b64(nacl.sign.detached(new TextEncoder().encode(input), aliceSign.secretKey)),
  };
}

const legacyBase: Envelope = {
  id: "legacy-0001",
  from: "Alice",
  to: "Bob",
  ts: "2026-01-01T12:00:02.000Z",
  type: "request",
  topic: "sync",
  correlationId: "corr-legacy",
  encrypted: true,
  payload: encryptedCases[0]!.payload,
  nonce: encryptedCases[0]!.nonce,
  ttl: 3600,
};

const { ttl: _ttl, ...withoutTtl } = legacyBase;

// ---- Webhook (Standard Webhooks) ----

const webhookSecret = `whsec_${b64(counting(0xe0, 32))}`;
const webhookId = "6f9b2a52-6a1e-4c1e-9d55-5d3f1c2b7a01.bob";
const webhookTimestamp = 1767268800; // 2026-01-01T12:00:00Z
const webhookBody = JSON.stringify({ ...encryptedCases[0]!.envelope, signature: encryptedCases[0]!.signature, ts: "2026-01-01T12:00:00.123Z" });

// ---- Output ----

const vectors = {
  description:
    "ClawTalk SDK test vectors (SPEC §5, §4.4): fixed keys, nonces and plaintext, with the expected ciphertext, " +
    "signing input, signature and webhook signature, so a client in another language can match byte for byte. " +
    "Binary values are standard base64 (RFC 4648 §4, with padding); text is UTF-8.",
  regenerate: "node --import tsx scripts/make-test-vectors.ts > client/test-vectors.json",
  keys,
  encryption: {
    description:
      "payload = base64(nacl.box(utf8(JSON.stringify(plaintext)), nonce, recipient boxPublicKey, sender boxSecretKey)): " +
      "NaCl crypto_box (X25519 key agreement, HSalsa20 key derivation, XSalsa20-Poly1305), output = 16-byte Poly1305 tag || " +
      "ciphertext, so the payload decodes to 16 bytes more than the plaintext. `plaintextJson` is the exact text encrypted " +
      "(ECMAScript JSON.stringify: insertion key order, no whitespace, non-ASCII as is). The nonce is 24 bytes, random in real " +
      "use and fixed here. Decrypting opens the box with the sender's boxPublicKey and the recipient's boxSecretKey and parses " +
      "the JSON. The payloads are in signatures.cases (each case names its recipient and nonce).",
    plaintext,
    plaintextJson: JSON.stringify(plaintext),
  },
  signatures: {
    description:
      "v2 signature = base64(Ed25519 detached signature, RFC 8032, with the sender's signing key) over utf8(signingInput), " +
      "where signingInput is the RFC 8785 canonical JSON (JCS: keys sorted by UTF-16 code units, no whitespace, ECMAScript " +
      "number and string serialization) of {v: 2, id, from, to, type, topic, correlationId, replyTo, sentAt, encrypted, payload, " +
      "nonce}, absent fields left out (`v` is not sent; `ts`, `ttl` and `signature` are not covered). `to` is the recipients as " +
      "the sender wrote them: one name, or for a multicast the whole list (each recipient's copy carries its own payload, nonce " +
      "and signature). The receiver rebuilds signingInput from the stored envelope and verifies against the directory's " +
      "signingKey of `from`.",
    cases: [
      ...encryptedCases,
      {
        name: "plaintext: object payload canonicalized (keys sorted, nested), absent optional fields left out",
        sender: "alice",
        envelope: plainEnvelope,
        signingInput: signingInput(plainEnvelope),
        signature: sign(plainEnvelope, b64(aliceSign.secretKey)),
      },
    ],
  },
  legacySignatures: {
    description:
      "The original ClawTalk client's form, still accepted (reported as legacy): signature = base64(Ed25519 over " +
      "utf8(JSON.stringify({to, type, topic, correlationId, ttl, encrypted, payload, nonce}))) in exactly that key order, " +
      "undefined fields dropped. A verifier tries the form with `ttl`, then without it.",
    cases: [
      legacyCase("with ttl", legacyBase, true),
      legacyCase("without ttl (the envelope has no ttl)", { ...withoutTtl, id: "legacy-0002" }, false),
    ],
  },
  webhook: {
    description:
      "Standard Webhooks: webhook-signature = 'v1,' + base64(HMAC-SHA256(key, utf8(signedContent))) where key = " +
      "base64decode(secret without its 'whsec_' prefix) and signedContent = webhook-id + '.' + webhook-timestamp + '.' + " +
      "raw body. webhook-timestamp is Unix seconds; receivers refuse timestamps more than 5 minutes away. During a secret " +
      "rotation the header holds several space-separated signatures; any one matching is enough.",
    secret: webhookSecret,
    id: webhookId,
    timestamp: webhookTimestamp,
    body: webhookBody,
    signedContent: `${webhookId}.${webhookTimestamp}.${webhookBody}`,
    signature: new Webhook(webhookSecret).sign(webhookId, new Date(webhookTimestamp * 1000), webhookBody),
  },
};

process.stdout.write(`${JSON.stringify(vectors, null, 2)}\n`);
