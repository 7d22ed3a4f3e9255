// The ClawTalk relay monitor (SPEC §7). Signs in with the admin key, then keeps every panel live:
// the message feed long-polls the relay's admin feed continuously, the other panels (and the
// delivery state of the newest feed items) refresh every ten seconds, and everything pauses while
// the tab is hidden.
//
// Where things are kept: the relay URL in localStorage (it is not a secret, and it is handy to
// have it remembered); the admin key in sessionStorage only (gone when the tab closes), and it
// only ever travels in an Authorization header, never in a URL.

import { RelayCallError, RelayClient, normalizeRelayUrl } from "./api.js";
import { createAuditView } from "./audit.js";
import { byId, setText } from "./dom.js";
import { FeedList } from "./feed-list.js";
import { FEED_PAGE, followFeed } from "./feed-loop.js";
import { forgetCharts, renderAgentsPanel, renderChannels, renderStatsPanels, renderWebhooks, watchChartWidths } from "./panel-views.js";

const RELAY_URL_KEY = "clawtalk.dashboard.relayUrl";
const ADMIN_KEY_KEY = "clawtalk.dashboard.adminKey";

/** Panels other than the feed are re-read this often. */
const REFRESH_MS = 10_000;
/** Feed items shown; older ones are dropped from the page. */
const FEED_KEPT = 200;
/**
 * An agent whose oldest undelivered message has waited longer than this is highlighted in the
 * "not reading" panel: the relay's ONLINE_THRESHOLD_S default, after which it shows an agent offline.
 */
const BACKLOG_LATE_MS = 5 * 60_000;

/** Everything the signed-in session holds. Replaced wholesale on sign-in, dropped on sign-out. */
let session = null;

/** The audit view (audit.js): its own filters, pages and the operator's secret key. */
const audit = createAuditView({ client: () => session?.client ?? null, onKeyRefused: (error) => onKeyRefused(error) });

function newSession(client) {
  return {
    client,
    /** Bumped on every pause and sign-out, so loops started before it stop on their own. */
    generation: 0,
    live: false,
    refreshTimer: null,
    refreshing: false,
    /** Aborts the requests of the current live period (pause, sign-out). */
    liveAbort: null,
    /** The feed's items, one per stored copy (feed-list.js). */
    feed: new FeedList(byId("feed"), FEED_KEPT),
    feedCursor: null,
    agents: [],
    webhookHealth: [],
    /** The last /admin/stats answer, kept to redraw the charts on resize. */
    stats: null,
    lastError: null,
  };
}

// ---- Storage (both can throw in locked-down browsers; the dashboard then just forgets) ----

function readStorage(storage, key) {
  try {
    return storage.getItem(key);
  } catch {
    return null;
  }
}

function writeStorage(storage, key, value) {
  try {
    if (value === null) storage.removeItem(key);
    else storage.setItem(key, value);
  } catch {
    // not remembered
  }
}

/** The relay URL to offer: the remembered one, else this page's origin when the relay serves it. */
function defaultRelayUrl() {
  const remembered = readStorage(localStorage, RELAY_URL_KEY);
  if (remembered) return remembered;
  if (location.protocol.startsWith("http") && location.pathname.startsWith("/dashboard")) return location.origin;
  return "http://127.0.0.1:8787";
}

// ---- Status line ----

function setStatus(tone, text) {
  byId("status-dot").className = `status-dot tone-${tone}`;
  setText("status-text", text);
}

function clockNow() {
  return new Date().toLocaleTimeString("en-GB", { hour12: false });
}

function reportProblem(error) {
  if (!session) return;
  session.lastError = error;
  setStatus("error", error instanceof RelayCallError ? error.message : `Unexpected error: ${String(error?.message ?? error)}`);
}

function reportHealthy() {
  if (!session || !session.live) return;
  session.lastError = null;
  setStatus("live", `live · updated ${clockNow()}`);
}

// ---- Views ----

function showLogin(message) {
  byId("dashboard-view").hidden = true;
  byId("session").hidden = true;
  byId("login-view").hidden = false;
  byId("relay-url").value = defaultRelayUrl();
  byId("admin-key").value = "";
  const error = byId("login-error");
  error.textContent = message ?? "";
  error.hidden = !message;
  setStatus(message ? "error" : "idle", message ? "not signed in: key refused or relay unreachable" : "not signed in");
  byId("admin-key").focus();
}

function showDashboard() {
  byId("login-view").hidden = true;
  byId("login-error").hidden = true;
  audit.showMonitor();
  byId("session").hidden = false;
  setText("session-relay", session.client.baseUrl);
}

function clearPanels() {
  forgetCharts();
  for (const id of ["agents-body", "webhooks", "channels-body", "feed", "backlog", "chart-throughput", "chart-latency"]) byId(id).replaceChildren();
  for (const id of ["agents-count", "feed-count", "channels-count", "backlog-count", "throughput-total", "latency-total"]) setText(id, "");
}

// ---- Sign in and out ----

async function signIn(relayUrl, adminKey) {
  stopSession();
  const client = new RelayClient(relayUrl, adminKey);
  setStatus("busy", `connecting to ${relayUrl}…`);
  // One call proves the key before anything is remembered: /agents needs an admin or agent key,
  // and the stats call needs the admin key, so an agent's key is refused (403) here too.
  const [agents] = await Promise.all([client.agents(), client.stats(1)]);
  writeStorage(sessionStorage, ADMIN_KEY_KEY, adminKey);
  writeStorage(localStorage, RELAY_URL_KEY, relayUrl);
  session = newSession(client);
  session.agents = agents;
  byId("admin-key").value = "";
  clearPanels();
  showDashboard();
  renderAgents();
  resume();
}

/** Ends the session: stops every loop, forgets the key, clears the panels, shows the form. */
function signOut(message) {
  stopSession();
  writeStorage(sessionStorage, ADMIN_KEY_KEY, null);
  audit.reset();
  clearPanels();
  showLogin(message);
}

function stopSession() {
  if (!session) return;
  pause();
  session = null;
}

function onKeyRefused(error) {
  signOut(`${error.message} Sign in again.`);
}

// ---- Live updates: pause while hidden, resume when visible ----

function resume() {
  if (!session || session.live || document.visibilityState === "hidden") return;
  session.live = true;
  setStatus("live", "live");
  const generation = ++session.generation;
  session.liveAbort = new AbortController();
  void refreshPanels(generation);
  session.refreshTimer = setInterval(() => void refreshPanels(generation), REFRESH_MS);
  void runFeed(generation);
}

function pause() {
  if (!session) return;
  session.generation++;
  session.live = false;
  clearInterval(session.refreshTimer);
  session.refreshTimer = null;
  // Aborting the held long-poll (and any refresh under way) frees the connections at once; the
  // relay sees the requests end, and nothing is in flight while the tab is hidden.
  session.liveAbort?.abort();
  session.liveAbort = null;
}

document.addEventListener("visibilitychange", () => {
  if (!session) return;
  if (document.visibilityState === "hidden") {
    pause();
    setStatus("paused", "paused while the tab is hidden");
  } else {
    resume();
  }
});

const current = (generation) => session !== null && session.generation === generation;

// ---- The feed ----

/** Adds items (new ones, or newer states of those shown) to the feed panel. */
function mergeFeed(items) {
  if (session.feed.merge(items)) renderFeedCount();
}

/** How many items are shown and, from /admin/stats, how far behind the feed may be (inboxes push less often when the relay is busy). */
function renderFeedCount() {
  const shown = session.feed.size;
  const lagMs = session.stats?.feedPushWaitMs;
  const seconds = typeof lagMs === "number" ? lagMs / 1000 : null;
  const lag = seconds === null ? "" : ` · up to ${seconds < 10 ? Math.round(seconds * 10) / 10 : Math.ceil(seconds)} s behind`;
  setText("feed-count", `${shown}${session.feed.full ? "+" : ""} shown${lag}`);
}

function runFeed(generation) {
  return followFeed({
    client: session.client,
    live: session.liveAbort.signal,
    stillCurrent: () => current(generation),
    cursor: { get: () => session.feedCursor, set: (seq) => (session.feedCursor = seq) },
    onItems: mergeFeed,
    onHealthy: reportHealthy,
    onProblem: reportProblem,
    onKeyRefused,
  });
}

// ---- The other panels ----

function renderAgents() {
  renderAgentsPanel(Array.isArray(session.agents) ? session.agents : [], Array.isArray(session.webhookHealth) ? session.webhookHealth : []);
}

function renderStats(stats) {
  session.stats = stats;
  renderStatsPanels(stats, BACKLOG_LATE_MS);
  renderFeedCount();
}

/**
 * Re-reads agents, stats, webhook attempts and channels, and the feed's newest page: the feed
 * is live by itself for new items, but an item's delivery state changes after it arrived, and
 * the long-poll (by arrival) does not bring it again.
 */
async function refreshPanels(generation) {
  if (!current(generation) || session.refreshing) return;
  session.refreshing = true;
  const client = session.client;
  const signal = session.liveAbort?.signal;
  try {
    const [agents, stats, attempts, channels, newest] = await Promise.allSettled([
      client.agents(signal),
      client.stats(60, signal),
      client.deliveries(50, signal),
      client.channels(signal),
      client.latestMessages(FEED_PAGE, signal),
    ]);
    if (!current(generation)) return;
    const failures = [agents, stats, attempts, channels, newest].filter((r) => r.status === "rejected").map((r) => r.reason);
    const refused = failures.find((e) => e instanceof RelayCallError && e.refusesKey);
    if (refused) return onKeyRefused(refused);
    if (stats.status === "fulfilled") {
      session.webhookHealth = Array.isArray(stats.value.webhooks) ? stats.value.webhooks : [];
      renderStats(stats.value);
    }
    if (agents.status === "fulfilled") session.agents = agents.value;
    if (agents.status === "fulfilled" || stats.status === "fulfilled") renderAgents();
    if (attempts.status === "fulfilled") renderWebhooks(Array.isArray(attempts.value) ? attempts.value : []);
    if (channels.status === "fulfilled") renderChannels(Array.isArray(channels.value) ? channels.value : []);
    if (newest.status === "fulfilled") mergeFeed(newest.value?.messages);
    if (failures.length) reportProblem(failures[0]);
    else reportHealthy();
  } finally {
    if (session) session.refreshing = false;
  }
}

// ---- Start ----

function wireLoginForm() {
  const form = byId("login-form");
  form.addEventListener("submit", (event) => {
    // The form never submits anywhere (the CSP has form-action 'none'); the key goes in a header.
    event.preventDefault();
    const error = byId("login-error");
    let relayUrl;
    try {
      relayUrl = normalizeRelayUrl(byId("relay-url").value);
    } catch (e) {
      error.textContent = e instanceof TypeError ? "Enter the relay's URL, e.g. http://127.0.0.1:8787." : e.message;
      error.hidden = false;
      return;
    }
    const adminKey = byId("admin-key").value.trim();
    if (!adminKey) {
      error.textContent = "Enter the admin key.";
      error.hidden = false;
      return;
    }
    const submit = byId("login-submit");
    submit.disabled = true;
    signIn(relayUrl, adminKey)
      .catch((e) => signOut(e instanceof RelayCallError ? e.message : `Sign-in failed: ${String(e?.message ?? e)}`))
      .finally(() => (submit.disabled = false));
  });
  byId("logout").addEventListener("click", () => signOut(null));
}

function start() {
  wireLoginForm();
  watchChartWidths();
  const key = readStorage(sessionStorage, ADMIN_KEY_KEY);
  const relay = readStorage(localStorage, RELAY_URL_KEY);
  if (key && relay) {
    // A reload of a signed-in tab: sign in again with the kept key; a refusal shows the form.
    showLogin(null);
    signIn(relay, key).catch((e) => signOut(e instanceof RelayCallError ? e.message : String(e?.message ?? e)));
  } else {
    showLogin(null);
  }
}

start();
