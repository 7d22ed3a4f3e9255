// The newest messages of an inbox, kept in memory so the common reads (the newest page, or
// "everything after my cursor" for a poller that keeps up) never touch storage.
//
// Invariant: every stored message with ts >= floor is in `items`. Anything older may exist only
// in storage, so a query that could match below the floor answers null and goes to SQL.

import { matchesQuery, type MessageQuery } from "./message-query.js";
import type { StoredMessage } from "./message-store.js";

const MAX_ITEMS = 256;
/** Memory budget in characters of envelope JSON: in production an isolate (shared by objects) has 128 MB. */
const MAX_CHARS = 1024 * 1024;

export class RecentMessages {
  private items: StoredMessage[] = []; // ascending ts
  private chars = 0;
  /**
   * Older messages may exist in storage only below this ts: -Infinity when memory holds them
   * all, +Infinity before anything is known (a fresh object that has not read its storage).
   */
  private floor = Number.POSITIVE_INFINITY;

  /** Starts from the newest stored messages; `complete` when they are all there is. */
  load(newestAscending: StoredMessage[], complete: boolean): void {
    this.items = newestAscending;
    this.chars = newestAscending.reduce((sum, m) => sum + m.json.length, 0);
    this.floor = complete || newestAscending.length === 0 ? Number.NEGATIVE_INFINITY : newestAscending[0]!.ts;
    this.trim();
  }

  /** A newly stored message; its ts is larger than every cached one. */
  add(message: StoredMessage): void {
    // Knowing nothing yet, the newest message alone is still "everything from its ts on".
    if (this.floor === Number.POSITIVE_INFINITY) this.floor = message.ts;
    this.items.push(message);
    this.chars += message.json.length;
    this.trim();
  }

  remove(ts: ReadonlySet<number>): void {
    if (ts.size === 0) return;
    this.items = this.items.filter((m) => {
      if (!ts.has(m.ts)) return true;
      this.chars -= m.json.length;
      return false;
    });
  }

  /** A cached copy was marked delivered (through a row read from storage, not this object). */
  delivered(ts: number, at: number, via: StoredMessage["via"]): void {
    const hit = this.items.find((m) => m.ts === ts);
    if (hit && hit.deliveredAt === null) {
      hit.deliveredAt = at;
      hit.via = via;
    }
  }

  byId(id: string, now: number): StoredMessage | null | undefined {
    const hit = this.items.find((m) => m.id === id);
    if (hit) return hit.expiresAt > now ? hit : null;
    return undefined; // unknown here: ask storage
  }

  /** Up to limit + 1 matches in order, or null when the answer may need older messages. */
  query(q: MessageQuery, now: number): StoredMessage[] | null {
    const matches = (m: StoredMessage): boolean => matchesQuery(m, q, now);
    // All candidates are in memory when none can lie below the floor.
    const covered = q.after !== undefined && q.after >= this.floor - 1;
    const complete = this.floor === Number.NEGATIVE_INFINITY;
    const out: StoredMessage[] = [];
    if (q.sort === "asc") {
      if (!complete && !covered) return null;
      for (const m of this.items) {
        if (matches(m)) out.push(m);
        if (out.length > q.limit) break;
      }
      return out;
    }
    for (let i = this.items.length - 1; i >= 0; i--) {
      const m = this.items[i]!;
      if (matches(m)) out.push(m);
      if (out.length > q.limit) return out;
    }
    return complete || covered ? out : null;
  }

  private trim(): void {
    while (this.items.length > MAX_ITEMS || (this.chars > MAX_CHARS && this.items.length > 1)) {
      const dropped = this.items.shift()!;
      this.chars -= dropped.json.length;
      this.floor = this.items[0]!.ts;
    }
  }
}
