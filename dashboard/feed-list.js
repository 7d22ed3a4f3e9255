// The feed panel's list: the newest items kept in memory, one per stored copy (message id and
// recipient), rendered newest first. Items arrive from the feed's long-poll (new items) and from
// the periodic re-read of its newest page (the same items, with the delivery state their inboxes
// pushed since), so a merge adds what is new and updates the state of what is shown, in place:
// a line already on the page keeps its element (and its arrival highlight).

import { emptyLine, feedEntry, feedState } from "./panels.js";

/** A state only moves forward: an answer read before a newer one never undoes it. */
const RANK = { stored: 0, delivered: 1, acked: 2, expired: 2 };
const rank = (item) => RANK[item.status] ?? -1;

function feedKey(item) {
  return `${item.id}\n${String(item.to).toLowerCase()}`;
}

function isFeedItem(item) {
  return item && typeof item === "object" && typeof item.id === "string" && typeof item.ts === "string";
}

export class FeedList {
  /**
   * @param {HTMLElement} container the list element
   * @param {number} kept items shown; older ones are dropped
   */
  constructor(container, kept) {
    this.container = container;
    this.kept = kept;
    /** Items by feedKey. */
    this.items = new Map();
    /** Their elements, so a re-render keeps them. */
    this.nodes = new Map();
  }

  get size() {
    return this.items.size;
  }

  get full() {
    return this.items.size === this.kept;
  }

  /** Adds items (any order, duplicates welcome) and shows newer states; answers whether anything changed. */
  merge(items) {
    if (!Array.isArray(items)) return false;
    let added = 0;
    for (const item of items) {
      if (!isFeedItem(item)) continue;
      const key = feedKey(item);
      const known = this.items.get(key);
      if (!known) added++;
      else if (rank(item) <= rank(known)) continue;
      this.items.set(key, item);
      if (known) this.showState(key, item);
    }
    if (added === 0 && this.nodes.size > 0) return false;
    this.render();
    return true;
  }

  /** Replaces the state of a line already on the page. */
  showState(key, item) {
    const node = this.nodes.get(key);
    const shown = node?.querySelector(".state");
    const state = feedState(item);
    if (!node || !state) return;
    if (shown) shown.replaceWith(state);
    else node.querySelector(".feed-tags")?.append(state);
  }

  render() {
    const ordered = [...this.items.entries()].sort(([ka, a], [kb, b]) => (a.ts < b.ts ? 1 : a.ts > b.ts ? -1 : ka < kb ? 1 : -1));
    const kept = ordered.slice(0, this.kept);
    this.items = new Map(kept);
    const nodes = new Map();
    const firstRender = this.nodes.size === 0;
    const elements = kept.map(([key, item]) => {
      let node = this.nodes.get(key);
      if (!node) {
        node = feedEntry(item);
        if (!firstRender) {
          node.classList.add("fresh");
          node.addEventListener("animationend", () => node.classList.remove("fresh"), { once: true });
        }
      }
      nodes.set(key, node);
      return node;
    });
    this.nodes = nodes;
    this.container.replaceChildren(...(elements.length ? elements : [emptyLine("waiting for messages…")]));
  }
}
