// The audit view (SPEC §13): the entries agents logged about their messages, newest first, with
// filters and paging by cursor (`before=<cursor>`, exact even for entries of one millisecond).
// Sealed payloads are opened in this page with the operator's secret key, which is typed in, kept
// in this tab's sessionStorage only and never sent anywhere. Every string is rendered as text.

import { RelayCallError } from "./api.js";
import { openSealed, parseSecretKey } from "./audit-seal.js";
import { byId, el, lockIcon, setText } from "./dom.js";
import { clockTime } from "./format.js";

const SECRET_KEY_KEY = "clawtalk.dashboard.auditSecretKey";
const PAGE = 50;
const FILTERS = ["from", "to", "topic", "since"];

function readSecret() {
  try {
    return sessionStorage.getItem(SECRET_KEY_KEY);
  } catch {
    return null;
  }
}

function writeSecret(value) {
  try {
    if (value === null) sessionStorage.removeItem(SECRET_KEY_KEY);
    else sessionStorage.setItem(SECRET_KEY_KEY, value);
  } catch {
    // not kept: the key must be typed again after a reload
  }
}

/** A payload as text: a string as it is, anything else as indented JSON. */
function payloadText(value) {
  return typeof value === "string" ? value : JSON.stringify(value, null, 2);
}

/** One entry: when, direction, from → to, topic, message id; then the payload, opened when sealed and the key fits. */
export function auditEntryNode(entry, secretKey) {
  const to = Array.isArray(entry.to) ? entry.to.join(", ") : String(entry.to);
  let state = "plain";
  let body;
  if (entry.sealed) {
    const opened = secretKey ? openSealed(entry.payload, secretKey) : null;
    state = opened ? "opened" : secretKey ? "unreadable" : "sealed";
    body = opened
      ? el("div", { class: "audit-body" }, lockIcon(), el("pre", { class: "audit-payload" }, payloadText(opened.value)))
      : el(
          "div",
          { class: "audit-body encrypted" },
          lockIcon(),
          el("span", { class: "audit-note" }, secretKey ? " sealed · does not open with this secret key" : " sealed · enter the operator's secret key to read it"),
        );
  } else {
    body = el("div", { class: "audit-body" }, el("pre", { class: "audit-payload" }, payloadText(entry.payload)));
  }
  return el(
    "li",
    { class: "audit-entry", "data-message-id": entry.messageId, "data-state": state },
    el(
      "div",
      { class: "audit-head" },
      el("time", { class: "ts dim", datetime: entry.loggedAt, title: `logged ${entry.loggedAt}; message ts ${entry.ts}` }, clockTime(entry.loggedAt)),
      el("span", { class: `direction ${entry.direction === "received" ? "received" : "sent"}` }, String(entry.direction)),
      el("span", { class: "from" }, String(entry.from)),
      el("span", { class: "arrow dim" }, " → "),
      el("span", { class: "to" }, to),
      entry.topic ? el("span", { class: "topic" }, `#${entry.topic}`) : null,
      el("span", { class: "message-id dim", title: `logged by ${entry.loggedBy}` }, String(entry.messageId)),
    ),
    body,
  );
}

/**
 * Wires the audit view. `client()` is the signed-in RelayClient (or null); `onKeyRefused` ends the
 * session. Returns `showMonitor` (back to the monitor panels) and `reset` (on sign-out: forget the
 * entries and the secret key).
 */
export function createAuditView({ client, onKeyRefused }) {
  let entries = [];
  let cursor = null;
  let hasMore = false;
  let filters = {};
  let loaded = false;
  /** Bumped by every load and reset, so an answer to an older request is dropped. */
  let generation = 0;

  function showError(message) {
    const error = byId("audit-error");
    error.textContent = message ?? "";
    error.hidden = !message;
  }

  function render() {
    const secret = readSecret();
    const nodes = entries.map((entry) => auditEntryNode(entry, secret));
    byId("audit-entries").replaceChildren(...(nodes.length ? nodes : [el("li", { class: "empty dim" }, loaded ? "no audit entries match" : "loading…")]));
    byId("audit-more").hidden = !hasMore;
    setText("audit-count", loaded ? `${entries.length}${hasMore ? "+" : ""} shown` : "");
    setText("audit-key-status", secret ? "secret key set for this tab: sealed entries are opened here" : "no secret key: sealed entries stay sealed");
    byId("audit-forget").hidden = !secret;
  }

  async function load(older) {
    const relay = client();
    if (!relay) return;
    const mine = ++generation;
    showError(null);
    try {
      const page = await relay.audit({ ...filters, limit: PAGE, ...(older && cursor ? { before: cursor } : {}) });
      if (mine !== generation) return;
      const got = Array.isArray(page?.entries) ? page.entries : [];
      entries = older ? [...entries, ...got] : got;
      cursor = typeof page?.cursor === "string" ? page.cursor : null;
      hasMore = page?.hasMore === true;
      loaded = true;
      render();
    } catch (error) {
      if (mine !== generation) return;
      if (error instanceof RelayCallError && error.refusesKey) return onKeyRefused(error);
      showError(error instanceof RelayCallError ? error.message : `Unexpected error: ${String(error?.message ?? error)}`);
    }
  }

  function show(view) {
    byId("dashboard-view").hidden = view !== "monitor";
    byId("audit-view").hidden = view !== "audit";
    byId("view-monitor").setAttribute("aria-pressed", String(view === "monitor"));
    byId("view-audit").setAttribute("aria-pressed", String(view === "audit"));
  }

  byId("view-monitor").addEventListener("click", () => show("monitor"));
  byId("view-audit").addEventListener("click", () => {
    show("audit");
    render();
    if (!loaded) void load(false);
  });
  byId("audit-filters").addEventListener("submit", (event) => {
    event.preventDefault();
    filters = {};
    for (const name of FILTERS) {
      const value = byId(`audit-${name}`).value.trim();
      if (value) filters[name] = value;
    }
    // The list shown is the old filter's until the answer comes: drop it (and its "older
    // entries", whose cursor belongs to it) so nothing is appended to a list of other entries.
    entries = [];
    cursor = null;
    hasMore = false;
    loaded = false;
    render();
    void load(false);
  });
  byId("audit-more").addEventListener("click", () => void load(true));
  byId("audit-key-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const input = byId("audit-secret");
    const key = parseSecretKey(input.value);
    if (key === null) {
      showError("The secret key is 32 bytes of base64: the secretKey of the file `clawtalk keygen --audit` wrote (or paste the whole file).");
      return;
    }
    input.value = "";
    writeSecret(key);
    showError(null);
    render();
  });
  byId("audit-forget").addEventListener("click", () => {
    writeSecret(null);
    render();
  });

  return {
    showMonitor: () => show("monitor"),
    reset() {
      generation++;
      entries = [];
      cursor = null;
      hasMore = false;
      filters = {};
      loaded = false;
      writeSecret(null);
      for (const name of FILTERS) byId(`audit-${name}`).value = "";
      byId("audit-secret").value = "";
      byId("audit-entries").replaceChildren();
      showError(null);
      byId("audit-view").hidden = true;
    },
  };
}
