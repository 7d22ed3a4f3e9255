import { availableParallelism } from "node:os";
import { cloudflareTest } from "@cloudflare/vitest-pool-workers";
import { defineConfig } from "vitest/config";
import { TEST_AUDIT_PUBLIC_KEY } from "./test/support/audit-keys.js";

export const TEST_ADMIN_KEY = "test-admin-key-0123456789";

/** A workers project: tests run inside workerd, against the real Worker and Durable Objects. */
function workersProject(name: string, include: string, vars: Record<string, string>, globalSetup?: string) {
  return {
    plugins: [
      cloudflareTest({
        wrangler: { configPath: "./wrangler.toml" },
        miniflare: { bindings: { ADMIN_KEY: TEST_ADMIN_KEY, ALLOW_PRIVATE_WEBHOOKS: "true", ...vars } },
      }),
    ],
    test: { name, include: [include], testTimeout: 30_000, ...(globalSetup ? { globalSetup: [globalSetup] } : {}) },
  };
}

export default defineConfig({
  test: {
    // One test file per core. vitest's own default in a run is one fewer than the cores, which on
    // this 2-core machine ran the 84 files one after another (851 s, most of it waiting: a workerd
    // or a relay starting, a long-poll). 1.5x per core was tried before and lost a request to a
    // `wrangler dev` restarting mid-request in one of two runs, so no more than the cores.
    maxWorkers: availableParallelism(),
    projects: [
      // The spec's limits, with the send and audit rates raised so concurrency tests are not throttled.
      workersProject("workers", "test/workers/**/*.test.ts", { RATE_LIMIT_PER_MIN: "100000", BROADCAST_PER_HOUR: "100000", AUDIT_PER_MIN: "100000" }),
      // Small limits, so enforcement (rate, quota, expiry) is tested in seconds.
      workersProject("limits", "test/limits/**/*.test.ts", {
        RATE_LIMIT_PER_MIN: "5",
        BROADCAST_PER_HOUR: "2",
        INBOX_MAX: "5",
        MIN_TTL_S: "1",
        PAGE_MAX: "10",
        PAGE_DEFAULT: "4",
        MULTICAST_MAX: "3",
        MAX_BODY_BYTES: "2048",
        AUDIT_PER_MIN: "4",
        AUDIT_MAX_ENTRIES: "10",
        AUDIT_PAGE_BYTES: "3000",
        MAX_REPLY_DEPTH: "3",
        // One audit shard, so AUDIT_MAX_ENTRIES is the whole log's here (test/shards tests the split).
        AUDIT_SHARDS: "1",
        // The production setting, so webhook URL checks are tested as deployed.
        ALLOW_PRIVATE_WEBHOOKS: "false",
      }),
      // A relay that seals audit entries to the operator's key and refuses plaintext ones (SPEC §13).
      workersProject("audit-sealed", "test/audit-sealed/**/*.test.ts", {
        RATE_LIMIT_PER_MIN: "100000",
        AUDIT_PUBLIC_KEY: TEST_AUDIT_PUBLIC_KEY,
        AUDIT_REQUIRE_SEALED: "true",
      }),
      // Broadcasts reach every agent of the relay under test, so they get a relay of their own.
      workersProject("broadcast", "test/broadcast/**/*.test.ts", { RATE_LIMIT_PER_MIN: "100000", BROADCAST_PER_HOUR: "2" }),
      // Webhooks against a real receiver on 127.0.0.1 (globalSetup), with retries in milliseconds.
      workersProject(
        "delivery",
        "test/delivery/**/*.test.ts",
        {
          RATE_LIMIT_PER_MIN: "100000",
          WEBHOOK_RETRY_BASE_MS: "100",
          WEBHOOK_RETRY_MAX_MS: "400",
          WEBHOOK_RETRY_HORIZON_S: "5",
          WEBHOOK_TIMEOUT_MS: "1000",
          FEED_FLUSH_MS: "200",
          LONGPOLL_MAX_S: "5",
          WEBHOOK_SECRET_OVERLAP_S: "2",
        },
        "./test/support/receiver-setup.ts",
      ),
      // Views spread over a few shards each (not the defaults, so a fresh deployment with other
      // counts is tested too), pushing quickly: merged views, cursors, presence, the audit quota split.
      workersProject("shards", "test/shards/**/*.test.ts", {
        RATE_LIMIT_PER_MIN: "100000",
        AUDIT_PER_MIN: "100000",
        FEED_SHARDS: "3",
        PRESENCE_SHARDS: "3",
        AUDIT_SHARDS: "3",
        AUDIT_MAX_ENTRIES: "31",
        FEED_FLUSH_MS: "100",
        // A small push budget, so a few busy inboxes stretch their shard's interval (at most 3 s).
        FEED_PUSH_BUDGET: "10",
        FEED_FLUSH_MAX_MS: "3000",
        PRESENCE_PUSH_S: "2",
      }),
      // Node-side tests against a real `wrangler dev` process (crash recovery, clients, browser).
      {
        test: {
          name: "node",
          include: ["test/node/**/*.test.ts"],
          environment: "node",
          testTimeout: 120_000,
          hookTimeout: 120_000,
          // The CLI built once, as published, for the CLI tests' many runs.
          globalSetup: ["./test/support/built-cli-setup.ts"],
        },
      },
      // The dashboard in Debian's Chromium (playwright-core) against a real `wrangler dev`.
      { test: { name: "browser", include: ["test/browser/**/*.test.ts"], environment: "node", testTimeout: 120_000, hookTimeout: 120_000 } },
    ],
  },
});
