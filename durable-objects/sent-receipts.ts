// The sender's side of receipts (SPEC §11.1): what became of each copy of the messages this agent
// sent, as the recipients' inboxes report it (delivery-reports.ts), kept for the message's TTL.
// Nothing is written here on the send's hot path: a send is remembered in memory until its
// recipients' first reports arrive (at most FEED_FLUSH_MS later), and only copies the send itself
// saw refused (a rejected recipient of a multicast, a broadcast's batch) are written at once. A
// restart of this object in that window loses only the memory: the recipients' reports, durable on
// their side, bring every row back.

import type { DeliveryReceipt, DeliveryStatus, DeliveryVia, Receipts } from "../protocol/envelope.js";
import { nameKey } from "../protocol/names.js";
import { isoTime } from "../protocol/time.js";
import type { StateReport } from "./delivery-reports.js";
import { migrate } from "./schema.js";

const STEPS = [
  `CREATE TABLE IF NOT EXISTS receipts (
     message_id TEXT NOT NULL,
     recipient TEXT NOT NULL,
     name TEXT NOT NULL,
     ts INTEGER NOT NULL,
     status TEXT NOT NULL,
     delivered_at INTEGER,
     via TEXT,
     acked_at INTEGER,
     code TEXT,
     expires_at INTEGER NOT NULL,
     PRIMARY KEY (message_id, recipient)
   );
   CREATE INDEX IF NOT EXISTS receipts_by_expiry ON receipts(expires_at);`,
];

/** A state only moves forward: a later report never undoes an earlier one. */
const RANK: Record<DeliveryStatus, number> = { rejected: 0, stored: 1, delivered: 2, acked: 3, expired: 3 };

/** What a receipts long-poll waits for (`until`). */
export type Until = "delivered" | "acked";

/**
 * Every copy reached `until`, or can no longer: a rejected copy never will, an expired one never
 * will again, and an acked one was delivered as far as its recipient is concerned.
 */
export function isSettled(rows: Row[], until: Until): boolean {
  return rows.every((row) => row.status === "rejected" || row.status === "expired" || row.status === "acked" || (until === "delivered" && row.status === "delivered"));
}

/** Sends remembered in memory until their reports arrive. */
const RECENT_KEPT = 2000;

interface Row {
  name: string;
  status: DeliveryStatus;
  ts: number;
  deliveredAt: number | null;
  via: DeliveryVia | null;
  ackedAt: number | null;
  code: string | null;
}

interface RecentSend {
  ts: number;
  expiresAt: number;
  rows: Map<string, Row>;
}

type SqlRow = Record<string, SqlStorageValue>;

function toRow(row: SqlRow): Row {
  return {
    name: row.name as string,
    status: row.status as DeliveryStatus,
    ts: row.ts as number,
    deliveredAt: (row.delivered_at as number | null) ?? null,
    via: (row.via as DeliveryVia | null) ?? null,
    ackedAt: (row.acked_at as number | null) ?? null,
    code: (row.code as string | null) ?? null,
  };
}

function receipt(row: Row): DeliveryReceipt {
  const out: DeliveryReceipt = { name: row.name, status: row.status, ts: isoTime(row.ts) };
  if (row.deliveredAt !== null) out.deliveredAt = isoTime(row.deliveredAt);
  if (row.via !== null) out.via = row.via;
  if (row.ackedAt !== null) out.ackedAt = isoTime(row.ackedAt);
  if (row.code !== null) out.code = row.code;
  return out;
}

export class SentReceipts {
  private readonly recent = new Map<string, RecentSend>();
  private readonly waiters = new Map<string, Set<() => void>>();

  private readonly sql: SqlStorage;

  constructor(private readonly storage: DurableObjectStorage) {
    this.sql = storage.sql;
    migrate(this.sql, "receipts", STEPS);
  }

  /** A direct or multicast send's outcome, as the send saw it. Refused copies (rare) are written at once. */
  sent(id: string, ts: number, expiresAt: number, rows: Row[]): void {
    const refused = rows.filter((row) => row.status === "rejected");
    if (refused.length > 0) this.storage.transactionSync(() => refused.forEach((row) => this.upsert(id, expiresAt, row)));
    this.recent.set(id, { ts, expiresAt, rows: new Map(rows.map((row) => [nameKey(row.name), row])) });
    if (this.recent.size > RECENT_KEPT) this.recent.delete(this.recent.keys().next().value!);
  }

  /** One fan-out batch of a broadcast: each copy stored or refused (call inside the batch's transaction). */
  broadcastBatch(id: string, expiresAt: number, rows: Row[]): void {
    for (const row of rows) this.upsert(id, expiresAt, row);
  }

  /** A recipient's reports, in one transaction; wakes the receipts long-polls of those ids. */
  record(recipient: string, reports: StateReport[]): void {
    this.storage.transactionSync(() => reports.forEach((report) => this.recordOne(recipient, report)));
    for (const id of new Set(reports.map((r) => r.id))) for (const wake of this.waiters.get(id) ?? []) wake();
  }

  private recordOne(recipient: string, report: StateReport): void {
    {
      const row: Row = {
        name: recipient,
        status: report.status,
        ts: report.ts,
        deliveredAt: report.deliveredAt,
        via: report.via,
        ackedAt: report.status === "acked" ? report.at : null,
        code: null,
      };
      this.upsert(report.id, report.expiresAt, row);
      const recent = this.recent.get(report.id);
      if (recent) {
        recent.rows.delete(nameKey(recipient));
        if (recent.rows.size === 0) this.recent.delete(report.id);
      }
    }
  }

  /** The receipts of a message this agent sent (and their rows), or null when it sent none with that id. */
  read(id: string, broadcast: { ts: number } | null): { receipts: Receipts; rows: Row[] } | null {
    const rows = new Map<string, Row>();
    for (const row of this.sql.exec<SqlRow>("SELECT * FROM receipts WHERE message_id = ?", id).toArray()) rows.set(row.recipient as string, toRow(row));
    const recent = this.recent.get(id);
    for (const [key, row] of recent?.rows ?? []) {
      const known = rows.get(key);
      if (!known || RANK[row.status] > RANK[known.status]) rows.set(key, row);
    }
    const all = [...rows.values()];
    if (broadcast) {
      const count = (test: (row: Row) => boolean) => all.filter(test).length;
      const counts = {
        total: all.length,
        stored: count((r) => r.status !== "rejected"),
        delivered: count((r) => r.deliveredAt !== null),
        acked: count((r) => r.status === "acked"),
        rejected: count((r) => r.status === "rejected"),
      };
      return { receipts: { id, ts: isoTime(broadcast.ts), broadcast: counts }, rows: all };
    }
    if (all.length === 0) return null;
    all.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    const ts = recent?.ts ?? Math.min(...all.map((r) => r.ts));
    return { receipts: { id, ts: isoTime(ts), recipients: all.map(receipt) }, rows: all };
  }

  /** Resolves at the next report for `id`, or after `ms`. */
  wait(id: string, ms: number): Promise<void> {
    return new Promise((resolve) => {
      const set = this.waiters.get(id) ?? new Set();
      const wake = () => {
        clearTimeout(timer);
        set.delete(wake);
        if (set.size === 0) this.waiters.delete(id);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      set.add(wake);
      this.waiters.set(id, set);
    });
  }

  /** Forgets receipts whose message's TTL passed; answers the next such time. */
  /** When the first kept receipt's TTL ends, or null. */
  nextExpiry(): number | null {
    return this.sql.exec<{ at: number | null }>("SELECT MIN(expires_at) AS at FROM receipts").one().at;
  }

  purgeExpired(now: number): number | null {
    this.sql.exec("DELETE FROM receipts WHERE rowid IN (SELECT rowid FROM receipts WHERE expires_at <= ? LIMIT 1000)", now);
    for (const [id, send] of this.recent) if (send.expiresAt <= now) this.recent.delete(id);
    return this.nextExpiry();
  }

  private upsert(id: string, expiresAt: number, row: Row): void {
    // A report moves a row forward only; `delivered_at`, once known, is kept.
    this.sql.exec(
      `INSERT INTO receipts (message_id, recipient, name, ts, status, delivered_at, via, acked_at, code, expires_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT(message_id, recipient) DO UPDATE SET
         ts = CASE WHEN excluded.status = 'rejected' THEN ts ELSE excluded.ts END,
         status = CASE WHEN (CASE excluded.status WHEN 'rejected' THEN 0 WHEN 'stored' THEN 1 WHEN 'delivered' THEN 2 ELSE 3 END)
                          > (CASE status WHEN 'rejected' THEN 0 WHEN 'stored' THEN 1 WHEN 'delivered' THEN 2 ELSE 3 END)
                       THEN excluded.status ELSE status END,
         delivered_at = COALESCE(delivered_at, excluded.delivered_at),
         via = COALESCE(via, excluded.via),
         acked_at = COALESCE(acked_at, excluded.acked_at),
         code = CASE WHEN status = 'rejected' AND excluded.status = 'rejected' THEN excluded.code ELSE NULL END`,
      id, nameKey(row.name), row.name, row.ts, row.status, row.deliveredAt, row.via, row.ackedAt, row.code, expiresAt,
    );
  }
}

export type { Row as ReceiptRow };
