// protocol/limits.ts: every limit of SPEC §8 with its default, each overridable by the
// environment variable the spec names; a value that is not usable falls back to the default.

import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { LIMIT_VARIABLES, readLimits, type Limits } from "../../../protocol/limits.js";

/** The SPEC §8 table: [limit, default, variable]. */
const SPEC_TABLE: [keyof Limits, number | boolean, string][] = [
  ["maxBodyBytes", 64 * 1024, "MAX_BODY_BYTES"],
  ["defaultTtlS", 30 * 86400, "DEFAULT_TTL_S"],
  ["minTtlS", 60, "MIN_TTL_S"],
  ["maxTtlS", 90 * 86400, "MAX_TTL_S"],
  ["pageDefault", 50, "PAGE_DEFAULT"],
  ["pageMax", 100, "PAGE_MAX"],
  ["longpollMaxS", 30, "LONGPOLL_MAX_S"],
  ["multicastMax", 100, "MULTICAST_MAX"],
  ["rateLimitPerMin", 30, "RATE_LIMIT_PER_MIN"],
  ["broadcastPerHour", 10, "BROADCAST_PER_HOUR"],
  ["inboxMax", 10_000, "INBOX_MAX"],
  ["webhookTimeoutMs", 10_000, "WEBHOOK_TIMEOUT_MS"],
  ["webhookRetryHorizonS", 86400, "WEBHOOK_RETRY_HORIZON_S"],
  ["onlineThresholdS", 300, "ONLINE_THRESHOLD_S"],
  ["presencePushS", 60, "PRESENCE_PUSH_S"],
  ["auditPerMin", 60, "AUDIT_PER_MIN"],
  ["auditMaxEntries", 100_000, "AUDIT_MAX_ENTRIES"],
  ["allowPrivateWebhooks", false, "ALLOW_PRIVATE_WEBHOOKS"],
];

const NUMERIC_ROWS = SPEC_TABLE.filter((row): row is [keyof Limits, number, string] => typeof row[1] === "number");

describe("readLimits defaults", () => {
  it.each(SPEC_TABLE)("%s defaults to %s (SPEC §8)", (key, fallback) => {
    expect(readLimits({})[key]).toBe(fallback);
  });

  it("has the other defaults the spec states: audit page max 200, 60 s rate window, an hour for broadcasts, CORS *", () => {
    const limits = readLimits({});
    expect(limits.auditPageMax).toBe(200);
    expect(limits.rateWindowS).toBe(60);
    expect(limits.broadcastWindowS).toBe(3600);
    expect(limits.corsOrigin).toBe("*");
  });

  it("lists every §8 variable in LIMIT_VARIABLES", () => {
    for (const [, , variable] of SPEC_TABLE) expect(LIMIT_VARIABLES).toContain(variable);
  });

  it("ignores unrelated environment entries", () => {
    expect(readLimits({ ADMIN_KEY: "k", SOMETHING_ELSE: "1", INBOX: {} })).toEqual(readLimits({}));
  });
});

describe("readLimits overrides", () => {
  it.each(NUMERIC_ROWS)("%s is read from %s (string or number)", (key, _fallback, variable) => {
    expect(readLimits({ [variable]: "7" })[key]).toBe(7);
    expect(readLimits({ [variable]: 12345 })[key]).toBe(12345);
    expect(readLimits({ [variable]: " 42 " })[key]).toBe(42);
  });

  it("reads the limits the test projects set, together", () => {
    const limits = readLimits({
      RATE_LIMIT_PER_MIN: "5",
      BROADCAST_PER_HOUR: "2",
      INBOX_MAX: "5",
      MIN_TTL_S: "1",
      PAGE_MAX: "10",
      PAGE_DEFAULT: "4",
      MULTICAST_MAX: "3",
      MAX_BODY_BYTES: "2048",
    });
    expect(limits).toMatchObject({
      rateLimitPerMin: 5,
      broadcastPerHour: 2,
      inboxMax: 5,
      minTtlS: 1,
      pageMax: 10,
      pageDefault: 4,
      multicastMax: 3,
      maxBodyBytes: 2048,
      // Untouched ones keep their defaults.
      maxTtlS: 90 * 86400,
      longpollMaxS: 30,
    });
  });

  it("makes the other durations configurable too (rate windows, webhook retries, feed flush)", () => {
    const limits = readLimits({ RATE_WINDOW_S: "2", BROADCAST_WINDOW_S: "10", WEBHOOK_RETRY_BASE_MS: "50", FEED_FLUSH_MS: "100" });
    expect(limits).toMatchObject({ rateWindowS: 2, broadcastWindowS: 10, webhookRetryBaseMs: 50, feedFlushMs: 100 });
  });

  it.each([
    ["true", true],
    ["1", true],
    [true, true],
    ["false", false],
    ["0", false],
    [false, false],
  ])("reads ALLOW_PRIVATE_WEBHOOKS=%j as %s", (raw, value) => {
    expect(readLimits({ ALLOW_PRIVATE_WEBHOOKS: raw }).allowPrivateWebhooks).toBe(value);
  });

  it("reads AUDIT_PUBLIC_KEY and AUDIT_REQUIRE_SEALED (SPEC §13); both are passed on by npm start", () => {
    const key = btoa(String.fromCharCode(...new Uint8Array(32).fill(9)));
    expect(readLimits({})).toMatchObject({ auditPublicKey: null, auditRequireSealed: false, auditPageBytes: 1024 * 1024, auditWindowS: 60 });
    expect(readLimits({ AUDIT_PUBLIC_KEY: ` ${key} ` })).toMatchObject({ auditPublicKey: key, auditRequireSealed: false });
    expect(readLimits({ AUDIT_PUBLIC_KEY: key, AUDIT_REQUIRE_SEALED: "true" })).toMatchObject({ auditPublicKey: key, auditRequireSealed: true });
    expect(LIMIT_VARIABLES).toEqual(expect.arrayContaining(["AUDIT_PUBLIC_KEY", "AUDIT_REQUIRE_SEALED", "AUDIT_PAGE_BYTES", "AUDIT_WINDOW_S"]));
  });

  it("reads the shard counts and the feed's push budget (issue 16), sized for 100,000 active agents by default", () => {
    expect(readLimits({})).toMatchObject({ feedShards: 8, presenceShards: 8, auditShards: 16, feedPushBudget: 250, feedFlushMaxMs: 60_000 });
    expect(readLimits({ FEED_SHARDS: "3", PRESENCE_SHARDS: "1", AUDIT_SHARDS: "256", FEED_PUSH_BUDGET: "20", FEED_FLUSH_MAX_MS: "5000" })).toMatchObject({
      feedShards: 3,
      presenceShards: 1,
      auditShards: 256,
      feedPushBudget: 20,
      feedFlushMaxMs: 5000,
    });
    expect(LIMIT_VARIABLES).toEqual(expect.arrayContaining(["FEED_SHARDS", "PRESENCE_SHARDS", "AUDIT_SHARDS", "FEED_PUSH_BUDGET", "FEED_FLUSH_MAX_MS"]));
  });

  it("reads CORS_ORIGIN", () => {
    expect(readLimits({ CORS_ORIGIN: "https://app.example.com" }).corsOrigin).toBe("https://app.example.com");
    expect(readLimits({ CORS_ORIGIN: "" }).corsOrigin).toBe("*");
  });
});

describe("readLimits with bad values", () => {
  // readLimits warns once per bad variable; keep the test output quiet.
  beforeEach(() => {
    vi.spyOn(console, "warn").mockImplementation(() => undefined);
  });
  afterEach(() => {
    vi.restoreAllMocks();
  });

  const BAD_NUMBERS: unknown[] = ["", "abc", "12abc", "-1", "0", "-0", "NaN", "Infinity", "-Infinity", Number.NaN, Number.POSITIVE_INFINITY, -5, 0, null, true, {}, []];

  it.each(NUMERIC_ROWS)("%s falls back to its default %s for unusable %s values", (key, fallback, variable) => {
    for (const raw of BAD_NUMBERS) {
      expect(readLimits({ [variable]: raw })[key], `${variable}=${JSON.stringify(raw)}`).toBe(fallback);
    }
  });

  it.each(["FEED_SHARDS", "PRESENCE_SHARDS", "AUDIT_SHARDS"])("falls back to the default for a %s that is not a whole number from 1 to 256", (variable) => {
    const fallback = readLimits({});
    for (const raw of ["1.5", "257", "0", "2e3"]) {
      expect(readLimits({ [variable]: raw }), `${variable}=${raw}`).toEqual(fallback);
    }
  });

  it("keeps one bad variable from affecting the others", () => {
    const limits = readLimits({ INBOX_MAX: "lots", PAGE_MAX: "20" });
    expect(limits.inboxMax).toBe(10_000);
    expect(limits.pageMax).toBe(20);
  });

  it.each(["yes", "TRUE ", "on", "2", ""])("keeps ALLOW_PRIVATE_WEBHOOKS at false for %j", (raw) => {
    expect(readLimits({ ALLOW_PRIVATE_WEBHOOKS: raw }).allowPrivateWebhooks).toBe(false);
  });

  it("ignores an AUDIT_PUBLIC_KEY that is not 32 bytes of base64, refusing unsealed entries rather than accepting plaintext, and never logs it", () => {
    const warn = vi.spyOn(console, "warn").mockImplementation(() => undefined);
    const bad = ["not base64!", btoa("too short"), btoa("x".repeat(33))];
    for (const raw of bad) expect(readLimits({ AUDIT_PUBLIC_KEY: raw }), raw).toMatchObject({ auditPublicKey: null, auditRequireSealed: true });
    const lines = warn.mock.calls.map((args) => args.map(String).join(" "));
    expect(lines.some((line) => line.includes("AUDIT_PUBLIC_KEY"))).toBe(true);
    for (const raw of bad) for (const line of lines) expect(line).not.toContain(raw);
  });

  it("falls back to * for a CORS_ORIGIN that is not a string", () => {
    expect(readLimits({ CORS_ORIGIN: 42 }).corsOrigin).toBe("*");
  });
});
