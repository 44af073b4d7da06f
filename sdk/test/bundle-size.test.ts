import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { build } from "esbuild";
import { describe, expect, it } from "vitest";

const SDK = fileURLToPath(new URL("..", import.meta.url));
/**
 * Issue 7: the producer entry bundles to "at most 8 KB min+gzip". 8,000 bytes, 8 KB read as
 * decimal, so the bound holds whichever way KB is read (8 KiB is 8,192). The limit had drifted to
 * 8 KiB + 384 as features came in (the capped answer read, RFC 3339 checks of the Timestamp
 * attributes: 8,525 bytes); the bundle was brought back under it without dropping any of them.
 */
const LIMIT_BYTES = 8_000;

/** Bundles `contents` (imports from the SDK's source) as a user's bundler would, for any runtime. */
async function bundle(contents: string) {
  const result = await build({
    stdin: { contents, resolveDir: SDK, loader: "ts" },
    bundle: true,
    minify: true,
    format: "esm",
    // neutral: no Node built-ins are provided, so importing one fails the build.
    platform: "neutral",
    mainFields: ["module", "main"],
    target: "es2022",
    write: false,
    metafile: true,
    logLevel: "silent",
  });
  const code = result.outputFiles[0]!.contents;
  return {
    code: new TextDecoder().decode(code),
    gzip: gzipSync(code, { level: 9 }).byteLength,
    // Modules that put bytes in the output (the metafile lists everything parsed, shaken or not).
    inputs: Object.values(result.metafile.outputs).flatMap((o) =>
      Object.entries(o.inputs)
        .filter(([, i]) => i.bytesInOutput > 0)
        .map(([name]) => name),
    ),
  };
}

describe("bundle size", () => {
  it(`createProducer alone is at most ${LIMIT_BYTES} bytes min+gzip, with no Node built-ins`, async () => {
    const { code, gzip, inputs } = await bundle(
      'import { createProducer } from "./src/index.ts"; globalThis.createProducer = createProducer;',
    );
    console.info(`createProducer bundle: ${code.length} bytes minified, ${gzip} bytes gzip`);
    expect(gzip).toBeLessThanOrEqual(LIMIT_BYTES);
    expect(code).not.toMatch(/["']node:/);
    // Tree-shaking leaves jose (tokens) and the receive side out.
    expect(inputs.filter((i) => i.includes("jose") || i.includes("receive"))).toEqual([]);
    // The optional OpenTelemetry import stays a run-time import, tolerated when absent.
    expect(code).toContain("@opentelemetry/api");
  });

  it("the receive entry bundles without Node built-ins too", async () => {
    const { code, gzip } = await bundle(
      'export { receive, receiveBatch, heraldReceiver } from "./src/receive/index.ts";',
    );
    console.info(`receive bundle: ${code.length} bytes minified, ${gzip} bytes gzip`);
    expect(code).not.toMatch(/["']node:/);
    expect(code).not.toMatch(/from\s*["']hono["']/);
  });
});
