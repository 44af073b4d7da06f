import { execFile } from "node:child_process";
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { expect, it } from "vitest";

const rootDir = resolve(fileURLToPath(new URL("../../..", import.meta.url)));

// README: `npm run dev:workers -- --var HERALD_DEMO_SINK:...` from the repository root. The root
// script runs the gateway's through `npm run -w`, and without its own `--` npm takes the
// arguments as npm options ("Unknown cli config --var") and wrangler never sees them. `--help`
// shows they arrive without starting a server.
it("npm run dev:workers at the repository root hands its arguments to wrangler dev", {
  timeout: 60_000,
}, async () => {
  const { stdout } = await promisify(execFile)(
    "npm",
    ["run", "dev:workers", "--silent", "--", "--help"],
    {
      cwd: rootDir,
      env: { ...process.env, CLOUDFLARE_CF_FETCH_ENABLED: "false", WRANGLER_SEND_METRICS: "false" },
    },
  );
  expect(stdout).toContain("wrangler dev [script]");
  expect(stdout).toContain("--var");
});
