// Opening a received envelope: decrypt it, verify its signature against the sender's keys
// (peers.ts: the directory's, checked against the pin), and flag a replay. A problem is flagged on
// the message, never thrown, so one bad message never aborts a batch.

import type { Envelope, JsonValue } from "../protocol/envelope.js";
import { decrypt, verifySignature } from "./crypto.js";
import type { CheckedPeer, Peers } from "./peers.js";

/**
 * What a received message turned out to be. `key-changed`: the sender's keys are not the ones
 * pinned for it and no change signed with the pinned key leads to them (SPEC §12).
 */
export type MessageProblem = "decrypt-failed" | "bad-signature" | "unknown-sender" | "replayed" | "key-changed";

/** A received envelope, opened. `delivered` (from the relay) says whether it had been delivered before. */
export interface ReceivedMessage extends Envelope {
  /** The decrypted payload of an encrypted message (the payload itself for plaintext). */
  plaintext?: JsonValue;
  /**
   * The signature matched the signing key trusted for the sender: the directory's, or while its
   * keys changed unconfirmed (`key-changed`), the pinned one, never the unconfirmed new one.
   */
  verified: boolean;
  /** Verified in the original ClawTalk client's signature form. */
  legacy?: boolean;
  problems: MessageProblem[];
}

/** Message ids remembered for replay detection. */
const SEEN_KEPT = 10_000;

export class EnvelopeOpener {
  /** id -> ts of messages seen: the same id stored again later is a replay. */
  private readonly seen = new Map<string, string>();

  constructor(
    private readonly peers: Peers,
    /** This agent's X25519 secret key (base64), when it can decrypt; it changes with rotateKeys. */
    private readonly privateKey: () => string | undefined,
  ) {}

  async open(envelope: Envelope): Promise<ReceivedMessage> {
    const message: ReceivedMessage = { ...envelope, verified: false, problems: [] };
    let peer: CheckedPeer | null = await this.peers.keysOf(envelope.from);
    let refreshed = false;
    // The sender may have changed its keys since they were cached: look them up again, once.
    const refresh = async () => {
      if (refreshed) return false;
      refreshed = true;
      peer = await this.peers.keysOf(envelope.from, { refresh: true });
      return true;
    };
    if (envelope.signature !== undefined) {
      const check = (key: string | null | undefined) => (key ? verifySignature(envelope, key) : "invalid");
      const trusted = () => (peer?.keyChanged ? peer.pinned?.signingKey : peer?.signingKey);
      // Signed with the sender's new keys, which no signed change confirmed: `key-changed` says so.
      const byUnconfirmedKey = () => peer?.keyChanged === true && check(peer.signingKey) !== "invalid";
      let verdict = check(trusted());
      if (verdict === "invalid" && !byUnconfirmedKey() && (await refresh())) verdict = check(trusted());
      message.verified = verdict === "valid" || verdict === "legacy";
      if (verdict === "legacy") message.legacy = true;
      if (verdict === "invalid" && !byUnconfirmedKey()) message.problems.push(peer ? "bad-signature" : "unknown-sender");
    }
    if (envelope.encrypted) {
      const privateKey = this.privateKey();
      const open = (publicKey: string | null | undefined) =>
        privateKey && publicKey && typeof envelope.payload === "string" && envelope.nonce
          ? decrypt(envelope.payload, envelope.nonce, publicKey, privateKey)
          : null;
      let plaintext = open(peer?.publicKey);
      if (plaintext === null && (await refresh())) plaintext = open(peer?.publicKey);
      // Sent before the unconfirmed change, to the keys still trusted.
      if (plaintext === null && peer?.keyChanged) plaintext = open(peer.pinned?.publicKey);
      if (plaintext === null) message.problems.push("decrypt-failed");
      else message.plaintext = plaintext;
    } else {
      message.plaintext = envelope.payload;
    }
    if (peer?.keyChanged) message.problems.push("key-changed");
    if (this.isReplay(envelope)) message.problems.push("replayed");
    return message;
  }

  /**
   * The relay refuses a known id while it remembers it (the message's TTL); the same id stored
   * again later, under a new ts, is a replay.
   */
  private isReplay(envelope: Envelope): boolean {
    const earlier = this.seen.get(envelope.id);
    if (earlier !== undefined) return earlier !== envelope.ts;
    this.seen.set(envelope.id, envelope.ts);
    if (this.seen.size > SEEN_KEPT) this.seen.delete(this.seen.keys().next().value!);
    return false;
  }
}
