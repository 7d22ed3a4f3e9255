// Long-polls held in an inbox (GET /messages?wait=N): each waits for a stored message that
// matches its query, or for its deadline. They are only promises in the object's memory, so they
// never block sends or other reads: a later call into the same object resolves them. A restart
// drops them; the Worker answers such a poll with an empty page and the client polls again.

import { matchesQuery, type MessageQuery, type QueryableMessage } from "./message-query.js";

/** Long-polls held per inbox; a new one beyond this answers the oldest (empty) at once. */
const MAX_WAITERS = 100;

interface Waiter {
  query: MessageQuery;
  wake: () => void;
}

export class LongPolls {
  private readonly waiters = new Set<Waiter>();

  get held(): number {
    return this.waiters.size;
  }

  /** Resolves when a matching message is stored (`notify`), at `wakeAll`, or after `ms`. */
  wait(query: MessageQuery, ms: number): Promise<void> {
    if (this.waiters.size >= MAX_WAITERS) this.waiters.values().next().value!.wake();
    return new Promise((resolve) => {
      const waiter: Waiter = {
        query,
        wake: () => {
          clearTimeout(timer);
          this.waiters.delete(waiter);
          resolve();
        },
      };
      const timer = setTimeout(waiter.wake, ms);
      this.waiters.add(waiter);
    });
  }

  /** A message was stored: wakes every poll it matches. */
  notify(message: QueryableMessage, now: number): void {
    for (const waiter of [...this.waiters]) if (matchesQuery(message, waiter.query, now)) waiter.wake();
  }

  wakeAll(): void {
    for (const waiter of [...this.waiters]) waiter.wake();
  }
}
