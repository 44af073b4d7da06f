import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { builtinModules } from "node:module";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { gzipSync } from "node:zlib";
import { expect, it } from "vitest";

const gatewayDir = resolve(fileURLToPath(new URL("../..", import.meta.url)));
const wranglerBin = resolve(gatewayDir, "../node_modules/wrangler/bin/wrangler.js");

/** Sizes the bundle may grow to before someone looks at why (measured: 885 KiB, 211 KiB gzip). */
const MAX_BYTES = 1_200_000;
const MAX_GZIP_BYTES = 260_000;

it("the Worker bundle (wrangler's own build) imports no Node built-in and stays small", {
  timeout: 60_000,
}, async () => {
  const out = await mkdtemp(join(tmpdir(), "herald-bundle-"));
  try {
    await promisify(execFile)(
      process.execPath,
      [wranglerBin, "deploy", "--dry-run", "--outdir", out],
      {
        cwd: gatewayDir,
        env: {
          ...process.env,
          CLOUDFLARE_CF_FETCH_ENABLED: "false",
          WRANGLER_SEND_METRICS: "false",
        },
      },
    );
    const code = await readFile(join(out, "worker.js"), "utf8");
    const names = builtinModules.filter((name) => !name.startsWith("_"));
    const nodeImports = [
      ...code.matchAll(/(?:\bfrom\s*|\bimport\s*\(?\s*|\brequire\s*\(\s*)["']([^"']+)["']/g),
    ]
      .map((m) => m[1]!)
      .filter((spec) => spec.startsWith("node:") || names.includes(spec));
    expect(nodeImports).toStrictEqual([]);
    expect(code.length).toBeLessThan(MAX_BYTES);
    expect(gzipSync(code).length).toBeLessThan(MAX_GZIP_BYTES);
  } finally {
    await rm(out, { recursive: true, force: true });
  }
});
