// An agent's outgoing messages, in the agent's own Inbox object: the send allowance, the copies
// a direct or multicast send stores in each recipient's inbox, and broadcasts, recorded here and
// fanned out by the alarm in bounded batches.
//
// Each recipient is settled on its own: one inbox that cannot be reached (its call throws) is
// reported as `unavailable` while the other copies are stored and counted, and since every inbox
// recognises a repeated id, sending again with the same id stores only what is missing.

import type { Envelope, SealedPart } from "../protocol/envelope.js";
import { failures, type Failure } from "../protocol/errors.js";
import type { Limits } from "../protocol/limits.js";
import { nameKey } from "../protocol/names.js";
import type { AlarmScheduler, AlarmTask } from "./alarm-tasks.js";
import { BroadcastJobs } from "./broadcast-jobs.js";
import type { InboxCopy } from "./message-log.js";
import { SendAllowance } from "./send-allowance.js";
import { directoryStub, inboxStub } from "./stubs.js";

/** A message as the Worker hands it to its sender's inbox: one envelope for every recipient. */
export interface OutgoingMessage extends Omit<InboxCopy, "envelope"> {
  envelope: Omit<Envelope, "ts">;
  /** Registered names of a direct or multicast send's recipients (none for a broadcast). */
  recipients: string[];
  /** Encrypted multicast: each recipient's own payload, nonce and signature, by name key. */
  parts?: Record<string, SealedPart>;
}

/** What one recipient's inbox did with its copy. */
export type AcceptResult =
  | { status: "stored" | "duplicate"; id: string; ts: number }
  | { status: "conflict" | "full" | "unknown" | "unavailable" };

export interface BroadcastRecord {
  replay: boolean;
  id: string;
  ts: number;
}

/** The copy one recipient stores: the shared envelope with that recipient's sealed part, if any. */
export function copyFor(message: OutgoingMessage, recipient: string): InboxCopy {
  const { recipients: _recipients, parts, envelope, ...rest } = message;
  const part = parts?.[nameKey(recipient)];
  if (!part) return { ...rest, envelope };
  const { signature: _signature, ...shared } = envelope;
  return { ...rest, envelope: { ...shared, payload: part.payload, nonce: part.nonce, ...(part.signature === undefined ? {} : { signature: part.signature }) } };
}

export class Outbox {
  private readonly allowance: SendAllowance;
  private readonly jobs: BroadcastJobs;
  /** A broadcast is waiting for its next batch (mirrors storage, so an idle alarm reads nothing). */
  private fanOutPending: boolean;
  private jobsExpireAt: number | null;
  readonly tasks: AlarmTask[];

  constructor(
    private readonly env: Env,
    private readonly limits: Limits,
    sql: SqlStorage,
    private readonly scheduler: AlarmScheduler,
  ) {
    this.allowance = new SendAllowance(limits);
    this.jobs = new BroadcastJobs(sql);
    this.fanOutPending = this.jobs.next() !== null;
    this.jobsExpireAt = this.jobs.purgeExpired(Date.now());
    this.tasks = [
      { name: "fan-out", nextDue: (now) => (this.fanOutPending ? now : null), run: () => this.fanOut() },
      { name: "broadcast expiry", nextDue: () => this.jobsExpireAt, run: async (now) => void (this.jobsExpireAt = this.jobs.purgeExpired(now)) },
    ];
  }

  /** Stores a direct or multicast message in every recipient's inbox; one result per recipient, in order. */
  async send(message: OutgoingMessage): Promise<AcceptResult[] | Failure> {
    const refused = await this.allowance.reserve("message");
    if (refused) return refused;
    let stored = false;
    try {
      const settled = await Promise.allSettled(message.recipients.map((name) => inboxStub(this.env, name).accept(copyFor(message, name))));
      const results = settled.map((outcome, i): AcceptResult => {
        if (outcome.status === "fulfilled") return outcome.value;
        console.error(`send: the inbox of ${message.recipients[i]} could not be reached: ${describe(outcome.reason)}`);
        return { status: "unavailable" };
      });
      stored = results.some((result) => result.status === "stored");
      return results;
    } finally {
      this.allowance.settle("message", stored);
    }
  }

  /**
   * Records a broadcast; the alarm fans it out. A replay of a recorded broadcast (same id or
   * Idempotency-Key) answers the original without counting against the limits.
   */
  async broadcast(message: OutgoingMessage): Promise<BroadcastRecord | Failure> {
    const { id } = message.envelope;
    const known = this.jobs.find(id, message.idempotencyKey);
    if (known) return known.bodyHash === message.bodyHash ? { replay: true, id: known.id, ts: known.ts } : failures.idConflict();
    const refused = await this.allowance.reserve("broadcast");
    if (refused) return refused;
    this.allowance.settle("broadcast", true);
    const ts = Date.now();
    const expiresAt = ts + message.ttlS * 1000;
    this.jobs.add({
      id,
      idempotencyKey: message.idempotencyKey ?? null,
      bodyHash: message.bodyHash ?? "",
      ts,
      // A fan-out batch that failed anywhere is repeated, so every inbox must recognise the id.
      copy: JSON.stringify({ ...copyFor(message, ""), clientId: true } satisfies InboxCopy),
      cursor: "",
      expiresAt,
    });
    this.fanOutPending = true;
    if (this.jobsExpireAt === null || expiresAt < this.jobsExpireAt) this.jobsExpireAt = expiresAt;
    await this.scheduler.wake(ts);
    return { replay: false, id, ts };
  }

  /** One bounded batch of the oldest pending broadcast: one Directory page, then one call per inbox. */
  private async fanOut(): Promise<void> {
    const job = this.jobs.next();
    if (!job) {
      this.fanOutPending = false;
      return;
    }
    const copy = JSON.parse(job.copy) as InboxCopy;
    const page = await directoryStub(this.env).namesAfter(job.cursor, this.limits.fanoutBatch);
    const sender = nameKey(copy.envelope.from);
    const targets = page.keys.filter((key) => key !== sender);
    const results = await Promise.allSettled(targets.map((key) => inboxStub(this.env, key).accept(copy)));
    // Inboxes recognise a repeated id, so a batch that failed anywhere is simply repeated.
    if (results.some((r) => r.status === "rejected")) throw new Error("a fan-out batch could not reach every inbox");
    this.jobs.advance(job.id, page.keys.at(-1) ?? job.cursor, page.done);
    this.fanOutPending = this.jobs.next() !== null;
  }
}

function describe(reason: unknown): string {
  return reason instanceof Error ? `${reason.name}: ${reason.message}` : "unknown error";
}
