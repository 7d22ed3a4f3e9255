import { cloudflareTest } from "@cloudflare/vitest-pool-workers";
import { defineConfig } from "vitest/config";

export const TEST_ADMIN_KEY = "test-admin-key-0123456789";

/** A workers project: tests run inside workerd, against the real Worker and Durable Objects. */
function workersProject(name: string, include: string, vars: Record<string, string>) {
  return {
    plugins: [
      cloudflareTest({
        wrangler: { configPath: "./wrangler.toml" },
        miniflare: { bindings: { ADMIN_KEY: TEST_ADMIN_KEY, ALLOW_PRIVATE_WEBHOOKS: "true", ...vars } },
      }),
    ],
    test: { name, include: [include], testTimeout: 30_000 },
  };
}

export default defineConfig({
  test: {
    projects: [
      // The spec's limits, with the send rate raised so concurrency tests are not throttled.
      workersProject("workers", "test/workers/**/*.test.ts", { RATE_LIMIT_PER_MIN: "100000", BROADCAST_PER_HOUR: "100000" }),
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
      }),
      // Node-side tests against a real `wrangler dev` process (crash recovery, clients, browser).
      { test: { name: "node", include: ["test/node/**/*.test.ts"], environment: "node", testTimeout: 120_000, hookTimeout: 120_000 } },
    ],
  },
});
