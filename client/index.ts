// @clawtalk/client: the SDK. Depends on tweetnacl only; runs on Node 20+, Workers and browsers.

export { ClawTalkClient, ClawTalkError } from "./client.js";
export type {
  ClawTalkErrorBody,
  ClientOptions,
  CursorStore,
  DeliveryGoal,
  MessageProblem,
  ReceiptsOptions,
  ReceiveOptions,
  ReceivedMessage,
  ReceivedPage,
  SendOptions,
  SendResult,
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
  AuditEntry,
  AuditPage,
  DeliveryReceipt,
  DeliveryStatus,
  DeliveryVia,
  Envelope,
  JsonValue,
  MessagePage,
  MessageType,
  Receipts,
  SendRequest,
  SendResponse,
  WebhookAttempt,
} from "../protocol/envelope.js";
