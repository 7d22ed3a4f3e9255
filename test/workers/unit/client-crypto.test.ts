// The SDK's crypto inside workerd (SPEC §5, §6 "runs on ... Workers"): every value of the published
// test vectors (client/test-vectors.json, made by scripts/make-test-vectors.ts) is recomputed here
// with the SDK and compared byte for byte, and tweetnacl itself is checked against published
// vectors (the NaCl box example of "Cryptography in NaCl", RFC 8032 test 1), so the vectors rest
// on known-good primitives. test/node/sdk.test.ts checks the same signatures with node:crypto.

import nacl from "tweetnacl";
import { describe, expect, it } from "vitest";
import vectors from "../../../client/test-vectors.json";
import { decrypt, encrypt, legacySigningInput, sign, signingInput, verifySignature, type SignedFields } from "../../../client/crypto.js";
import { verifyWebhook } from "../../../client/webhook.js";
import { decodeBase64, encodeBase64 } from "../../../protocol/base64.js";
import type { Envelope, JsonValue } from "../../../protocol/envelope.js";

// ---------------------------------------------------------------------------------------------
// Helpers

const utf8 = new TextEncoder();

function bytes(base64: string): Uint8Array {
  const decoded = decodeBase64(base64);
  if (decoded === null) throw new Error(`not standard base64: ${base64}`);
  return decoded;
}

function hex(text: string): Uint8Array {
  const clean = text.replace(/\s+/g, "");
  return Uint8Array.from({ length: clean.length / 2 }, (_, i) => parseInt(clean.slice(i * 2, i * 2 + 2), 16));
}

const toHex = (data: Uint8Array) => Array.from(data, (b) => b.toString(16).padStart(2, "0")).join("");

/** `length` bytes counting up from `first`, as the vectors' key descriptions say. */
const counting = (first: number, length: number) => Uint8Array.from({ length }, (_, i) => (first + i) & 0xff);

// The JSON module types strings as `string`; the vectors hold envelopes of the wire types.
const asFields = (envelope: unknown) => envelope as SignedFields;
const asEnvelope = (envelope: unknown) => envelope as Envelope;

type KeyName = "alice" | "bob" | "carol";
const keys = vectors.keys;
const boxKey = (name: KeyName) => keys[name];
const alice = keys.alice;
const plaintext = vectors.encryption.plaintext as JsonValue;

interface EncryptedCase {
  name: string;
  recipient: KeyName;
  nonce: string;
  payload: string;
  envelope: unknown;
  signingInput: string;
  signature: string;
}

const encryptedCases: EncryptedCase[] = vectors.signatures.cases.flatMap((c) => {
  const { recipient, nonce, payload } = c as { recipient?: string; nonce?: string; payload?: string };
  if (recipient === undefined || nonce === undefined || payload === undefined) return [];
  if (recipient !== "alice" && recipient !== "bob" && recipient !== "carol") throw new Error(`unknown recipient ${recipient}`);
  return [{ name: c.name, recipient, nonce, payload, envelope: c.envelope, signingInput: c.signingInput, signature: c.signature }];
});

// ---------------------------------------------------------------------------------------------

describe("tweetnacl against published vectors", () => {
  // "Cryptography in NaCl" (D. J. Bernstein), §2 and §7-§9: alicesk, bobsk, the nonce and the
  // 131-byte message; the box is the 16-byte authenticator followed by the 131-byte ciphertext.
  const alicesk = hex("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a");
  const alicepk = hex("8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a");
  const bobsk = hex("5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb");
  const bobpk = hex("de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f");
  const nonce = hex("69696ee955b62b73cd62bda875fc73d68219e0036b7a0b37");
  const message = hex(`
    be075fc53c81f2d5cf141316ebeb0c7b5228c52a4c62cbd44b66849b64244ffce5ecbaaf33bd751a1ac728d45e6c6129
    6cdc3c01233561f41db66cce314adb310e3be8250c46f06dceea3a7fa1348057e2f6556ad6b1318a024a838f21af1fde
    048977eb48f59ffd4924ca1c60902e52f0a089bc76897040e082f937763848645e0705`);
  const box = hex(`
    f3ffc7703f9400e52a7dfb4b3d3305d98e993b9f48681273c29650ba32fc76ce48332ea7164d96a4476fb8c531a1186a
    c0dfc17c98dce87b4da7f011ec48c97271d2c20f9b928fe2270d6fb863d51738b48eeee314a7cc8ab932164548e526ae
    90224368517acfeabd6bb3732bc0e9da99832b61ca01b6de56244a9e88d5f9b37973f622a43d14a6599b1f654cb45a74
    e355a5`);

  it("derives Alice's and Bob's public keys from their secret keys (Curve25519 base point)", () => {
    expect(toHex(nacl.box.keyPair.fromSecretKey(alicesk).publicKey)).toBe(toHex(alicepk));
    expect(toHex(nacl.box.keyPair.fromSecretKey(bobsk).publicKey)).toBe(toHex(bobpk));
  });

  it("boxes the paper's message from Alice to Bob into the published ciphertext, and Bob opens it", () => {
    expect(message.length).toBe(131);
    expect(box.length).toBe(147);
    expect(toHex(nacl.box(message, nonce, bobpk, alicesk))).toBe(toHex(box));
    expect(toHex(nacl.box.open(box, nonce, alicepk, bobsk)!)).toBe(toHex(message));
  });

  it("signs RFC 8032 §7.1 test 1 (empty message) into the published signature", () => {
    const pair = nacl.sign.keyPair.fromSeed(hex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60"));
    expect(toHex(pair.publicKey)).toBe("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a");
    expect(toHex(nacl.sign.detached(new Uint8Array(0), pair.secretKey))).toBe(
      "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b",
    );
  });
});

describe("test vectors: keys", () => {
  it("holds the fixed secret keys and seed the description names", () => {
    expect(toHex(bytes(keys.alice.boxSecretKey))).toBe(toHex(counting(0x01, 32)));
    expect(toHex(bytes(keys.bob.boxSecretKey))).toBe(toHex(counting(0x21, 32)));
    expect(toHex(bytes(keys.carol.boxSecretKey))).toBe(toHex(counting(0x41, 32)));
    expect(toHex(bytes(keys.alice.signingSeed))).toBe(toHex(counting(0x61, 32)));
  });

  it.each(["alice", "bob", "carol"] as const)("derives %s's X25519 public key from the secret key", (name) => {
    expect(encodeBase64(nacl.box.keyPair.fromSecretKey(bytes(keys[name].boxSecretKey)).publicKey)).toBe(keys[name].boxPublicKey);
  });

  it("derives Alice's Ed25519 key pair from the seed (secret key = seed || public key)", () => {
    const pair = nacl.sign.keyPair.fromSeed(bytes(alice.signingSeed));
    expect(encodeBase64(pair.publicKey)).toBe(alice.signingPublicKey);
    expect(encodeBase64(pair.secretKey)).toBe(alice.signingSecretKey);
    expect(bytes(alice.signingSecretKey).length).toBe(64);
  });
});

describe("test vectors: encryption", () => {
  it("the plaintext JSON is JSON.stringify of the plaintext value, with its unicode unescaped", () => {
    expect(vectors.encryption.plaintextJson).toBe(JSON.stringify(plaintext));
    expect(vectors.encryption.plaintextJson).toContain("東京");
    expect(vectors.encryption.plaintextJson).toContain("🦞");
  });

  it("covers a direct message and both copies of a multicast", () => {
    expect(encryptedCases.map((c) => c.recipient)).toEqual(["bob", "bob", "carol"]);
    expect(new Set(encryptedCases.map((c) => c.nonce)).size).toBe(3);
  });

  it.each(encryptedCases.map((c) => [c.name, c] as const))("%s: encrypt() gives the expected payload", (_name, c) => {
    const sealed = encrypt(plaintext, boxKey(c.recipient).boxPublicKey, alice.boxSecretKey, bytes(c.nonce));
    expect(sealed).toEqual({ payload: c.payload, nonce: c.nonce });
    // nacl.box output: 16-byte Poly1305 tag + one ciphertext byte per plaintext byte.
    expect(bytes(c.payload).length).toBe(utf8.encode(vectors.encryption.plaintextJson).length + 16);
    expect(asFields(c.envelope).payload).toBe(c.payload);
    expect(asFields(c.envelope).nonce).toBe(c.nonce);
  });

  it.each(encryptedCases.map((c) => [c.name, c] as const))("%s: the recipient decrypts it, nobody else does", (_name, c) => {
    expect(decrypt(c.payload, c.nonce, alice.boxPublicKey, boxKey(c.recipient).boxSecretKey)).toEqual(plaintext);
    const other = c.recipient === "bob" ? keys.carol : keys.bob;
    expect(decrypt(c.payload, c.nonce, alice.boxPublicKey, other.boxSecretKey)).toBeNull();
    expect(decrypt(c.payload, encryptedCases.find((x) => x.nonce !== c.nonce)!.nonce, alice.boxPublicKey, boxKey(c.recipient).boxSecretKey)).toBeNull();
  });

  it("a payload with one flipped byte does not decrypt", () => {
    const c = encryptedCases[0]!;
    const tampered = bytes(c.payload);
    tampered[20] = tampered[20]! ^ 0x01;
    expect(decrypt(encodeBase64(tampered), c.nonce, alice.boxPublicKey, keys.bob.boxSecretKey)).toBeNull();
  });
});

describe("test vectors: v2 signatures", () => {
  const cases = vectors.signatures.cases.map((c) => [c.name, c] as const);

  it.each(cases)("%s: signingInput() is the canonical JSON given", (_name, c) => {
    expect(signingInput(asFields(c.envelope))).toBe(c.signingInput);
  });

  it.each(cases)("%s: sign() gives the expected signature", (_name, c) => {
    expect(sign(asFields(c.envelope), alice.signingSecretKey)).toBe(c.signature);
    expect(nacl.sign.detached.verify(utf8.encode(c.signingInput), bytes(c.signature), bytes(alice.signingPublicKey))).toBe(true);
  });

  it.each(cases)("%s: verifySignature() on the stored envelope says valid", (_name, c) => {
    const stored = { ...asEnvelope(c.envelope), ts: "2026-01-01T12:00:00.123Z", ttl: 86400, signature: c.signature };
    expect(verifySignature(stored, alice.signingPublicKey)).toBe("valid");
  });

  it("the signing input is sorted, unspaced, and leaves absent fields out", () => {
    const direct = vectors.signatures.cases[0]!.signingInput;
    expect(direct.startsWith('{"correlationId":"corr-0001","encrypted":true,"from":"Alice","id":')).toBe(true);
    expect(direct.endsWith('"to":"Bob","topic":"sync/orders.v2","type":"request","v":2}')).toBe(true);
    const plain = vectors.signatures.cases[3]!.signingInput;
    expect(plain).not.toMatch(/"(topic|correlationId|replyTo|nonce)"/);
    expect(plain).toContain('"payload":{"alpha":"Grüße 🦞","ctrl":"tab\\there","nested":{"a":[1,"x"],"b":2},"zeta":"last"}');
  });

  it("the multicast copies sign `to` as the whole recipient list", () => {
    for (const c of encryptedCases.slice(1)) expect(c.signingInput).toContain('"to":["Bob","Carol"]');
  });

  it("every covered field matters: changing one makes the signature invalid", () => {
    const c = vectors.signatures.cases[1]!;
    const stored = { ...asEnvelope(c.envelope), ts: "2026-01-01T12:00:00.123Z", signature: c.signature };
    const changes: Partial<Envelope>[] = [
      { id: "6f9b2a52-6a1e-4c1e-9d55-5d3f1c2b7a99" },
      { from: "Mallory" },
      { to: ["Bob"] },
      { to: "Bob" },
      { type: "notification" },
      { topic: "other" },
      { correlationId: "corr-0002" },
      { replyTo: "00000000-0000-4000-8000-000000000002" },
      { sentAt: "2026-01-01T12:00:00.001Z" },
      { nonce: encryptedCases[2]!.nonce },
      { payload: encryptedCases[2]!.payload },
    ];
    for (const change of changes) expect(verifySignature({ ...stored, ...change }, alice.signingPublicKey), JSON.stringify(change)).toBe("invalid");
    // Fields outside the signature (ts, ttl) may change.
    expect(verifySignature({ ...stored, ts: "2027-01-01T00:00:00.000Z", ttl: 60 }, alice.signingPublicKey)).toBe("valid");
  });

  it("one multicast copy's signature does not verify the other copy", () => {
    const [, bob, carol] = encryptedCases;
    expect(verifySignature({ ...asEnvelope(carol!.envelope), ts: "2026-01-01T12:00:00.123Z", signature: bob!.signature }, alice.signingPublicKey)).toBe("invalid");
  });

  it("a signature checked against another signing key is invalid; no signature is unsigned", () => {
    const c = vectors.signatures.cases[0]!;
    const other = encodeBase64(nacl.sign.keyPair.fromSeed(counting(0x90, 32)).publicKey);
    const stored = { ...asEnvelope(c.envelope), ts: "2026-01-01T12:00:00.123Z" };
    expect(verifySignature({ ...stored, signature: c.signature }, other)).toBe("invalid");
    expect(verifySignature(stored, alice.signingPublicKey)).toBe("unsigned");
    expect(verifySignature({ ...stored, signature: "not base64!" }, alice.signingPublicKey)).toBe("invalid");
  });
});

describe("test vectors: legacy signatures", () => {
  const cases = vectors.legacySignatures.cases.map((c) => [c.name, c] as const);

  it.each(cases)("%s: legacySigningInput() is the JSON text given", (_name, c) => {
    expect(legacySigningInput(asEnvelope(c.envelope), c.withTtl)).toBe(c.signingInput);
  });

  it.each(cases)("%s: the signature is Ed25519 over that text with Alice's key", (_name, c) => {
    const secret = bytes(alice.signingSecretKey);
    expect(encodeBase64(nacl.sign.detached(utf8.encode(c.signingInput), secret))).toBe(c.signature);
  });

  it.each(cases)("%s: verifySignature() says legacy", (_name, c) => {
    expect(verifySignature({ ...asEnvelope(c.envelope), signature: c.signature }, alice.signingPublicKey)).toBe("legacy");
  });

  it("the legacy form keeps the original key order, not a sorted one", () => {
    expect(vectors.legacySignatures.cases[0]!.signingInput.startsWith('{"to":"Bob","type":"request","topic":"sync","correlationId":"corr-legacy","ttl":3600,"encrypted":true,')).toBe(true);
    expect(vectors.legacySignatures.cases[1]!.signingInput).not.toContain('"ttl"');
  });

  it("a legacy signature over changed content is invalid", () => {
    const c = vectors.legacySignatures.cases[0]!;
    expect(verifySignature({ ...asEnvelope(c.envelope), topic: "other", signature: c.signature }, alice.signingPublicKey)).toBe("invalid");
  });
});

describe("test vectors: webhook signature", () => {
  const w = vectors.webhook;
  const headers = { "webhook-id": w.id, "webhook-timestamp": String(w.timestamp), "webhook-signature": w.signature };
  const atTheTime = { now: w.timestamp * 1000 };

  it("the signed content is id.timestamp.body", () => {
    expect(w.signedContent).toBe(`${w.id}.${w.timestamp}.${w.body}`);
  });

  it("HMAC-SHA256 (Web Crypto) of the signed content with the decoded secret is the expected v1 signature", async () => {
    const key = await crypto.subtle.importKey("raw", bytes(w.secret.slice("whsec_".length)), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
    const mac = new Uint8Array(await crypto.subtle.sign("HMAC", key, utf8.encode(w.signedContent)));
    expect(`v1,${encodeBase64(mac)}`).toBe(w.signature);
  });

  it("verifyWebhook() accepts the vector (Headers or a plain record) at its timestamp", async () => {
    expect(await verifyWebhook(headers, w.body, w.secret, atTheTime)).toBe(true);
    expect(await verifyWebhook(new Headers(headers), w.body, w.secret, atTheTime)).toBe(true);
    expect(await verifyWebhook(headers, w.body, w.secret, { now: (w.timestamp + 299) * 1000 })).toBe(true);
  });

  it("verifyWebhook() refuses a changed body, another secret, or a timestamp out of tolerance", async () => {
    expect(await verifyWebhook(headers, w.body.replace('"to":"Bob"', '"to":"Eve"'), w.secret, atTheTime)).toBe(false);
    expect(await verifyWebhook(headers, w.body, `whsec_${encodeBase64(counting(0x00, 32))}`, atTheTime)).toBe(false);
    expect(await verifyWebhook(headers, w.body, w.secret, { now: (w.timestamp + 301) * 1000 })).toBe(false);
    expect(await verifyWebhook(headers, w.body, w.secret, { now: (w.timestamp - 301) * 1000 })).toBe(false);
    expect(await verifyWebhook({ ...headers, "webhook-id": `${w.id}x` }, w.body, w.secret, atTheTime)).toBe(false);
  });

  it("verifyWebhook() accepts either of two secrets and a header with several signatures", async () => {
    const old = `whsec_${encodeBase64(counting(0x00, 32))}`;
    expect(await verifyWebhook(headers, w.body, [old, w.secret], atTheTime)).toBe(true);
    const both = { ...headers, "webhook-signature": `v1,${encodeBase64(counting(0x10, 32))} ${w.signature}` };
    expect(await verifyWebhook(both, w.body, w.secret, atTheTime)).toBe(true);
  });
});
