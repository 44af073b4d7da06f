import { cloudflareTest } from "@cloudflare/vitest-pool-workers";
import { defineConfig } from "vitest/config";

// No calls to Cloudflare from a test run (the machines reach only the npm registry).
process.env.CLOUDFLARE_CF_FETCH_ENABLED = "false";
process.env.WRANGLER_SEND_METRICS = "false";

/**
 * The producer inside workerd (the Workers runtime, via @cloudflare/vitest-pool-workers), sending
 * to a real `herald serve` that test-workers/global-setup.ts starts on 127.0.0.1.
 */
export default defineConfig({
  plugins: [
    cloudflareTest({
      miniflare: { compatibilityDate: "2026-04-01", compatibilityFlags: [] },
    }),
  ],
  test: {
    include: ["test-workers/**/*.test.ts"],
    globalSetup: ["test-workers/global-setup.ts"],
    testTimeout: 20_000,
  },
});
