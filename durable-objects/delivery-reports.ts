// The recipient's side of receipts (SPEC §11.1): telling each sender what became of its copies in
// this inbox. Every state change is written with the change itself — a stored or delivered copy
// is its own row (`reported` says what the sender has heard), an ack or expiry, whose row goes,
// leaves an event in the same transaction — and an alarm task reports them in batches: one call
// per sender per flush, marked reported only when the sender's inbox acknowledged it, so a
// receipt survives restarts and is at worst late by one flush. Never on the read path.

import type { DeliveryStatus, DeliveryVia } from "../protocol/envelope.js";
import type { Limits } from "../protocol/limits.js";
import type { AlarmScheduler, AlarmTask } from "./alarm-tasks.js";
import type { MessageStore, StoredMessage } from "./message-store.js";
import { inboxStub } from "./stubs.js";

/** What a sender is told of one copy. */
export interface StateReport {
  id: string;
  /** The copy's ts in this inbox. */
  ts: number;
  status: Exclude<DeliveryStatus, "rejected">;
  deliveredAt: number | null;
  via: DeliveryVia | null;
  /** When it was acked or expired. */
  at: number | null;
  /** The message's end of TTL: its receipt is kept until then. */
  expiresAt: number;
}

/** Copies reported per flush, and senders called per flush (within the subrequest limit). */
const ROWS_PER_FLUSH = 500;
const SENDERS_PER_FLUSH = 40;

/** What a sender is to hear of a copy: its latest state, kept here until the sender acknowledged it. */
interface PendingReport {
  sender: string;
  report: StateReport;
}

export class DeliveryReports implements AlarmTask {
  readonly name = "receipts";
  /** Copies whose latest state their sender has not heard of, by ts (seeded from storage at start). */
  private readonly pending = new Map<number, PendingReport>();
  private eventsPending: boolean;
  private dueAt: number | null = null;

  constructor(
    private readonly db: MessageStore,
    private readonly env: Env,
    private readonly limits: Limits,
    private readonly scheduler: AlarmScheduler,
    /** This inbox's agent, as its senders know it; null once it is gone. */
    private readonly recipient: () => string | null,
  ) {
    for (const row of db.unreported()) this.pending.set(row.ts, pendingFor(row));
    this.eventsPending = db.hasStateEvents();
    if (this.pending.size > 0 || this.eventsPending) this.dueAt = Date.now();
  }

  /** A copy was stored or delivered: call after its row is written. */
  changed(message: StoredMessage): void {
    this.pending.set(message.ts, pendingFor(message));
    this.schedule();
  }

  /** A copy's row went (acked, expired): its event, written in the same transaction, tells the rest. */
  removed(ts: number): void {
    this.pending.delete(ts);
    this.eventsPending = true;
    this.schedule();
  }

  nextDue(): number | null {
    return this.dueAt;
  }

  async run(): Promise<void> {
    this.dueAt = null;
    const recipient = this.recipient();
    if (recipient === null) return;
    const bySender = new Map<string, { reports: StateReport[]; rows: [number, PendingReport][]; events: number[] }>();
    const batch = (sender: string) => {
      let entry = bySender.get(sender);
      if (!entry) bySender.set(sender, (entry = { reports: [], rows: [], events: [] }));
      return entry;
    };
    for (const [ts, pending] of [...this.pending].slice(0, ROWS_PER_FLUSH)) {
      const entry = batch(pending.sender);
      entry.reports.push(pending.report);
      entry.rows.push([ts, pending]);
    }
    for (const event of this.db.stateEvents(ROWS_PER_FLUSH)) {
      const entry = batch(event.sender);
      entry.reports.push(JSON.parse(event.event) as StateReport);
      entry.events.push(event.seq);
    }
    const senders = [...bySender].slice(0, SENDERS_PER_FLUSH);
    const outcomes = await Promise.allSettled(senders.map(([sender, { reports }]) => inboxStub(this.env, sender).recordReceipts(recipient, reports)));
    outcomes.forEach((outcome, i) => {
      if (outcome.status !== "fulfilled") return;
      const { rows, events } = senders[i]![1];
      // Per sender, one statement per state heard and one for the events; a copy that changed
      // again while the call was out stays pending with its newer state.
      for (const state of [1, 2] as const) {
        const heard = rows.filter(([, p]) => stateOf(p.report) === state).map(([ts]) => ts);
        if (heard.length > 0) this.db.markReported(heard, state);
      }
      if (events.length > 0) this.db.deleteStateEvents(events);
      for (const [ts, pending] of rows) if (this.pending.get(ts) === pending) this.pending.delete(ts);
    });
    this.eventsPending = this.db.hasStateEvents();
    // What is left (a sender that failed, or more than one flush's worth) goes at the next flush.
    if (this.pending.size > 0 || this.eventsPending) this.schedule();
    if (outcomes.some((o) => o.status === "rejected")) throw new Error("a sender's inbox could not be told of its receipts");
  }

  private schedule(): void {
    if (this.dueAt !== null) return;
    this.dueAt = Date.now() + this.limits.feedFlushMs;
    this.scheduler.wake(this.dueAt);
  }
}

const stateOf = (report: StateReport) => (report.status === "stored" ? 1 : 2);

function pendingFor(message: Pick<StoredMessage, "ts" | "id" | "sender" | "deliveredAt" | "via" | "expiresAt">): PendingReport {
  return {
    sender: message.sender,
    report: {
      id: message.id,
      ts: message.ts,
      status: message.deliveredAt === null ? "stored" : "delivered",
      deliveredAt: message.deliveredAt,
      via: message.via,
      at: null,
      expiresAt: message.expiresAt,
    },
  };
}
