// The message feed's live loop (SPEC §7): the newest page, then a long-poll of the relay's admin
// feed after the last arrival seen, again and again, until the live period it belongs to ends
// (the tab hidden, a sign-out). The session (app.js) owns the cursor and the panel; this module
// owns the requests, their timeouts and the back-off.

import { RelayCallError } from "./api.js";

/** Seconds the relay may hold a feed long-poll (it clamps to its own maximum, 30 s by default). */
const LONG_POLL_S = 25;
/** A long-poll that has not answered by then is taken as lost and made again. */
const LONG_POLL_TIMEOUT_MS = (LONG_POLL_S + 20) * 1000;
/** Feed items asked for per long-poll answer and per refresh of the newest page. */
export const FEED_PAGE = 100;
const FEED_FIRST_PAGE = 50;

/**
 * Fills the feed with the newest items, then long-polls for newer ones while `stillCurrent()`:
 * `afterSeq=<cursor>`, answered as soon as something new arrives. The cursor is opaque (a position
 * per feed shard): each answer's `lastSeq` replaces the one before. On a network error it backs off
 * and tries again; a refused key ends the loop through `onKeyRefused`.
 *
 * @param {{
 *   client: import("./api.js").RelayClient,
 *   live: AbortSignal,
 *   stillCurrent: () => boolean,
 *   cursor: { get: () => string | null, set: (seq: string | null) => void },
 *   onItems: (items: unknown[]) => void,
 *   onHealthy: () => void,
 *   onProblem: (error: unknown) => void,
 *   onKeyRefused: (error: RelayCallError) => void,
 * }} feed
 */
export async function followFeed(feed) {
  const { client, live, stillCurrent, cursor } = feed;
  let backoffMs = 1000;
  let primed = false;
  while (stillCurrent()) {
    // One controller per request: aborted by the end of the live period or by the lost-poll timer.
    const controller = new AbortController();
    const abort = () => controller.abort();
    live.addEventListener("abort", abort, { once: true });
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, LONG_POLL_TIMEOUT_MS);
    try {
      // On sign-in and after every pause: the newest page, then long-poll from its newest item.
      // Whatever arrived while the tab was hidden beyond this page is skipped, not replayed.
      const page = primed
        ? await client.messagesAfter(cursor.get(), LONG_POLL_S, FEED_PAGE, controller.signal)
        : await client.latestMessages(FEED_FIRST_PAGE, controller.signal);
      if (!stillCurrent()) return;
      feed.onItems(page.messages);
      cursor.set(page.lastSeq ?? cursor.get());
      primed = true;
      backoffMs = 1000;
      feed.onHealthy();
    } catch (error) {
      if (!stillCurrent()) return;
      if (timedOut) continue;
      if (error instanceof RelayCallError && error.refusesKey) return feed.onKeyRefused(error);
      feed.onProblem(error);
      await new Promise((resolve) => setTimeout(resolve, backoffMs));
      backoffMs = Math.min(backoffMs * 2, 30_000);
    } finally {
      clearTimeout(timer);
      live.removeEventListener("abort", abort);
    }
  }
}
