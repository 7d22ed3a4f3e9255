// Compile-time proofs that what the Durable Objects hand the routes is exactly what the routes'
// declared answers (protocol/wire-schemas.ts) say, for the answers built from the objects' own
// types (the protocol's interfaces are proven in wire-schemas.ts). Types only: nothing imports
// this file; `tsc` checks it (tsconfig.json includes worker/).

import type { z } from "zod";
import type { Failure } from "../protocol/errors.js";
import type { Proof, Same } from "../protocol/wire-proofs.js";
import type * as wire from "../protocol/wire-schemas.js";
import type { DirectoryObject } from "../durable-objects/directory.js";
import type { ChannelCount, MinuteStats, SeqItem, WebhookHealth } from "../durable-objects/feed.js";
import type { InboxObject } from "../durable-objects/inbox.js";
import type { AdminFeedPage } from "./shards/feed.js";
import type { MergedAuditPage } from "./shards/audit.js";

/** An intersection as one object type (Same compares the written form). */
type Flat<T> = { [K in keyof T]: T[K] };

/** What an object's RPC method resolves to, without its Failure. */
type Answer<F extends (...args: never[]) => Promise<unknown>> = Exclude<Awaited<ReturnType<F>>, Failure>;

export type ObjectAnswerProofs = [
  // GET /messages (admin): the feed shards' items, with their arrival sequence in their shard.
  Proof<Same<Flat<SeqItem>, z.infer<typeof wire.feedEntry>>>,
  // ... and the page merged over the shards (worker/shards/feed.ts).
  Proof<Same<Flat<Omit<AdminFeedPage, "messages">>, Flat<Omit<z.infer<typeof wire.feedPage>, "messages">>>>,
  // GET /audit: the page merged over the audit shards, before its entries are spliced in as JSON.
  Proof<Same<MergedAuditPage["cursor"], z.infer<typeof wire.auditPage>["cursor"]>>,
  // GET /channels?detail=true
  Proof<Same<ChannelCount, z.infer<typeof wire.channelCount>>>,
  // GET /admin/stats
  Proof<Same<MinuteStats, z.infer<typeof wire.minuteStats>>>,
  Proof<Same<WebhookHealth, z.infer<typeof wire.webhookHealth>>>,
  // POST /agents/:name/webhook/test
  Proof<Same<Answer<InboxObject["testWebhook"]>, z.infer<typeof wire.webhookTestResult>>>,
  // POST /messages/ack
  Proof<Same<Answer<InboxObject["remove"]>, z.infer<typeof wire.ackResult>>>,
  // POST /agents/:name/webhook/rotate-secret
  Proof<Same<Answer<DirectoryObject["rotateWebhookSecret"]>, z.infer<typeof wire.webhookSecretRotation>>>,
];
