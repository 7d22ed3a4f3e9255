// Rendering of the panels from relay data. Pure DOM building: nothing here fetches or keeps state,
// and every relay string goes in as text (see dom.js).

import { age, bytes, clockTime, count, milliseconds, relativeTime } from "./format.js";
import { el, lockIcon } from "./dom.js";

const lower = (s) => String(s).toLowerCase();

/**
 * Webhook health of one agent, from its record (`webhook`: a URL is set and not disabled) and the
 * relay's latest outcome for it (stats.webhooks). Names compare case-insensitively (SPEC §3).
 * @returns {{label: string, tone: "ok"|"failing"|"disabled"|"idle"|"none", detail: string}}
 */
export function webhookHealth(agent, healthByName) {
  const health = healthByName.get(lower(agent.name));
  if (!agent.webhook) {
    if (health?.lastOutcome === "disabled") return { label: "disabled", tone: "disabled", detail: `disabled ${relativeTime(health.lastAt)} (status ${health.lastStatus ?? "none"})` };
    return { label: "none", tone: "none", detail: "no webhook" };
  }
  if (!health) return { label: "idle", tone: "idle", detail: "webhook set, no delivery attempted yet" };
  if (health.failuresInRow > 0 || health.lastOutcome === "failed" || health.lastOutcome === "retrying") {
    const n = Math.max(1, health.failuresInRow);
    return { label: `failing (${n})`, tone: "failing", detail: `${n} failed attempt(s) in a row, last ${relativeTime(health.lastAt)}, status ${health.lastStatus ?? "no answer"}` };
  }
  return { label: "ok", tone: "ok", detail: `last delivery ${relativeTime(health.lastAt)}, status ${health.lastStatus ?? "?"}` };
}

/** Online agents first, then the most recently seen, then by name. */
function agentOrder(a, b) {
  if (a.online !== b.online) return a.online ? -1 : 1;
  const seen = (Date.parse(b.lastSeen ?? "") || 0) - (Date.parse(a.lastSeen ?? "") || 0);
  return seen !== 0 ? seen : lower(a.name).localeCompare(lower(b.name));
}

export function agentRows(agents, webhooks) {
  const healthByName = new Map(webhooks.map((h) => [lower(h.agent), h]));
  return [...agents].sort(agentOrder).map((agent) => {
    const health = webhookHealth(agent, healthByName);
    const capabilities = Array.isArray(agent.capabilities) ? agent.capabilities : [];
    return el(
      "tr",
      { class: "agent-row", "data-agent": agent.name },
      el("td", { class: "col-dot" }, el("span", { class: `dot ${agent.online ? "online" : "offline"}`, title: agent.online ? "online" : "offline", "aria-label": agent.online ? "online" : "offline", role: "img" })),
      el(
        "td",
        { class: "agent-cell" },
        el("span", { class: "agent-name" }, agent.name),
        agent.owner ? el("div", { class: "agent-owner dim" }, "owner ", el("span", { class: "owner" }, agent.owner)) : null,
        capabilities.length || agent.publicKey
          ? el(
              "div",
              { class: "caps" },
              agent.publicKey ? el("span", { class: "tag e2e", title: "has an encryption key: can receive end-to-end encrypted messages" }, "e2e") : null,
              capabilities.map((cap) => el("span", { class: "tag cap" }, String(cap))),
            )
          : null,
      ),
      el("td", { class: "last-seen", title: agent.lastSeen ?? "never seen" }, relativeTime(agent.lastSeen)),
      el("td", { class: `health ${health.tone}`, title: health.detail }, health.label),
    );
  });
}

/**
 * One feed line: time, from → to, topic, type, delivery state; then a lock (encrypted) or the
 * preview (plaintext).
 * A copy of a broadcast reads `from → broadcast (to)`: the feed has one line per recipient.
 */
export function feedEntry(item) {
  const body = item.encrypted
    ? el("div", { class: "feed-body encrypted" }, lockIcon(), el("span", { class: "dim" }, ` encrypted · ${bytes(item.bytes)}`))
    : el(
        "div",
        { class: "feed-body plaintext" },
        el("span", { class: "preview" }, typeof item.preview === "string" ? item.preview : ""),
        el("span", { class: "dim size" }, ` · ${bytes(item.bytes)}`),
      );
  return el(
    "li",
    { class: "feed-item", "data-id": item.id },
    el(
      "div",
      { class: "feed-head" },
      el("time", { class: "ts dim", datetime: item.ts, title: item.ts }, clockTime(item.ts)),
      el("span", { class: "from" }, item.from),
      el("span", { class: "arrow dim" }, " → "),
      item.broadcast === true
        ? el(
            "span",
            { class: "broadcast-to" },
            el("span", { class: "broadcast", title: "a broadcast: one copy per agent" }, "broadcast"),
            el("span", { class: "dim" }, " ("),
            el("span", { class: "to" }, item.to),
            el("span", { class: "dim" }, ")"),
          )
        : el("span", { class: "to" }, item.to),
      item.topic ? el("span", { class: "topic" }, `#${item.topic}`) : null,
      el(
        "span",
        { class: "feed-tags" },
        el("span", { class: `type type-${item.type === "request" || item.type === "response" ? item.type : "notification"}` }, String(item.type)),
        feedState(item),
      ),
    ),
    body,
  );
}

const COPY_STATES = new Set(["stored", "delivered", "acked", "expired"]);

/**
 * A feed item's delivery state (SPEC §11.1): "stored", "delivered via poll", "acked", "expired",
 * as the recipient's inbox last pushed it; nothing from a relay that does not send states.
 */
export function feedState(item) {
  if (!COPY_STATES.has(item.status)) return null;
  const via = typeof item.via === "string" ? item.via : null;
  const at = typeof item.statusAt === "string" ? ` at ${clockTime(item.statusAt)}` : "";
  let detail = `${item.status}${at}`;
  if (item.status === "stored") detail = "stored, not delivered yet";
  else if (item.status !== "delivered") detail += via ? ` (delivered via ${via})` : " (never delivered)";
  return el("span", { class: `state state-${item.status}`, title: detail }, item.status === "delivered" && via ? `delivered via ${via}` : item.status);
}

/**
 * The agents holding messages they have not been handed yet (stats.backlog), oldest first, with
 * how long the oldest has waited (`now`: the relay's time of the answer, so the page's clock does
 * not matter); highlighted once that is over `lateMs`.
 */
export function backlogRows(backlog, now, lateMs) {
  return [...backlog]
    .filter((row) => row && typeof row.agent === "string" && typeof row.oldestUndeliveredTs === "string")
    .sort((a, b) => Date.parse(a.oldestUndeliveredTs) - Date.parse(b.oldestUndeliveredTs))
    .map((row) => {
      const waited = now - Date.parse(row.oldestUndeliveredTs);
      return el(
        "li",
        { class: `backlog-row${waited > lateMs ? " late" : ""}`, "data-agent": row.agent },
        el("span", { class: "agent-name" }, row.agent),
        el(
          "span",
          { class: "backlog-age", title: `oldest undelivered message stored at ${clockTime(row.oldestUndeliveredTs)}; reported ${relativeTime(row.reportedAt, now)}` },
          age(waited),
        ),
      );
    });
}

const OUTCOME_TONES = new Set(["delivered", "retrying", "failed", "disabled", "test"]);

/**
 * One attempt as two log lines: time, agent, attempt number and outcome; then the HTTP status,
 * the latency and the error (when it says more than the status).
 */
export function webhookRows(attempts) {
  return attempts.map((a) => {
    const tone = OUTCOME_TONES.has(a.outcome) ? a.outcome : "unknown";
    const answered = typeof a.status === "number";
    const error = typeof a.error === "string" && a.error !== `HTTP ${a.status}` ? a.error : null;
    return el(
      "li",
      { class: "attempt-row" },
      el(
        "div",
        { class: "attempt-head" },
        el("time", { class: "ts dim", datetime: a.at, title: a.at }, clockTime(a.at)),
        el("span", { class: "agent-name" }, a.agent),
        a.attempt > 1 ? el("span", { class: "attempt-no dim", title: "attempt number" }, `#${a.attempt}`) : null,
        el("span", { class: `outcome ${tone}` }, String(a.outcome)),
      ),
      el(
        "div",
        { class: "attempt-body" },
        el("span", { class: "dim" }, "http "),
        el("span", { class: `http-status ${answered && a.status >= 200 && a.status < 300 ? "ok" : "bad"}` }, answered ? String(a.status) : "none"),
        el("span", { class: "dim" }, " · "),
        el("span", { class: "latency" }, milliseconds(a.latencyMs)),
        error ? el("span", { class: "dim" }, " · ") : null,
        error ? el("span", { class: "error-detail" }, error) : null,
      ),
    );
  });
}

export function channelRows(channels) {
  return channels.map((ch) =>
    el(
      "tr",
      { class: "channel-row" },
      el("td", { class: "topic" }, `#${ch.topic}`),
      el("td", { class: "num" }, count(ch.count)),
      el("td", { class: "dim", title: ch.lastTs }, relativeTime(ch.lastTs)),
    ),
  );
}

/** A table row saying there is nothing to show yet. */
export function emptyRow(columns, text) {
  return el("tr", { class: "empty" }, el("td", { colspan: columns, class: "dim" }, text));
}

/** A list line saying there is nothing to show yet. */
export function emptyLine(text) {
  return el("li", { class: "empty dim" }, text);
}
