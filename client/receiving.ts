// Reading the inbox (SPEC §4.2, §11.1): the query of one page (`receive`), and `watch`, the
// long-poll loop with an exact cursor that the CLI's `watch` and any long-running agent use.

import type { MessagePage } from "../protocol/envelope.js";
import type { ReceivedMessage } from "./opening.js";
import { isTransient, sleep } from "./relay-http.js";

export interface ReceiveOptions {
  /** Defaults to "asc" (oldest first), the order pollers want. */
  sort?: "asc" | "desc";
  after?: string;
  before?: string;
  limit?: number;
  topic?: string;
  from?: string;
  /** Long-poll seconds. */
  wait?: number;
  /** Only copies not yet delivered (to any reader of this inbox, or its webhook). */
  unread?: boolean;
  /** How the relay records the copies' delivery: "poll" (its default) or "mcp" for an MCP server. */
  via?: "poll" | "mcp";
  signal?: AbortSignal;
}

export interface ReceivedPage extends Omit<MessagePage, "messages"> {
  messages: ReceivedMessage[];
}

/** Where `watch` keeps its cursor (the `ts` of the last message handled). */
export interface CursorStore {
  load(): Promise<string | null> | string | null;
  save(cursor: string): Promise<void> | void;
}

export interface WatchOptions extends Omit<ReceiveOptions, "after" | "sort" | "before"> {
  cursor?: CursorStore;
  signal?: AbortSignal;
  onError?: (error: unknown, retryInMs: number) => void;
}

/** The query string of GET /messages for `receive`. */
export function receiveQuery(options: ReceiveOptions): URLSearchParams {
  const query = new URLSearchParams({ sort: options.sort ?? "asc" });
  for (const key of ["after", "before", "limit", "topic", "from", "wait", "via"] as const) {
    const value = options[key];
    if (value !== undefined) query.set(key, String(value));
  }
  if (options.unread) query.set("unread", "true");
  return query;
}

/** Message ids remembered to drop a message the loop already yielded. */
const RECENT_KEPT = 10_000;

/**
 * Long-polls until `signal` aborts, yielding each message once, oldest first. The cursor is
 * saved after the loop body that handled a message finished. With `unread`, a loop that resumes
 * from a saved cursor asks once without it: what the previous run fetched but did not finish is
 * `delivered` by then, and must come again. Transient failures back off (1 s doubling to 30 s);
 * any other 4xx (a revoked key) is thrown.
 */
export async function* watchInbox(receive: (options: ReceiveOptions) => Promise<ReceivedPage>, options: WatchOptions): AsyncGenerator<ReceivedMessage> {
  const { cursor: store, signal, onError, unread, ...filters } = options;
  let after = (await store?.load()) ?? undefined;
  let askUnread = unread === true && after === undefined;
  const recent = new Set<string>();
  let backoffMs = 1000;
  while (!signal?.aborted) {
    let page: ReceivedPage;
    try {
      page = await receive({
        ...filters,
        wait: filters.wait ?? 30,
        sort: "asc",
        ...(askUnread ? { unread: true } : {}),
        ...(after ? { after } : {}),
        ...(signal ? { signal } : {}),
      });
      backoffMs = 1000;
      askUnread = unread === true;
    } catch (error) {
      if (signal?.aborted) return;
      // A refused key or request will not get better by retrying: stop and say so.
      if (!isTransient(error)) throw error;
      onError?.(error, backoffMs);
      await sleep(backoffMs, signal);
      backoffMs = Math.min(backoffMs * 2, 30_000);
      continue;
    }
    for (const message of page.messages) {
      if (signal?.aborted) return;
      if (!recent.has(message.id + message.ts)) {
        recent.add(message.id + message.ts);
        if (recent.size > RECENT_KEPT) recent.delete(recent.values().next().value!);
        yield message;
      }
      after = message.ts;
      await store?.save(after);
    }
  }
}
