// The relay's admin API as the dashboard uses it. Every call carries the admin key as a Bearer
// header (never in a URL). Failures become a RelayCallError that says what went wrong in words the
// dashboard can show as they are.

export class RelayCallError extends Error {
  /**
   * @param {string} message a sentence for the operator
   * @param {number | null} status the HTTP status, or null when no answer came
   * @param {string | null} code the relay's error code (SPEC §9), when it sent one
   */
  constructor(message, status, code) {
    super(message);
    this.name = "RelayCallError";
    this.status = status;
    this.code = code;
  }

  /** The key is wrong or not the admin's: signing in again is the only fix. */
  get refusesKey() {
    return this.status === 401 || this.status === 403;
  }
}

/** Removes trailing slashes so paths can be appended; throws on anything but http(s). */
export function normalizeRelayUrl(text) {
  const url = new URL(text.trim());
  if (url.protocol !== "http:" && url.protocol !== "https:") throw new Error("The relay URL must start with http:// or https://.");
  return `${url.origin}${url.pathname.replace(/\/+$/, "")}`;
}

export class RelayClient {
  /**
   * @param {string} baseUrl normalized relay URL (no trailing slash)
   * @param {string} adminKey
   */
  constructor(baseUrl, adminKey) {
    this.baseUrl = baseUrl;
    this.adminKey = adminKey;
  }

  /** GET a JSON document. `signal` aborts it (the feed's long-poll is aborted when the tab hides). */
  async get(path, signal) {
    let response;
    try {
      response = await fetch(`${this.baseUrl}${path}`, {
        headers: { Authorization: `Bearer ${this.adminKey}` },
        cache: "no-store",
        credentials: "omit",
        referrerPolicy: "no-referrer",
        signal,
      });
    } catch (error) {
      if (signal?.aborted) throw error;
      throw new RelayCallError(`Cannot reach the relay at ${this.baseUrl} (network error or blocked by the page's security policy).`, null, null);
    }
    if (!response.ok) throw await callError(response);
    try {
      return await response.json();
    } catch (error) {
      if (signal?.aborted) throw error;
      throw new RelayCallError(`The relay at ${this.baseUrl} answered ${response.status} with something that is not JSON. Is this a ClawTalk relay?`, response.status, null);
    }
  }

  agents(signal) {
    return this.get("/agents", signal);
  }

  /** The newest `limit` feed items, newest first. */
  latestMessages(limit, signal) {
    return this.get(`/messages?limit=${limit}`, signal);
  }

  /**
   * Feed items that reached the feed after `afterSeq` (the opaque `lastSeq` of an earlier answer),
   * in arrival order; held up to `waitS` seconds while there are none. (By arrival, not ts: an
   * inbox's batch may come after a newer item of another inbox, and a ts cursor would skip it.)
   */
  messagesAfter(afterSeq, waitS, limit, signal) {
    const after = afterSeq === null ? "" : `&afterSeq=${encodeURIComponent(afterSeq)}`;
    return this.get(`/messages?limit=${limit}&wait=${waitS}${after}`, signal);
  }

  deliveries(limit, signal) {
    return this.get(`/webhooks/deliveries?limit=${limit}`, signal);
  }

  channels(signal) {
    return this.get("/channels?detail=true", signal);
  }

  stats(minutes, signal) {
    return this.get(`/admin/stats?minutes=${minutes}`, signal);
  }

  /** One page of the audit log, newest first: {entries, cursor, hasMore}. Empty filters are left out. */
  audit(filters, signal) {
    const params = new URLSearchParams();
    for (const [name, value] of Object.entries(filters)) if (value !== undefined && value !== null && value !== "") params.set(name, String(value));
    return this.get(`/audit?${params}`, signal);
  }
}

/** Turns an error response into a sentence: the relay's own message (SPEC §9 JSON) when there is one. */
async function callError(response) {
  let detail = "";
  let code = null;
  try {
    const body = await response.json();
    if (body && typeof body.error === "string") detail = body.error;
    if (body && typeof body.code === "string") code = body.code;
  } catch {
    // not JSON: the status says enough
  }
  if (response.status === 401) return new RelayCallError(`Admin key refused (401)${detail ? `: ${detail}` : "."}`, 401, code);
  if (response.status === 403) return new RelayCallError(`That key is not the admin key (403)${detail ? `: ${detail}` : "."}`, 403, code);
  if (response.status === 404 && code === null) {
    return new RelayCallError(`The relay answered 404 with no ClawTalk error: is the URL a ClawTalk relay?`, 404, code);
  }
  return new RelayCallError(`The relay answered ${response.status}${detail ? `: ${detail}` : "."}`, response.status, code);
}
