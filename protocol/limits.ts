// Every limit and duration of the relay, with the spec's defaults, each overridable by the
// environment variable of the same name (SPEC §8). Read once per isolate or object.

import { SEALED_KEY_BYTES } from "./audit.js";
import { base64ByteLength } from "./base64.js";

export interface Limits {
  maxBodyBytes: number;
  defaultTtlS: number;
  minTtlS: number;
  maxTtlS: number;
  pageDefault: number;
  pageMax: number;
  auditPageMax: number;
  longpollMaxS: number;
  multicastMax: number;
  rateLimitPerMin: number;
  rateWindowS: number;
  broadcastPerHour: number;
  broadcastWindowS: number;
  inboxMax: number;
  webhookTimeoutMs: number;
  webhookRetryHorizonS: number;
  webhookRetryBaseMs: number;
  webhookRetryMaxMs: number;
  webhookSecretOverlapS: number;
  onlineThresholdS: number;
  presencePushS: number;
  feedFlushMs: number;
  /** The longest an inbox waits between feed pushes when its shard is busy (push-slots.ts). */
  feedFlushMaxMs: number;
  feedBatchMax: number;
  /** Feed pushes per second a feed shard hands out slots for. */
  feedPushBudget: number;
  feedShards: number;
  presenceShards: number;
  auditShards: number;
  auditRetentionS: number;
  auditPerMin: number;
  maxReplyDepth: number;
  auditWindowS: number;
  auditMaxEntries: number;
  auditPageBytes: number;
  fanoutBatch: number;
  allowPrivateWebhooks: boolean;
  corsOrigin: string;
  /** The operator's X25519 public key (base64) that audit payloads are sealed to; null when unset. */
  auditPublicKey: string | null;
  /** Refuse audit entries that are not sealed. */
  auditRequireSealed: boolean;
}

type NumericLimit = { [K in keyof Limits]: Limits[K] extends number ? K : never }[keyof Limits];

const NUMERIC: Record<NumericLimit, [variable: string, fallback: number]> = {
  maxBodyBytes: ["MAX_BODY_BYTES", 64 * 1024],
  defaultTtlS: ["DEFAULT_TTL_S", 30 * 86400],
  minTtlS: ["MIN_TTL_S", 60],
  maxTtlS: ["MAX_TTL_S", 90 * 86400],
  pageDefault: ["PAGE_DEFAULT", 50],
  pageMax: ["PAGE_MAX", 100],
  auditPageMax: ["AUDIT_PAGE_MAX", 200],
  longpollMaxS: ["LONGPOLL_MAX_S", 30],
  multicastMax: ["MULTICAST_MAX", 100],
  rateLimitPerMin: ["RATE_LIMIT_PER_MIN", 30],
  rateWindowS: ["RATE_WINDOW_S", 60],
  broadcastPerHour: ["BROADCAST_PER_HOUR", 10],
  broadcastWindowS: ["BROADCAST_WINDOW_S", 3600],
  inboxMax: ["INBOX_MAX", 10_000],
  webhookTimeoutMs: ["WEBHOOK_TIMEOUT_MS", 10_000],
  webhookRetryHorizonS: ["WEBHOOK_RETRY_HORIZON_S", 86400],
  webhookRetryBaseMs: ["WEBHOOK_RETRY_BASE_MS", 2_000],
  webhookRetryMaxMs: ["WEBHOOK_RETRY_MAX_MS", 3600_000],
  webhookSecretOverlapS: ["WEBHOOK_SECRET_OVERLAP_S", 86400],
  onlineThresholdS: ["ONLINE_THRESHOLD_S", 300],
  presencePushS: ["PRESENCE_PUSH_S", 60],
  feedFlushMs: ["FEED_FLUSH_MS", 2_000],
  feedFlushMaxMs: ["FEED_FLUSH_MAX_MS", 60_000],
  feedBatchMax: ["FEED_BATCH_MAX", 100],
  feedPushBudget: ["FEED_PUSH_BUDGET", 250],
  // Sized by the load model in README "Performance": at 100,000 active agents each shard takes
  // about 210 requests/s (feed and presence: agents / 60 s / 8; audit, if every agent audits every
  // message it sends and receives: 2 x agents / 60 s / 16).
  feedShards: ["FEED_SHARDS", 8],
  presenceShards: ["PRESENCE_SHARDS", 8],
  auditShards: ["AUDIT_SHARDS", 16],
  auditRetentionS: ["AUDIT_RETENTION_S", 30 * 86400],
  auditPerMin: ["AUDIT_PER_MIN", 60],
  maxReplyDepth: ["MAX_REPLY_DEPTH", 32],
  auditWindowS: ["AUDIT_WINDOW_S", 60],
  auditMaxEntries: ["AUDIT_MAX_ENTRIES", 100_000],
  auditPageBytes: ["AUDIT_PAGE_BYTES", 1024 * 1024],
  fanoutBatch: ["FANOUT_BATCH", 40],
};

/** Counts of objects: whole numbers, at most this many (a reader asks every shard). */
const SHARD_LIMITS = new Set<NumericLimit>(["feedShards", "presenceShards", "auditShards"]);
const MAX_SHARDS = 256;

const warned = new Set<string>();

function warnOnce(variable: string, raw: unknown, fallback: number | boolean): void {
  if (warned.has(variable)) return;
  warned.add(variable);
  console.warn(`clawtalk: ignoring ${variable}=${JSON.stringify(raw)}; using ${fallback}`);
}

function readNumber(env: Record<string, unknown>, variable: string, fallback: number, whole = false): number {
  const raw = env[variable];
  if (raw === undefined || raw === null || raw === "") return fallback;
  const value = typeof raw === "number" ? raw : Number(String(raw).trim());
  const valid = whole ? Number.isInteger(value) && value <= MAX_SHARDS : Number.isFinite(value);
  if (valid && value > 0) return value;
  warnOnce(variable, raw, fallback);
  return fallback;
}

function readBoolean(env: Record<string, unknown>, variable: string, fallback: boolean): boolean {
  const raw = env[variable];
  if (raw === undefined || raw === null || raw === "") return fallback;
  if (raw === true || raw === "true" || raw === "1") return true;
  if (raw === false || raw === "false" || raw === "0") return false;
  warnOnce(variable, raw, fallback);
  return fallback;
}

/** Limits from an environment object (Worker `env`, or `process.env` in tools). */
export function readLimits(env: object): Limits {
  const vars = env as Record<string, unknown>;
  const numbers = Object.fromEntries(
    Object.entries(NUMERIC).map(([key, [variable, fallback]]) => [key, readNumber(vars, variable, fallback, SHARD_LIMITS.has(key as NumericLimit))]),
  ) as Record<NumericLimit, number>;
  const origin = vars.CORS_ORIGIN;
  const auditKey = readAuditKey(vars);
  return {
    ...numbers,
    allowPrivateWebhooks: readBoolean(vars, "ALLOW_PRIVATE_WEBHOOKS", false),
    corsOrigin: typeof origin === "string" && origin !== "" ? origin : "*",
    auditPublicKey: auditKey === "invalid" ? null : auditKey,
    // A key that is set but unusable must not turn a sealed audit into a plaintext one: plaintext is refused.
    auditRequireSealed: readBoolean(vars, "AUDIT_REQUIRE_SEALED", false) || auditKey === "invalid",
  };
}

/** AUDIT_PUBLIC_KEY: 32 bytes of standard base64, or unset. */
function readAuditKey(env: Record<string, unknown>): string | null | "invalid" {
  const raw = env.AUDIT_PUBLIC_KEY;
  if (raw === undefined || raw === null || raw === "") return null;
  const key = String(raw).trim();
  if (base64ByteLength(key) === SEALED_KEY_BYTES) return key;
  // Not echoed: an operator who pasted the wrong thing may have pasted a secret.
  if (!warned.has("AUDIT_PUBLIC_KEY")) console.warn("clawtalk: AUDIT_PUBLIC_KEY is not 32 bytes of standard base64; unsealed audit entries are refused");
  warned.add("AUDIT_PUBLIC_KEY");
  return "invalid";
}

/** The environment variable behind each limit and setting, for docs and the start script. */
export const LIMIT_VARIABLES: readonly string[] = [
  ...Object.values(NUMERIC).map(([variable]) => variable),
  "ALLOW_PRIVATE_WEBHOOKS",
  "CORS_ORIGIN",
  "AUDIT_PUBLIC_KEY",
  "AUDIT_REQUIRE_SEALED",
];
