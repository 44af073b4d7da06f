import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createGateway, parseConfig } from "@herald/gateway";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { conformanceConfigYaml } from "../src/config/conformance-config.js";
import { formatReport } from "../src/report.js";
import { runConformance } from "../src/run-conformance.js";
import { type SinkServer, startSink } from "../src/sink/sink-server.js";
import { startHerald } from "./herald-process.js";

describe("conformance against the in-process gateway", () => {
  let sink: SinkServer;
  beforeAll(async () => {
    sink = await startSink();
  });
  afterAll(() => sink.close());

  it("passes every case", { timeout: 120_000 }, async () => {
    const gw = createGateway({
      config: parseConfig(conformanceConfigYaml(sink.url), "conformance.yaml"),
    });
    gw.start();
    try {
      const report = await runConformance({ fetch: (r) => gw.fetch(r) }, { sink });
      expect(report.failed, formatReport(report)).toBe(0);
    } finally {
      await gw.stop();
    }
  });
});

describe("conformance against a real `herald serve` process", () => {
  let sink: SinkServer;
  let dir: string;
  beforeAll(async () => {
    sink = await startSink();
    dir = await mkdtemp(join(tmpdir(), "herald-conformance-"));
  });
  afterAll(async () => {
    await sink.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("passes every case and exits 0 on SIGTERM", { timeout: 120_000 }, async () => {
    const config = join(dir, "conformance.yaml");
    await writeFile(config, conformanceConfigYaml(sink.url));
    const herald = await startHerald(config);
    let exitCode: number | null;
    try {
      const report = await runConformance({ url: herald.url }, { sink });
      expect(report.failed, formatReport(report)).toBe(0);
    } finally {
      exitCode = await herald.stop();
    }
    expect(exitCode).toBe(0);
  });
});
