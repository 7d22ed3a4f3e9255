// @clawtalk/client: the SDK. Depends on tweetnacl only; runs on Node 20+, Workers and browsers.

export { ClawTalkClient, ClawTalkError } from "./client.js";
export type {
  ClientOptions,
  CursorStore,
  MessageProblem,
  ReceiveOptions,
  ReceivedMessage,
  ReceivedPage,
  SendOptions,
  WatchOptions,
} from "./client.js";
export { decrypt, encrypt, generateKeys, sign, signingInput, legacySigningInput, verifySignature } from "./crypto.js";
export type { AgentKeys, SignatureCheck, SignedFields } from "./crypto.js";
export { verifyWebhook } from "./webhook.js";
export type { HeaderSource, VerifyOptions } from "./webhook.js";
export type {
  AgentPrivate,
  AgentPublic,
  Envelope,
  JsonValue,
  MessagePage,
  MessageType,
  SendRequest,
  SendResponse,
  WebhookAttempt,
} from "../protocol/envelope.js";
