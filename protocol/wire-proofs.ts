// Compile-time proofs that each schema of wire-schemas.ts describes exactly its interface (the
// types the code builds answers with): a field added, dropped or retyped on one side fails `tsc`.
// Types only.

import type { z } from "zod";
import type {
  AgentPrivate,
  AgentPublic,
  AuditEntry,
  AuditPage,
  DeliveryReceipt,
  Envelope,
  FeedItem,
  Invite,
  MessagePage,
  Receipts,
  RecipientReceipt,
  Registration,
  RejectedRecipient,
  SealedPart,
  SendResponse,
  WebhookAttempt,
  KeyHistoryEntry,
} from "./envelope.js";
import type { ErrorBody } from "./errors.js";
import type {
  agentPrivate,
  keyHistoryEntry,
  agentPublic,
  auditEntry,
  auditPage,
  deliveryReceipt,
  envelope,
  errorBody,
  feedItem,
  invite,
  messagePage,
  receipts,
  recipientReceipt,
  registration,
  rejectedRecipient,
  sealedPart,
  sendResponse,
  webhookAttempt,
} from "./wire-schemas.js";

/** true when A and B are the same type (not merely assignable to each other). */
export type Same<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
/** Fails to compile unless T is true. */
export type Proof<T extends true> = T;

export type Proofs = [
  Proof<Same<z.infer<typeof sealedPart>, SealedPart>>,
  Proof<Same<z.infer<typeof keyHistoryEntry>, KeyHistoryEntry>>,
  Proof<Same<z.infer<typeof envelope>, Envelope>>,
  Proof<Same<z.infer<typeof recipientReceipt>, RecipientReceipt>>,
  Proof<Same<z.infer<typeof rejectedRecipient>, RejectedRecipient>>,
  Proof<Same<z.infer<typeof sendResponse>, SendResponse>>,
  Proof<Same<z.infer<typeof deliveryReceipt>, DeliveryReceipt>>,
  Proof<Same<z.infer<typeof receipts>, Receipts>>,
  Proof<Same<z.infer<typeof messagePage>, MessagePage>>,
  Proof<Same<z.infer<typeof feedItem>, FeedItem>>,
  Proof<Same<z.infer<typeof agentPublic>, AgentPublic>>,
  Proof<Same<z.infer<typeof agentPrivate>, AgentPrivate>>,
  Proof<Same<z.infer<typeof registration>, Registration>>,
  Proof<Same<z.infer<typeof invite>, Invite>>,
  Proof<Same<z.infer<typeof webhookAttempt>, WebhookAttempt>>,
  Proof<Same<z.infer<typeof auditEntry>, AuditEntry>>,
  Proof<Same<z.infer<typeof auditPage>, AuditPage>>,
  Proof<Same<z.infer<typeof errorBody>, ErrorBody>>,
];
