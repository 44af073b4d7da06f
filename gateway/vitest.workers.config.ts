import { cloudflareTest } from "@cloudflare/vitest-pool-workers";
import { defineConfig } from "vitest/config";

// Nothing in a test run reaches for Cloudflare (the machines reach only the npm registry).
process.env.CLOUDFLARE_CF_FETCH_ENABLED = "false";
process.env.WRANGLER_SEND_METRICS = "false";

/**
 * The Workers adapter inside workerd (@cloudflare/vitest-pool-workers): a real D1 database and a
 * real Queue producer (simulated by Miniflare); tests hand `queue()` message batches themselves
 * (`createMessageBatch`), so retries and their delays are asserted without waiting for them.
 * The same bindings as `wrangler.toml`, without a consumer.
 */
export default defineConfig({
  plugins: [
    cloudflareTest({
      miniflare: {
        compatibilityDate: "2026-04-01",
        compatibilityFlags: [],
        d1Databases: ["HERALD_DB"],
        queueProducers: { HERALD_DELIVERIES: { queueName: "herald-test-deliveries" } },
      },
    }),
  ],
  test: {
    include: ["test-workers/**/*.workerd.test.ts"],
    globalSetup: ["test-workers/global-setup.ts"],
    testTimeout: 20_000,
  },
});
