// @clawtalk/client: the SDK. Depends on tweetnacl only; runs on Node 20+, Workers and browsers.

export { ClawTalkClient, ClawTalkError } from "./client.js";
export type {
  ClientOptions,
  CursorStore,
  MessageProblem,
  ReceiveOptions,
  ReceivedMessage,
  ReceivedPage,
  ReceiptsOptions,
  SendOptions,
  WatchOptions,
} from "./client.js";
export {
  decrypt,
  encrypt,
  generateAuditKeys,
  generateKeys,
  openAuditPayload,
  sealAuditPayload,
  sign,
  signingInput,
  legacySigningInput,
  verifySignature,
} from "./crypto.js";
export type { AgentKeys, AuditKeys, SignatureCheck, SignedFields } from "./crypto.js";
export { openAuditEntry } from "./audit.js";
export type { AuditInput, AuditQuery, OpenedAuditEntry } from "./audit.js";
export { verifyWebhook } from "./webhook.js";
export type { HeaderSource, VerifyOptions } from "./webhook.js";
export type {
  AgentPrivate,
  AgentPublic,
  DeliveryReceipt,
  DeliveryStatus,
  DeliveryVia,
  Receipts,
  AuditEntry,
  AuditPage,
  Envelope,
  JsonValue,
  MessagePage,
  MessageType,
  SendRequest,
  SendResponse,
  WebhookAttempt,
} from "../protocol/envelope.js";
