// An agent's outgoing messages, in the agent's own Inbox object: the send allowance, the copies
// a direct or multicast send stores in each recipient's inbox, and broadcasts, recorded here and
// fanned out by the alarm in bounded batches.
//
// Each recipient is settled on its own: one inbox that cannot be reached (its call throws) is
// reported as `unavailable` while the other copies are stored and counted, and since every inbox
// recognises a repeated id, sending again with the same id stores only what is missing.

import type { Envelope, Receipts, SealedPart } from "../protocol/envelope.js";
import { describeError, failures, type Failure } from "../protocol/errors.js";
import type { Limits } from "../protocol/limits.js";
import { nameKey } from "../protocol/names.js";
import type { AlarmScheduler, AlarmTask } from "./alarm-tasks.js";
import { BroadcastJobs } from "./broadcast-jobs.js";
import type { InboxCopy } from "./message-log.js";
import { SendAllowance } from "./send-allowance.js";
import { isSettled, SentReceipts, type ReceiptRow, type Until } from "./sent-receipts.js";
import type { StateReport } from "./delivery-reports.js";
import { directoryStub, inboxStub } from "./stubs.js";

/** A message as the Worker hands it to its sender's inbox: one envelope for every recipient. */
export interface OutgoingMessage extends Omit<InboxCopy, "envelope" | "depth"> {
  envelope: Omit<Envelope, "ts">;
  /** Registered names of a direct or multicast send's recipients (none for a broadcast). */
  recipients: string[];
  /** Encrypted multicast: each recipient's own payload, nonce and signature, by name key. */
  parts?: Record<string, SealedPart>;
}

/** What one recipient's inbox did with its copy. */
export type AcceptResult =
  | { status: "stored" | "duplicate"; id: string; ts: number }
  | { status: "conflict" | "full" | "not-accepted" | "unknown" | "unavailable" };

/** The wire code a refused copy is reported with (POST /messages `rejected`, receipts). */
export const REJECTED_CODE = {
  full: "INBOX_FULL",
  "not-accepted": "NOT_ACCEPTED",
  conflict: "CONFLICT",
  unknown: "UNKNOWN_RECIPIENT",
  unavailable: "UNAVAILABLE",
} as const satisfies Record<Exclude<AcceptResult["status"], "stored" | "duplicate">, string>;

/** What one recipient's result means for the send's receipts. */
function receiptRow(name: string, result: AcceptResult, now: number): ReceiptRow {
  if (result.status === "stored" || result.status === "duplicate") {
    return { name, status: "stored", ts: result.ts, deliveredAt: null, via: null, ackedAt: null, code: null };
  }
  return { name, status: "rejected", ts: now, deliveredAt: null, via: null, ackedAt: null, code: REJECTED_CODE[result.status] };
}

export interface BroadcastRecord {
  replay: boolean;
  id: string;
  ts: number;
}

/** The copy one recipient stores: the shared envelope with that recipient's sealed part, if any. */
export function copyFor(message: OutgoingMessage, recipient: string, depth: number): InboxCopy {
  const { recipients: _recipients, parts, envelope, ...rest } = message;
  const part = parts?.[nameKey(recipient)];
  if (!part) return { ...rest, envelope, depth };
  const { signature: _signature, ...shared } = envelope;
  return { ...rest, depth, envelope: { ...shared, payload: part.payload, nonce: part.nonce, ...(part.signature === undefined ? {} : { signature: part.signature }) } };
}

export class Outbox {
  private readonly allowance: SendAllowance;
  private readonly jobs: BroadcastJobs;
  private readonly receipts: SentReceipts;
  private receiptsExpireAt: number | null;
  /** A broadcast is waiting for its next batch (mirrors storage, so an idle alarm reads nothing). */
  private fanOutPending: boolean;
  private jobsExpireAt: number | null;
  readonly tasks: AlarmTask[];

  constructor(
    private readonly env: Env,
    private readonly limits: Limits,
    private readonly storage: DurableObjectStorage,
    private readonly scheduler: AlarmScheduler,
    /** The reply depth of a message this agent received, or null (its inbox's message log). */
    private readonly receivedDepth: (id: string) => number | null,
  ) {
    this.allowance = new SendAllowance(limits);
    this.jobs = new BroadcastJobs(storage.sql);
    this.receipts = new SentReceipts(storage);
    // Opening the object only reads (three indexed lookups): a cold broadcast opens a thousand
    // inboxes, and a write here would be a commit in each. What is already due is the alarm's.
    this.fanOutPending = this.jobs.hasPending();
    this.jobsExpireAt = this.jobs.nextExpiry();
    this.receiptsExpireAt = this.receipts.nextExpiry();
    const now = Date.now();
    if (this.fanOutPending || (this.jobsExpireAt ?? Infinity) <= now || (this.receiptsExpireAt ?? Infinity) <= now) scheduler.wake(now);
    this.tasks = [
      { name: "fan-out", nextDue: (now) => (this.fanOutPending ? now : null), run: () => this.fanOut() },
      { name: "broadcast expiry", nextDue: () => this.jobsExpireAt, run: async (now) => void (this.jobsExpireAt = this.jobs.purgeExpired(now)) },
      { name: "receipts expiry", nextDue: () => this.receiptsExpireAt, run: async (now) => void (this.receiptsExpireAt = this.receipts.purgeExpired(now)) },
    ];
  }

  /** Stores a direct or multicast message in every recipient's inbox; one result per recipient, in order. */
  async send(message: OutgoingMessage): Promise<AcceptResult[] | Failure> {
    const depth = this.depthOf(message);
    if (typeof depth !== "number") return depth;
    const refused = await this.allowance.reserve("message");
    if (refused) return refused;
    let stored = false;
    try {
      const settled = await Promise.allSettled(message.recipients.map((name) => inboxStub(this.env, name).accept(copyFor(message, name, depth))));
      const results = settled.map((outcome, i): AcceptResult => {
        if (outcome.status === "fulfilled") return outcome.value;
        console.error(`send: the inbox of ${message.recipients[i]} could not be reached: ${describeError(outcome.reason)}`);
        return { status: "unavailable" };
      });
      stored = results.some((result) => result.status === "stored");
      const now = Date.now();
      if (results.some((result) => result.status === "stored" || result.status === "duplicate")) {
        const expiresAt = now + message.ttlS * 1000;
        this.receipts.sent(message.envelope.id, now, expiresAt, results.map((result, i) => receiptRow(message.recipients[i]!, result, now)));
        this.noteReceiptExpiry(expiresAt);
      }
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
    const depth = this.depthOf(message);
    if (typeof depth !== "number") return depth;
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
      // A fan-out batch that failed anywhere is repeated, so every inbox must recognise the id; the
      // copies' stored state is recorded here, batch by batch, so recipients report only what follows.
      copy: JSON.stringify({ ...copyFor(message, "", depth), clientId: true, broadcast: true } satisfies InboxCopy),
      cursor: "",
      expiresAt,
    });
    this.fanOutPending = true;
    if (this.jobsExpireAt === null || expiresAt < this.jobsExpireAt) this.jobsExpireAt = expiresAt;
    this.scheduler.wake(ts);
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
    const targets = page.keys.map((key, i) => ({ key, name: page.names[i]! })).filter((agent) => agent.key !== sender);
    const results = await Promise.allSettled(targets.map((agent) => inboxStub(this.env, agent.key).accept(copy)));
    // Inboxes recognise a repeated id, so a batch that failed anywhere is simply repeated.
    if (results.some((r) => r.status === "rejected")) throw new Error("a fan-out batch could not reach every inbox");
    const now = Date.now();
    const rows = results.flatMap((r, i) => {
      const result = (r as PromiseFulfilledResult<AcceptResult>).value;
      // An agent removed since the Directory's page was read is no recipient at all.
      return result.status === "unknown" ? [] : [receiptRow(targets[i]!.name, result, now)];
    });
    this.storage.transactionSync(() => {
      this.receipts.broadcastBatch(job.id, job.expiresAt, rows);
      this.jobs.advance(job.id, page.keys.at(-1) ?? job.cursor, page.done);
    });
    this.noteReceiptExpiry(job.expiresAt);
    this.fanOutPending = this.jobs.hasPending();
  }

  /**
   * The loop guard (SPEC §12): a reply to a message this agent received is one deeper than it; a
   * replyTo this agent never received counts as depth 0 (and tells nothing about that message).
   */
  private depthOf(message: OutgoingMessage): number | Failure {
    const replyTo = message.envelope.replyTo;
    const depth = replyTo === undefined ? 0 : (this.receivedDepth(replyTo) ?? -1) + 1;
    return depth > this.limits.maxReplyDepth ? failures.loopDetected(depth, this.limits.maxReplyDepth) : depth;
  }

  /** The receipts of a message this agent sent: with `waitS`, held until every copy reached `until` (or can no longer). */
  async readReceipts(id: string, waitS: number, until: Until): Promise<Receipts | Failure> {
    const deadline = Date.now() + waitS * 1000;
    for (;;) {
      const broadcast = this.jobs.find(id, undefined);
      const found = this.receipts.read(id, broadcast);
      if (!found) return failures.noSuchSentMessage;
      const left = deadline - Date.now();
      const fannedOut = broadcast === null || this.jobs.isDone(id);
      if (left <= 0 || (fannedOut && isSettled(found.rows, until))) return found.receipts;
      await this.receipts.wait(id, left);
    }
  }

  /** A recipient's reports on copies of this agent's messages. */
  recordReceipts(recipient: string, reports: StateReport[]): void {
    this.receipts.record(recipient, reports);
  }

  private noteReceiptExpiry(at: number): void {
    if (this.receiptsExpireAt === null || at < this.receiptsExpireAt) {
      this.receiptsExpireAt = at;
      this.scheduler.wake(at);
    }
  }
}
