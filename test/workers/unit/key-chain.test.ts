// The SDK's check of a peer's key history (client/key-chain.ts, SPEC §12): the current keys
// succeed the pinned ones only through changes each signed by the previous signing key. Signatures
// are made here with tweetnacl directly, over the statement as the relay's test builds it, so the
// SDK's signKeyChange is checked against the relay's form too.

import nacl from "tweetnacl";
import { describe, expect, it } from "vitest";
import { isSignedSuccession, signKeyChange, signingKeyOf } from "../../../client/key-chain.js";
import { keyChangeProblem } from "../../../durable-objects/key-history.js";
import { encodeBase64 } from "../../../protocol/base64.js";
import { canonicalJson } from "../../../protocol/canonical.js";
import { keyChangeStatement, type KeyHistoryEntry } from "../../../protocol/envelope.js";

const NAME = "Bob_keys";

interface Pair {
  publicKey: string;
  signingKey: string;
  secret: Uint8Array;
}

function pair(): Pair {
  const signing = nacl.sign.keyPair();
  return { publicKey: encodeBase64(nacl.box.keyPair().publicKey), signingKey: encodeBase64(signing.publicKey), secret: signing.secretKey };
}

const keys = (p: Pair) => ({ publicKey: p.publicKey, signingKey: p.signingKey });

function signed(next: Pair, by: Pair, name = NAME): string {
  return encodeBase64(nacl.sign.detached(new TextEncoder().encode(canonicalJson(keyChangeStatement(name, next.publicKey, next.signingKey))), by.secret));
}

const since = "2026-01-01T00:00:00.000Z";
const registration = (p: Pair): KeyHistoryEntry => ({ ...keys(p), since, by: "registration" });
const byAgent = (next: Pair, signature: string): KeyHistoryEntry => ({ ...keys(next), since, by: "agent", signature });
const byAdmin = (next: Pair): KeyHistoryEntry => ({ ...keys(next), since, by: "admin" });

describe("isSignedSuccession", () => {
  const [a, b, c] = [pair(), pair(), pair()];

  it("accepts one change and a chain of two, each signed by the previous signing key", () => {
    expect(isSignedSuccession(NAME, [registration(a), byAgent(b, signed(b, a))], keys(a), keys(b))).toBe(true);
    const chain = [registration(a), byAgent(b, signed(b, a)), byAgent(c, signed(c, b))];
    expect(isSignedSuccession(NAME, chain, keys(a), keys(c))).toBe(true);
    // Pinned in the middle of the chain: the rest of it is enough.
    expect(isSignedSuccession(NAME, chain, keys(b), keys(c))).toBe(true);
  });

  it("refuses an admin reset anywhere between the pinned and the current keys", () => {
    expect(isSignedSuccession(NAME, [registration(a), byAdmin(b)], keys(a), keys(b))).toBe(false);
    expect(isSignedSuccession(NAME, [registration(a), byAdmin(b), byAgent(c, signed(c, b))], keys(a), keys(c))).toBe(false);
  });

  it.each([
    ["signed by the new key itself", () => signed(b, b)],
    ["signed for another name", () => signed(b, a, `${NAME}x`)],
    ["signed for other keys", () => signed(c, a)],
    ["not a signature", () => encodeBase64(new Uint8Array(64))],
    ["not base64", () => "%%%"],
  ])("refuses a step %s", (_label, signature) => {
    expect(isSignedSuccession(NAME, [registration(a), byAgent(b, signature())], keys(a), keys(b))).toBe(false);
  });

  it("refuses a step the agent made unsigned (it had no signing key before)", () => {
    const unsignedStart: KeyHistoryEntry = { publicKey: a.publicKey, signingKey: null, since, by: "registration" };
    const { signature: _none, ...unsigned } = byAgent(b, "");
    expect(isSignedSuccession(NAME, [unsignedStart, unsigned], { publicKey: a.publicKey, signingKey: null }, keys(b))).toBe(false);
  });

  it("refuses when the history does not hold the pinned keys (the name was registered again) or never reaches the current ones", () => {
    expect(isSignedSuccession(NAME, [registration(b), byAgent(c, signed(c, b))], keys(a), keys(c))).toBe(false);
    expect(isSignedSuccession(NAME, [registration(a), byAgent(b, signed(b, a))], keys(a), keys(c))).toBe(false);
    expect(isSignedSuccession(NAME, [], keys(a), keys(b))).toBe(false);
  });

  it("finds the signed path when the pinned keys occur twice, the earlier followed by an admin reset", () => {
    const history = [registration(a), byAdmin(c), byAdmin(a), byAgent(b, signed(b, a))];
    expect(isSignedSuccession(NAME, history, keys(a), keys(b))).toBe(true);
  });
});

describe("signKeyChange", () => {
  it("makes the signature the relay accepts for the agent's own change", () => {
    const [old, next] = [pair(), pair()];
    const secret = encodeBase64(old.secret);
    const signature = signKeyChange(NAME, keys(next), secret);
    expect(signature).toBe(signed(next, old));
    expect(keyChangeProblem(NAME, old.signingKey, keys(next), signature)).toBeNull();
    expect(signingKeyOf(secret)).toBe(old.signingKey);
  });
});
