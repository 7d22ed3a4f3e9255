// Opening a received envelope: decrypt it, verify its signature against the sender's directory
// keys (peers.ts), and flag a replay. A problem is flagged on the message, never thrown, so one bad
// message never aborts a batch.

import type { Envelope, JsonValue } from "../protocol/envelope.js";
import { decrypt, verifySignature } from "./crypto.js";
import type { PeerKeys, Peers } from "./peers.js";

/** What a received message turned out to be. */
export type MessageProblem = "decrypt-failed" | "bad-signature" | "unknown-sender" | "replayed";

/** A received envelope, opened. `delivered` (from the relay) says whether it had been delivered before. */
export interface ReceivedMessage extends Envelope {
  /** The decrypted payload of an encrypted message (the payload itself for plaintext). */
  plaintext?: JsonValue;
  /** The signature matched the sender's signingKey in the directory. */
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
    /** This agent's X25519 secret key (base64), when it can decrypt. */
    private readonly privateKey: string | undefined,
  ) {}

  async open(envelope: Envelope): Promise<ReceivedMessage> {
    const message: ReceivedMessage = { ...envelope, verified: false, problems: [] };
    let peer: PeerKeys | null = await this.peers.keysOf(envelope.from);
    let refreshed = false;
    // The sender may have changed its keys since they were cached: look them up again, once.
    const refresh = async () => {
      if (refreshed) return false;
      refreshed = true;
      peer = await this.peers.keysOf(envelope.from, { refresh: true });
      return true;
    };
    if (envelope.signature !== undefined) {
      const check = () => (peer?.signingKey ? verifySignature(envelope, peer.signingKey) : "invalid");
      let verdict = check();
      if (verdict === "invalid" && (await refresh())) verdict = check();
      message.verified = verdict === "valid" || verdict === "legacy";
      if (verdict === "legacy") message.legacy = true;
      if (verdict === "invalid") message.problems.push(peer ? "bad-signature" : "unknown-sender");
    }
    if (envelope.encrypted) {
      const open = () =>
        this.privateKey && peer?.publicKey && typeof envelope.payload === "string" && envelope.nonce
          ? decrypt(envelope.payload, envelope.nonce, peer.publicKey, this.privateKey)
          : null;
      let plaintext = open();
      if (plaintext === null && (await refresh())) plaintext = open();
      if (plaintext === null) message.problems.push("decrypt-failed");
      else message.plaintext = plaintext;
    } else {
      message.plaintext = envelope.payload;
    }
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
