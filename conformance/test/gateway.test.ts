import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createGateway, parseConfig } from "@herald/gateway";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEFAULT_PUBLISHER_SUB } from "../src/auth/conformance-auth.js";
import { conformanceConfig, conformanceConfigYaml } from "../src/config/conformance-config.js";
import { formatReport } from "../src/report.js";
import { runConformance } from "../src/run-conformance.js";
import { type SinkServer, startSink } from "../src/sink/sink-server.js";
import { startHerald } from "./herald-process.js";
import { createTestIssuer } from "./test-issuer.js";

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
      const names = report.results.map((r) => r.name);
      for (const group of ["trace: ", "delivery: ", "herald: on-success: ", "herald: "]) {
        expect(names.some((n) => n.startsWith(group))).toBe(true);
      }
    } finally {
      await gw.stop();
    }
  });

  it("passes the publisher-policy cases under a rule that limits sources and types", async () => {
    const issuer = await createTestIssuer();
    const config = conformanceConfig(sink.url, { auth: issuer });
    const limited = {
      ...config,
      auth: {
        ...config.auth,
        publishers: [
          {
            claims: { sub: DEFAULT_PUBLISHER_SUB },
            sources: ["/herald/conformance/*"],
            types: ["dev.herald.conformance.*"],
          },
        ],
      },
    };
    const gw = createGateway({ config: parseConfig(JSON.stringify(limited), "limited.json") });
    gw.start();
    try {
      const report = await runConformance(
        { fetch: (r) => gw.fetch(r) },
        {
          sink,
          dataDir: null,
          auth: {
            token: await issuer.mint(DEFAULT_PUBLISHER_SUB),
            outsideRule: { type: "dev.example.outside" },
          },
          only: (name) => name.startsWith("auth: "),
        },
      );
      expect(report.failed, formatReport(report)).toBe(0);
      expect(report.results.map((r) => r.name)).toContain(
        "auth: an event outside the publisher's rule -> 403 naming the attribute",
      );
    } finally {
      await gw.stop();
    }
  });

  it("passes the Subscriptions API cases with auth on, the publisher's token admin too", async () => {
    const issuer = await createTestIssuer();
    const gw = createGateway({
      config: parseConfig(conformanceConfigYaml(sink.url, { auth: issuer }), "auth.yaml"),
    });
    gw.start();
    try {
      const report = await runConformance(
        { fetch: (r) => gw.fetch(r) },
        {
          sink,
          dataDir: null,
          token: await issuer.mint(DEFAULT_PUBLISHER_SUB),
          only: (name) => name.startsWith("subscriptions-api: "),
        },
      );
      expect(report.failed, formatReport(report)).toBe(0);
      const names = report.results.map((r) => r.name);
      expect(names).toContain(
        "subscriptions-api: no token -> 401 with a Bearer challenge, nothing created",
      );
      expect(names.some((n) => n.includes("403"))).toBe(false);
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

  it("passes every case with --no-auth and exits 0 on SIGTERM", { timeout: 120_000 }, async () => {
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

  it("passes every case, the auth cases among them, with publisher auth on", {
    timeout: 120_000,
  }, async () => {
    const issuer = await createTestIssuer();
    // Same iss and kid, another key: its tokens must be refused.
    const stranger = await createTestIssuer(issuer.issuer, issuer.audience);
    const config = join(dir, "conformance-auth.yaml");
    const adminSub = `${DEFAULT_PUBLISHER_SUB}-admin`;
    await writeFile(config, conformanceConfigYaml(sink.url, { auth: { ...issuer, adminSub } }));
    const herald = await startHerald(config, { noAuth: false });
    let exitCode: number | null;
    try {
      const report = await runConformance(
        { url: herald.url },
        {
          sink,
          auth: {
            token: await issuer.mint(DEFAULT_PUBLISHER_SUB),
            adminToken: await issuer.mint(adminSub),
            foreignToken: await stranger.mint(DEFAULT_PUBLISHER_SUB),
          },
        },
      );
      expect(report.failed, formatReport(report)).toBe(0);
      const auth = report.results.filter((r) => r.name.startsWith("auth: "));
      expect(auth.map((r) => r.name)).toEqual(
        expect.arrayContaining([
          "auth: no token -> 401 with a Bearer challenge, nothing delivered (binary)",
          'auth: a token the target must refuse (foreignToken) -> 401 error="invalid_token"',
          "auth: the token in the access_token query parameter is accepted",
        ]),
      );
      expect(report.results.map((r) => r.name)).toEqual(
        expect.arrayContaining([
          "subscriptions-api: a publisher's token without an admin rule -> 403, nothing created",
          "herald: metrics: GET /metrics without a token -> 401 with a Bearer challenge",
          "herald: metrics: GET /metrics with a publisher's token without an admin rule -> 403",
        ]),
      );
    } finally {
      exitCode = await herald.stop();
    }
    expect(exitCode).toBe(0);
  });
});
