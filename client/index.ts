// @clawtalk/client: the SDK. Depends on tweetnacl only; runs on Node 20+, Workers and browsers.

export { ClawTalkClient, ClawTalkError, KeyChangedError, memoryPins } from "./client.js";
export type {
  ClawTalkErrorBody,
  ClientOptions,
  CursorStore,
  DeliveryGoal,
  MessageProblem,
  PinnedKeys,
  PinStore,
  ReceiptsOptions,
  ReceiveOptions,
  ReceivedMessage,
  ReceivedPage,
  SendOptions,
  SendResult,
  TrustedPeer,
  WatchOptions,
} from "./client.js";
export { isSignedSuccession, signKeyChange } from "./key-chain.js";
export type { PublicKeys } from "./key-chain.js";
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
  KeyHistoryEntry,
  MessagePage,
  MessageType,
  Receipts,
  SendRequest,
  SendResponse,
  WebhookAttempt,
} from "../protocol/envelope.js";
