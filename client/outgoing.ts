// The body of POST /messages as the SDK sends it (SPEC §4.1, §5): signed when the client has the
// signing key, and with `encrypt` sealed to each recipient's directory key (peers.ts), one
// ciphertext per recipient for a multicast.

import type { JsonValue, MessageType, SendRequest } from "../protocol/envelope.js";
import { nameKey } from "../protocol/names.js";
import { encrypt, sign } from "./crypto.js";
import type { Peers } from "./peers.js";
import type { DeliveryGoal } from "./receipts.js";
import { ClawTalkError } from "./relay-http.js";

export interface SendOptions {
  to: string | string[];
  payload: JsonValue;
  type?: MessageType;
  topic?: string;
  correlationId?: string;
  replyTo?: string;
  ttl?: number;
  /** Encrypt for each recipient (one ciphertext per recipient). Needs `privateKey`. */
  encrypt?: boolean;
  /** Defaults to a new UUID; the same id makes a retried send idempotent. */
  id?: string;
  idempotencyKey?: string;
  /**
   * Resolve only once every recipient's copy reached this state (or can no longer: rejected,
   * expired), with its receipts; reject with a ClawTalkError DELIVERY_TIMEOUT after
   * `awaitTimeoutS`. Not for a broadcast (its receipts are counts: read them with `receipts`).
   */
  awaitDelivery?: DeliveryGoal;
  /** Seconds `awaitDelivery` waits, from the send's answer (default 60). */
  awaitTimeoutS?: number;
}

/** Who sends, with which keys. */
export interface Sender {
  from: string;
  privateKey: string | undefined;
  signingSecret: string | undefined;
}

export function isBroadcast(to: string | string[]): boolean {
  return typeof to === "string" && nameKey(to) === "broadcast";
}

export async function sendBody(options: SendOptions, sender: Sender, peers: Peers): Promise<SendRequest> {
  const { from, privateKey, signingSecret } = sender;
  const common = {
    id: options.id ?? crypto.randomUUID(),
    to: options.to,
    type: options.type ?? "notification",
    sentAt: new Date().toISOString(),
    ...(options.topic === undefined ? {} : { topic: options.topic }),
    ...(options.correlationId === undefined ? {} : { correlationId: options.correlationId }),
    ...(options.replyTo === undefined ? {} : { replyTo: options.replyTo }),
  };
  let body: SendRequest;
  if (!options.encrypt) {
    const plain = { ...common, encrypted: false, payload: plainPayload(options.payload) };
    body = signingSecret ? { ...plain, signature: sign({ ...plain, from }, signingSecret) } : plain;
  } else {
    if (!privateKey) throw new Error("encrypt needs the agent's privateKey");
    if (isBroadcast(options.to)) throw new Error("a broadcast cannot be encrypted: there is no single recipient key");
    const seal = async (recipient: string) => {
      const peer = await peers.keysOf(recipient);
      if (!peer) throw new ClawTalkError(404, "UNKNOWN_RECIPIENT", `Unknown recipient ${recipient}; nothing was sent.`, { names: [recipient] });
      if (!peer.publicKey) throw new Error(`${recipient} has no publicKey to encrypt to`);
      const sealed = encrypt(options.payload, peer.publicKey, privateKey);
      const signature = signingSecret
        ? sign({ ...common, from, encrypted: true, payload: sealed.payload, nonce: sealed.nonce }, signingSecret)
        : undefined;
      return { ...sealed, ...(signature === undefined ? {} : { signature }) };
    };
    if (Array.isArray(options.to)) {
      const parts = await Promise.all(options.to.map(async (name) => [name, await seal(name)] as const));
      body = { ...common, encrypted: true, payloads: Object.fromEntries(parts) };
    } else {
      body = { ...common, encrypted: true, ...(await seal(options.to)) };
    }
  }
  if (options.ttl !== undefined) body.ttl = options.ttl;
  return body;
}

/** A plaintext payload is a string or a JSON object (SPEC §4.1); anything else travels as JSON text. */
function plainPayload(value: JsonValue): string | { [key: string]: JsonValue } {
  if (typeof value === "string") return value;
  if (typeof value === "object" && value !== null && !Array.isArray(value)) return value;
  return JSON.stringify(value);
}
