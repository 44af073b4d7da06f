import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { expect, it } from "vitest";

// Runs the built bin (`npm run build` in conformance/ first), as a user's shell does.
const BIN = fileURLToPath(new URL("../bin/herald-conformance.js", import.meta.url));

it("stops quietly with 141 when the reader of its output goes away (| head)", async () => {
  // Port 1: every request is refused at once, so the run prints a line per case straight away.
  const child = spawn(process.execPath, [BIN, "--url", "http://127.0.0.1:1", "--no-data"], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  child.stdout.destroy(); // the reader is gone before the first line
  let stderr = "";
  child.stderr.on("data", (chunk) => {
    stderr += chunk;
  });
  const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
  expect(stderr).toBe("");
  expect(code).toBe(141);
});
