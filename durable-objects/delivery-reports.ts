// The recipient's side of receipts (SPEC §11.1): telling each sender what became of its copies in
// this inbox. Every state change is written with the change itself — a stored or delivered copy
// is its own row (`reported` says what the sender has heard), an ack or expiry, whose row goes,
// leaves an event in the same transaction — and an alarm task reports them in batches: one call
// per sender per flush, marked reported only when the sender's inbox acknowledged it, so a
// receipt survives restarts and is at worst late by one flush. Never on the read path.

import type { DeliveryStatus, DeliveryVia } from "../protocol/envelope.js";
import type { Limits } from "../protocol/limits.js";
import type { AlarmScheduler, AlarmTask } from "./alarm-tasks.js";
import type { MessageStore } from "./message-store.js";
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

export class DeliveryReports implements AlarmTask {
  readonly name = "receipts";
  /** ts of copies whose state their sender has not heard of (seeded from storage at start). */
  private readonly pending: Set<number>;
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
    this.pending = new Set(db.unreported());
    this.eventsPending = db.hasStateEvents();
    if (this.pending.size > 0 || this.eventsPending) this.dueAt = Date.now();
  }

  /** A copy changed state (stored, delivered). Call after its row is written. */
  changed(ts: number): void {
    this.pending.add(ts);
    this.schedule();
  }

  /** A copy's row went (acked, expired); call after its event was written in the same transaction. */
  eventWritten(): void {
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
    const bySender = new Map<string, { reports: StateReport[]; done: (() => void)[] }>();
    const batch = (sender: string) => {
      let entry = bySender.get(sender);
      if (!entry) bySender.set(sender, (entry = { reports: [], done: [] }));
      return entry;
    };
    const candidates = [...this.pending].slice(0, ROWS_PER_FLUSH);
    const rows = this.db.stateRows(candidates);
    // A copy acked or expired before a flush has no row: its event tells the rest.
    const found = new Set(rows.map((row) => row.ts));
    for (const ts of candidates) if (!found.has(ts)) this.pending.delete(ts);
    for (const row of rows) {
      const state = row.deliveredAt === null ? 1 : 2;
      if (row.reported >= state) {
        this.pending.delete(row.ts);
        continue;
      }
      const entry = batch(row.sender);
      entry.reports.push({ id: row.id, ts: row.ts, status: state === 1 ? "stored" : "delivered", deliveredAt: row.deliveredAt, via: row.via, at: null, expiresAt: row.expiresAt });
      entry.done.push(() => {
        this.db.markReported(row.ts, state, row.deliveredAt);
        this.pending.delete(row.ts);
      });
    }
    const events = this.db.stateEvents(ROWS_PER_FLUSH);
    for (const event of events) {
      const entry = batch(event.sender);
      entry.reports.push(JSON.parse(event.event) as StateReport);
      entry.done.push(() => this.db.deleteStateEvents([event.seq]));
    }
    const senders = [...bySender].slice(0, SENDERS_PER_FLUSH);
    const outcomes = await Promise.allSettled(senders.map(([sender, { reports }]) => inboxStub(this.env, sender).recordReceipts(recipient, reports)));
    outcomes.forEach((outcome, i) => {
      if (outcome.status === "fulfilled") for (const done of senders[i]![1].done) done();
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
