import { context, createContextKey, trace } from "@opentelemetry/api";
import { afterEach, describe, expect, it, vi } from "vitest";
import { startOtlpCollector } from "../../../test/support/otlp-collector.js";
import type { Logger } from "../../ports/logger.js";
import { readOtelSettings, startedFields, telemetryRequested } from "./otel-env.js";
import { startTelemetry } from "./start-telemetry.js";

function recordingLogger() {
  const lines: { level: string; msg: string; fields?: Record<string, unknown> }[] = [];
  const at = (level: string) => (msg: string, fields?: Record<string, unknown>) =>
    lines.push({ level, msg, ...(fields === undefined ? {} : { fields }) });
  const logger: Logger = {
    debug: at("debug"),
    info: at("info"),
    warn: at("warn"),
    error: at("error"),
  };
  return { logger, lines };
}

describe("telemetryRequested", () => {
  it.each([
    [{}, false],
    [{ OTEL_SERVICE_NAME: "x", OTEL_TRACES_SAMPLER: "always_on" }, false],
    [{ OTEL_EXPORTER_OTLP_ENDPOINT: "" }, false],
    [{ OTEL_EXPORTER_OTLP_ENDPOINT: "http://127.0.0.1:4318" }, true],
    [{ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: "http://c/v1/traces" }, true],
    [{ OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: "http://c/v1/metrics" }, true],
    [{ OTEL_TRACES_EXPORTER: "console" }, true],
    [{ OTEL_METRICS_EXPORTER: "otlp" }, true],
    [{ OTEL_TRACES_EXPORTER: "none" }, false],
    [{ OTEL_TRACES_EXPORTER: "none", OTEL_METRICS_EXPORTER: "none" }, false],
    [{ OTEL_TRACES_EXPORTER: "none", OTEL_METRICS_EXPORTER: "otlp" }, true],
    [{ OTEL_SDK_DISABLED: "true", OTEL_EXPORTER_OTLP_ENDPOINT: "http://c" }, false],
    [{ OTEL_SDK_DISABLED: "TRUE", OTEL_TRACES_EXPORTER: "otlp" }, false],
    [{ OTEL_SDK_DISABLED: "false", OTEL_TRACES_EXPORTER: "otlp" }, true],
  ])("%j -> %s", (env, expected) => {
    expect(telemetryRequested(env)).toBe(expected);
  });
});

describe("readOtelSettings", () => {
  it("defaults: OTLP over http/protobuf, the spec's batch settings, W3C Trace Context", () => {
    expect(readOtelSettings({})).toEqual({
      traceExporters: ["otlp"],
      metricExporters: ["otlp"],
      protocol: "http/protobuf",
      metricsProtocol: "http/protobuf",
      defaultServiceName: "herald",
      batch: {
        maxQueueSize: 2048,
        maxExportBatchSize: 512,
        scheduledDelayMillis: 5000,
        exportTimeoutMillis: 30_000,
      },
      attributeValueLengthLimit: 1024,
      diagLevel: "warn",
      envOverrides: {},
      warnings: [],
    });
  });

  it("reads exporters, the protocol (traces' own first) and OTEL_BSP_*", () => {
    const settings = readOtelSettings({
      OTEL_TRACES_EXPORTER: "otlp, Console",
      OTEL_METRICS_EXPORTER: "console,OTLP",
      OTEL_EXPORTER_OTLP_PROTOCOL: "grpc",
      OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: "http/json",
      OTEL_BSP_MAX_QUEUE_SIZE: "100",
      OTEL_BSP_MAX_EXPORT_BATCH_SIZE: "512",
      OTEL_BSP_SCHEDULE_DELAY: "0",
      OTEL_BSP_EXPORT_TIMEOUT: "2000",
      OTEL_LOG_LEVEL: "DEBUG",
    });
    expect(settings).toMatchObject({
      traceExporters: ["otlp", "console"],
      metricExporters: ["console", "otlp"],
      protocol: "http/json",
      // A batch never exceeds the queue.
      batch: {
        maxQueueSize: 100,
        maxExportBatchSize: 100,
        scheduledDelayMillis: 0,
        exportTimeoutMillis: 2000,
      },
      diagLevel: "debug",
      warnings: [],
    });
  });

  it("turns traces off with none, and names every value it did not understand", () => {
    expect(readOtelSettings({ OTEL_TRACES_EXPORTER: "none" }).traceExporters).toEqual([]);
    expect(readOtelSettings({ OTEL_METRICS_EXPORTER: "none" }).metricExporters).toEqual([]);
    const settings = readOtelSettings({
      OTEL_TRACES_EXPORTER: "zipkin,otlp",
      OTEL_METRICS_EXPORTER: "console,prometheus,statsd",
      OTEL_EXPORTER_OTLP_PROTOCOL: "http/xml",
      OTEL_BSP_MAX_QUEUE_SIZE: "-1",
      OTEL_BSP_SCHEDULE_DELAY: "soon",
      OTEL_LOG_LEVEL: "loud",
    });
    expect(settings.traceExporters).toEqual(["otlp"]);
    expect(settings.metricExporters).toEqual(["console"]);
    expect(settings.protocol).toBe("http/protobuf");
    expect(settings.batch.maxQueueSize).toBe(2048);
    expect(settings.batch.scheduledDelayMillis).toBe(5000);
    expect(settings.diagLevel).toBe("warn");
    expect(settings.warnings).toEqual([
      expect.stringMatching(/^OTEL_TRACES_EXPORTER: "zipkin" is not supported/),
      expect.stringMatching(/^OTEL_METRICS_EXPORTER: "prometheus" is not supported.*GET \/metrics/),
      expect.stringMatching(/^OTEL_METRICS_EXPORTER: "statsd" is not supported/),
      expect.stringMatching(/^OTEL_EXPORTER_OTLP_PROTOCOL: "http\/xml" is not supported/),
      expect.stringMatching(/^OTEL_BSP_MAX_QUEUE_SIZE: "-1" is not an integer >= 1; using 2048/),
      expect.stringMatching(/^OTEL_BSP_SCHEDULE_DELAY: "soon" is not an integer >= 0; using 5000/),
      expect.stringMatching(/^OTEL_LOG_LEVEL: "loud" is not a level/),
    ]);
  });

  it("caps millisecond values at the longest Node timer: a longer one would fire after 1 ms", () => {
    const huge = "99999999999";
    const settings = readOtelSettings({
      OTEL_BSP_SCHEDULE_DELAY: huge,
      OTEL_BSP_EXPORT_TIMEOUT: huge,
      OTEL_EXPORTER_OTLP_TIMEOUT: huge,
      OTEL_EXPORTER_OTLP_TRACES_TIMEOUT: "2147483647",
      OTEL_METRIC_EXPORT_INTERVAL: huge,
    });
    expect(settings.batch.scheduledDelayMillis).toBe(2_147_483_647);
    expect(settings.batch.exportTimeoutMillis).toBe(2_147_483_647);
    // The SDK reads these itself: it gets the capped value.
    expect(settings.envOverrides).toEqual({
      OTEL_EXPORTER_OTLP_TIMEOUT: "2147483647",
      OTEL_METRIC_EXPORT_INTERVAL: "2147483647",
    });
    expect(settings.warnings).toEqual([
      expect.stringMatching(/^OTEL_BSP_SCHEDULE_DELAY: "99999999999" ms is longer than a timer/),
      expect.stringMatching(/^OTEL_BSP_EXPORT_TIMEOUT: "99999999999" ms is longer than a timer/),
      expect.stringMatching(/^OTEL_EXPORTER_OTLP_TIMEOUT: "99999999999" ms is longer than a timer/),
      expect.stringMatching(/^OTEL_METRIC_EXPORT_INTERVAL: "99999999999" ms is longer than a/),
    ]);
  });
});

describe("readOtelSettings on protocols", () => {
  it("reads each signal's protocol from its own variable, else the general one", () => {
    const both = readOtelSettings({ OTEL_EXPORTER_OTLP_PROTOCOL: "http/json" });
    expect([both.protocol, both.metricsProtocol]).toEqual(["http/json", "http/json"]);
    const split = readOtelSettings({
      OTEL_EXPORTER_OTLP_PROTOCOL: "http/json",
      OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: "grpc",
      OTEL_EXPORTER_OTLP_METRICS_PROTOCOL: "http/protobuf",
    });
    expect([split.protocol, split.metricsProtocol]).toEqual(["grpc", "http/protobuf"]);
    expect(split.warnings).toEqual([]);
  });

  it("names the variable an unsupported protocol came from", () => {
    expect(readOtelSettings({ OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: "http/xml" }).warnings).toEqual([
      'OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: "http/xml" is not supported (http/protobuf, http/json, grpc); using http/protobuf',
    ]);
  });

  it("says in the start line the protocol of each signal that goes out over OTLP", () => {
    expect(
      startedFields(
        readOtelSettings({
          OTEL_TRACES_EXPORTER: "otlp,console",
          OTEL_EXPORTER_OTLP_PROTOCOL: "http/json",
          OTEL_EXPORTER_OTLP_METRICS_PROTOCOL: "grpc",
        }),
      ),
    ).toEqual({
      traces: "otlp,console",
      tracesProtocol: "http/json",
      metrics: "otlp",
      metricsProtocol: "grpc",
    });
    expect(
      startedFields(
        readOtelSettings({ OTEL_TRACES_EXPORTER: "none", OTEL_METRICS_EXPORTER: "console" }),
      ),
    ).toEqual({ traces: "none", metrics: "console" });
  });
});

describe("readOtelSettings on headers and resource attributes", () => {
  it("gives the exporters each headers variable without the entries they could not send", () => {
    const settings = readOtelSettings({
      OTEL_EXPORTER_OTLP_HEADERS: "api-key=k",
      OTEL_EXPORTER_OTLP_TRACES_HEADERS: "Authorization: Bearer t0ken=x,x-team=a",
      OTEL_EXPORTER_OTLP_METRICS_HEADERS: "Authorization: Bearer t0ken=x",
      OTEL_RESOURCE_ATTRIBUTES: "team=a,b",
    });
    expect(settings.envOverrides).toEqual({
      OTEL_EXPORTER_OTLP_TRACES_HEADERS: "x-team=a",
      OTEL_EXPORTER_OTLP_METRICS_HEADERS: undefined,
    });
    expect(settings.warnings).toEqual([
      expect.stringMatching(/^OTEL_EXPORTER_OTLP_TRACES_HEADERS: entry 1 has a name that is not/),
      expect.stringMatching(/^OTEL_EXPORTER_OTLP_METRICS_HEADERS: entry 1 has a name that is not/),
      expect.stringMatching(/^OTEL_RESOURCE_ATTRIBUTES: entry 2 is not key=value/),
    ]);
    expect(settings.warnings.join()).not.toContain("t0ken");
  });
});

describe("readOtelSettings on endpoints", () => {
  it("warns once about an endpoint the OTLP/HTTP exporters cannot send to", () => {
    const settings = readOtelSettings({
      OTEL_EXPORTER_OTLP_ENDPOINT: "localhost:4318",
      OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: "not a url",
      OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: "ftp://collector/v1/metrics",
    });
    expect(settings.warnings).toEqual([
      'OTEL_EXPORTER_OTLP_ENDPOINT: "localhost:4318" is not an http:// or https:// URL; every export to it fails',
      'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: "not a url" is not a URL; the exporters send to their default, localhost',
      'OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: "ftp://collector/v1/metrics" is not an http:// or https:// URL; every export to it fails',
    ]);
  });

  it("never shows a credential of the endpoint it warns about", () => {
    const settings = readOtelSettings({
      OTEL_EXPORTER_OTLP_ENDPOINT: "user:s3cret-pw@collector:4318",
      OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: "ftp://user:s3cret-pw@collector/v1/traces?api_key=k3y",
      OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: "collector metrics?api_key=k3y",
    });
    expect(settings.warnings).toEqual([
      'OTEL_EXPORTER_OTLP_ENDPOINT: "***@collector:4318" is not an http:// or https:// URL; every export to it fails',
      'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: "ftp://***@collector/v1/traces?***" is not an http:// or https:// URL; every export to it fails',
      'OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: "collector metrics?***" is not a URL; the exporters send to their default, localhost',
    ]);
  });

  it("takes http(s) URLs, and host:port for gRPC", () => {
    expect(
      readOtelSettings({
        OTEL_EXPORTER_OTLP_ENDPOINT: "https://collector.example:4318/base",
        OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: "http://127.0.0.1:4318/v1/traces",
      }).warnings,
    ).toEqual([]);
    expect(
      readOtelSettings({
        OTEL_EXPORTER_OTLP_PROTOCOL: "grpc",
        OTEL_EXPORTER_OTLP_ENDPOINT: "collector:4317",
      }).warnings,
    ).toEqual([]);
  });
});

describe("startTelemetry", () => {
  afterEach(() => {
    vi.unstubAllEnvs();
  });

  it("is off, and logs nothing, when nothing asks for it or OTEL_SDK_DISABLED=true", async () => {
    const { logger, lines } = recordingLogger();
    expect(await startTelemetry({}, { logger })).toBeUndefined();
    expect(
      await startTelemetry(
        { OTEL_SDK_DISABLED: "true", OTEL_EXPORTER_OTLP_ENDPOINT: "http://127.0.0.1:1" },
        { logger },
      ),
    ).toBeUndefined();
    expect(lines).toEqual([]);
  });

  it("keeps no async context, and stops within its shutdown timeout when the collector never answers", async () => {
    const collector = await startOtlpCollector({ hang: true });
    try {
      // The SDK's exporters read the process environment.
      vi.stubEnv("OTEL_EXPORTER_OTLP_ENDPOINT", collector.url);
      vi.stubEnv("OTEL_BSP_SCHEDULE_DELAY", "1");
      vi.stubEnv("OTEL_METRICS_EXPORTER", "none");
      const { logger, lines } = recordingLogger();
      const telemetry = await startTelemetry(process.env, { logger, shutdownTimeoutMs: 200 });
      expect(telemetry).toBeDefined();
      trace.getTracer("test").startSpan("stuck").end();
      // A synchronous context manager: context.with works within the call, and nothing follows
      // an await (no async hooks, which would cost every promise in the process).
      const key = createContextKey("herald.test");
      const active = context.active().setValue(key, "set");
      expect(context.with(active, () => context.active().getValue(key))).toBe("set");
      const afterAwait = await context.with(active, async () => {
        await Promise.resolve();
        return context.active().getValue(key);
      });
      expect(afterAwait).toBeUndefined();
      // The export is in flight at the collector, which holds it.
      await collector.until(() => collector.requests.length > 0);

      const started = performance.now();
      await telemetry!.shutdown();
      // 200 ms, not the exporter's 10 s timeout (room left for a busy test machine).
      expect(performance.now() - started).toBeLessThan(3_000);
      expect(lines.filter((l) => l.level === "warn")).toEqual([
        {
          level: "warn",
          msg: "telemetry flush timed out; unexported spans and metrics are lost",
          fields: { timeoutMs: 200 },
        },
      ]);
    } finally {
      await collector.close();
    }
  });
});
