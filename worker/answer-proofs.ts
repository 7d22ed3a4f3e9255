// Compile-time proofs that what the Durable Objects hand the routes is exactly what the routes'
// declared answers (protocol/wire-schemas.ts) say, for the answers built from the objects' own
// types (the protocol's interfaces are proven in wire-schemas.ts). Types only: nothing imports
// this file; `tsc` checks it (tsconfig.json includes worker/).

import type { z } from "zod";
import type { Failure } from "../protocol/errors.js";
import type { Proof, Same } from "../protocol/wire-proofs.js";
import type * as wire from "../protocol/wire-schemas.js";
import type { DirectoryObject } from "../durable-objects/directory.js";
import type { ChannelCount, FeedPage, MinuteStats, WebhookHealth } from "../durable-objects/feed.js";
import type { InboxObject } from "../durable-objects/inbox.js";

/** An intersection as one object type (Same compares the written form). */
type Flat<T> = { [K in keyof T]: T[K] };

/** What an object's RPC method resolves to, without its Failure. */
type Answer<F extends (...args: never[]) => Promise<unknown>> = Exclude<Awaited<ReturnType<F>>, Failure>;

export type ObjectAnswerProofs = [
  // GET /messages (admin): the feed's items, with their arrival sequence.
  Proof<Same<Flat<FeedPage["items"][number]>, z.infer<typeof wire.feedEntry>>>,
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
