import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { freePort } from "../../../test/support/free-port.js";
import { type OtlpCollector, startOtlpCollector } from "../../../test/support/otlp-collector.js";
import { type RecordingSink, startRecordingSink } from "../../../test/support/recording-sink.js";

// The built CLI, as users run it (turbo builds before testing), configured only through OTEL_*.
const HERALD = fileURLToPath(new URL("../../../bin/herald.js", import.meta.url));
const TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736";
const PARENT_ID = "00f067aa0ba902b7";
const SPAN_KIND_SERVER = 2;
const SPAN_KIND_CLIENT = 3;

interface Herald {
  readonly child: ChildProcess;
  readonly url: string;
  readonly stdout: string[];
  readonly stderr: () => string;
  /** SIGTERM, then the exit code and how long the process took to exit. */
  stop(): Promise<{ code: number | null; ms: number }>;
}

let dir: string;
let sink: RecordingSink;
const children: ChildProcess[] = [];
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "herald-otel-"));
  sink = await startRecordingSink();
  await writeFile(
    join(dir, "herald.yaml"),
    [
      "store: { kind: memory }",
      "subscriptions:",
      "  - id: traced",
      `    sink: ${sink.url}/traced`,
    ].join("\n"),
  );
});
afterAll(async () => {
  await sink.close();
  await rm(dir, { recursive: true, force: true });
});
afterEach(() => {
  // A failed assertion must not leave a gateway running.
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill("SIGKILL");
});

/** The test runner's environment without any OTEL_* variable, plus `env`. */
function environment(env: Record<string, string>): NodeJS.ProcessEnv {
  const clean = Object.fromEntries(
    Object.entries(process.env).filter(([name]) => !name.startsWith("OTEL_")),
  );
  return { ...clean, HERALD_LOG_LEVEL: "info", ...env };
}

function startHerald(env: Record<string, string>): Promise<Herald> {
  const child = spawn(
    process.execPath,
    [HERALD, "serve", "--config", "herald.yaml", "--no-auth", "--port", "0"],
    { cwd: dir, env: environment(env), stdio: ["ignore", "pipe", "pipe"] },
  );
  children.push(child);
  const stdout: string[] = [];
  let stderr = "";
  child.stderr!.setEncoding("utf8").on("data", (text: string) => {
    stderr += text;
  });
  // "close", not "exit": the exit can come before the last of stderr has been read.
  const exited = new Promise<number | null>((done) => child.once("close", (code) => done(code)));
  return new Promise((resolve, reject) => {
    child.once("exit", (code) => reject(new Error(`herald exited early with ${code}: ${stderr}`)));
    createInterface({ input: child.stdout! }).on("line", (line) => {
      stdout.push(line);
      const m = /^herald listening on (http:\/\/\S+)$/.exec(line);
      if (!m) return;
      resolve({
        child,
        url: m[1]!,
        stdout,
        stderr: () => stderr,
        async stop() {
          const started = performance.now();
          child.kill("SIGTERM");
          const code = await exited;
          return { code, ms: performance.now() - started };
        },
      });
    });
  });
}

let published = 0;
/** Posts one binary-mode event with a W3C `traceparent`; resolves with the status and id. */
async function publish(
  url: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; id: string; ms: number }> {
  const id = `otel-${++published}`;
  const started = performance.now();
  const res = await fetch(`${url}/events`, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      "ce-specversion": "1.0",
      "ce-id": id,
      "ce-source": "/otel-test",
      "ce-type": "com.example.traced",
      traceparent: `00-${TRACE_ID}-${PARENT_ID}-01`,
      ...headers,
    },
    body: JSON.stringify({ n: published }),
  });
  await res.arrayBuffer();
  return { status: res.status, id, ms: performance.now() - started };
}

/** Publishes one event (see `publish`): answered 202; resolves with its id once the sink has it. */
async function publishDelivered(url: string): Promise<string> {
  const { status, id } = await publish(url);
  expect(status).toBe(202);
  await deliveredAll([id]);
  return id;
}

const deliveredIds = () => new Set(sink.received.map((r) => String(r.headers["ce-id"])));
/** Resolves once the sink has every id; each arrival wakes the check, the test's timeout bounds it. */
async function deliveredAll(ids: readonly string[]): Promise<void> {
  while (!ids.every((id) => deliveredIds().has(id))) await sink.waitFor(sink.received.length + 1);
}

let collector: OtlpCollector;
afterEach(async () => {
  await collector?.close();
});

describe("herald serve exporting OTLP, configured only through OTEL_* variables", () => {
  for (const protocol of ["http/json", "http/protobuf"] as const) {
    it(`sends the ingest and delivery spans of the producer's trace (${protocol})`, async () => {
      collector = await startOtlpCollector();
      const herald = await startHerald({
        OTEL_EXPORTER_OTLP_ENDPOINT: collector.url,
        OTEL_EXPORTER_OTLP_PROTOCOL: protocol,
        OTEL_SERVICE_NAME: "herald-otel-test",
        OTEL_BSP_SCHEDULE_DELAY: "20",
        // The SDK's diagnostics at their loudest: they must reach the log, never stdout.
        OTEL_LOG_LEVEL: "debug",
      });
      const id = await publishDelivered(herald.url);
      const inTrace = () => collector.spans.filter((s) => s.traceId === TRACE_ID);
      await collector.until(() =>
        ["POST /events", "deliver traced"].every((name) => inTrace().some((s) => s.name === name)),
      );

      const ingest = inTrace().find((s) => s.name === "POST /events")!;
      expect(ingest.kind).toBe(SPAN_KIND_SERVER);
      expect(ingest.parentSpanId).toBe(PARENT_ID);
      const deliver = inTrace().find((s) => s.name === "deliver traced")!;
      expect(deliver.kind).toBe(SPAN_KIND_CLIENT);
      expect(deliver.attributes["cloudevents.event_id"]).toBe(id);
      for (const span of [ingest, deliver]) {
        expect(span.resource["service.name"]).toBe("herald-otel-test");
      }
      expect(collector.requests.find((r) => r.path === "/v1/traces")?.contentType).toMatch(
        protocol === "http/json" ? /^application\/json/ : /^application\/x-protobuf/,
      );
      // The sink sees the delivery span's own context: same trace, that span's id.
      const received = sink.received.find((r) => r.headers["ce-id"] === id)!;
      expect(received.headers.traceparent).toBe(`00-${TRACE_ID}-${deliver.spanId}-01`);

      const { code } = await herald.stop();
      expect(code).toBe(0);
      // stdout carries the listening line and nothing else (no SDK or diag output).
      expect(herald.stdout).toEqual([`herald listening on ${herald.url}`]);
    });
  }

  it("prints console-exported spans to stderr: stdout keeps its one line", async () => {
    collector = await startOtlpCollector();
    const herald = await startHerald({
      OTEL_TRACES_EXPORTER: "console",
      OTEL_METRICS_EXPORTER: "none",
    });
    await publishDelivered(herald.url);
    const { code } = await herald.stop();
    expect(code).toBe(0);
    expect(herald.stderr()).toContain(`traceId: '${TRACE_ID}'`);
    expect(herald.stderr()).toContain("name: 'deliver traced'");
    expect(herald.stdout).toEqual([`herald listening on ${herald.url}`]);
  });

  it("flushes spans and metrics on SIGTERM: nothing was exported before the stop", async () => {
    collector = await startOtlpCollector();
    const herald = await startHerald({
      OTEL_EXPORTER_OTLP_ENDPOINT: collector.url,
      // Nothing leaves on a timer during the test: only the shutdown flush can send them.
      OTEL_BSP_SCHEDULE_DELAY: "600000",
      OTEL_METRIC_EXPORT_INTERVAL: "600000",
    });
    await publishDelivered(herald.url);
    expect(collector.requests).toEqual([]);

    const { code } = await herald.stop();
    expect(code).toBe(0);
    const names = collector.spans.filter((s) => s.traceId === TRACE_ID).map((s) => s.name);
    expect(names).toEqual(expect.arrayContaining(["POST /events", "deliver traced"]));
    expect(collector.spans[0]?.resource["service.name"]).toBe("herald");
    expect(collector.metricNames.has("herald.events.accepted")).toBe(true);
  });

  it("cuts span attribute values at 1024 characters unless OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT says otherwise", async () => {
    // A publisher's long subject is on every span of its event: uncut, the span queue held
    // 2048 times the event size limit while the collector was slow.
    const subject = "s".repeat(5000);
    const send = async (url: string) => {
      const { status, id } = await publish(url, { "ce-subject": subject });
      expect(status).toBe(202);
      await deliveredAll([id]);
      return id;
    };
    const subjectsOf = (id: string) =>
      collector.spans
        .filter((s) => s.attributes["cloudevents.event_id"] === id)
        .map((s) => String(s.attributes["cloudevents.event_subject"]).length);

    collector = await startOtlpCollector();
    let herald = await startHerald({ OTEL_EXPORTER_OTLP_ENDPOINT: collector.url });
    const first = await send(herald.url);
    expect((await herald.stop()).code).toBe(0);
    expect(subjectsOf(first)).toEqual([1024, 1024]);

    herald = await startHerald({
      OTEL_EXPORTER_OTLP_ENDPOINT: collector.url,
      OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT: "10",
    });
    const second = await send(herald.url);
    expect((await herald.stop()).code).toBe(0);
    expect(subjectsOf(second)).toEqual([10, 10]);
  });

  it("takes delays beyond Node's timer limit as the longest timer, not as 1 ms", async () => {
    collector = await startOtlpCollector();
    const huge = "99999999999";
    const herald = await startHerald({
      OTEL_EXPORTER_OTLP_ENDPOINT: collector.url,
      OTEL_BSP_SCHEDULE_DELAY: huge,
      OTEL_BSP_EXPORT_TIMEOUT: huge,
      OTEL_EXPORTER_OTLP_TIMEOUT: huge,
      OTEL_METRIC_EXPORT_INTERVAL: huge,
    });
    await publishDelivered(herald.url);

    const { code } = await herald.stop();
    expect(code).toBe(0);
    // Node turned each into a 1 ms timer, saying so in a line that is not JSON.
    expect(herald.stderr()).not.toContain("TimeoutOverflowWarning");
    expect(herald.stderr()).toContain('OTEL_BSP_SCHEDULE_DELAY: \\"99999999999\\" ms is longer');
    expect(herald.stderr()).not.toContain("opentelemetry: Timeout");
    const names = collector.spans.filter((s) => s.traceId === TRACE_ID).map((s) => s.name);
    expect(names).toEqual(expect.arrayContaining(["POST /events", "deliver traced"]));
  });

  it("accepts and delivers promptly while the collector hangs; drops are logged; SIGTERM exits within the flush timeout", async () => {
    collector = await startOtlpCollector({ hang: true });
    const herald = await startHerald({
      OTEL_EXPORTER_OTLP_ENDPOINT: collector.url,
      OTEL_BSP_SCHEDULE_DELAY: "10",
      OTEL_BSP_MAX_QUEUE_SIZE: "8",
      OTEL_BSP_MAX_EXPORT_BATCH_SIZE: "4",
    });
    const ids: string[] = [];
    for (let i = 0; i < 30; i++) {
      const { status, id, ms } = await publish(herald.url);
      expect(status).toBe(202);
      // Loopback ingest into memory takes about a millisecond; an ingest waiting on the stuck
      // export would take its 10 s timeout. The bound leaves room for a busy test machine.
      expect(ms).toBeLessThan(2_000);
      ids.push(id);
    }
    await deliveredAll(ids);
    // The exports were attempted and are stuck; the queue filled and spans were dropped.
    expect(collector.requests.some((r) => r.path === "/v1/traces")).toBe(true);
    expect(herald.stderr()).toMatch(/"msg":"trace export queue full: dropping spans/);
    // ... and counted in the gateway's metrics (open with --no-auth).
    const metrics = await (await fetch(`${herald.url}/metrics`)).text();
    const dropped = /^herald_telemetry_spans_dropped_total (\d+)$/m.exec(metrics);
    expect(Number(dropped?.[1])).toBeGreaterThan(0);

    const { code, ms } = await herald.stop();
    expect(code).toBe(0);
    // The flush waits at most 5 s for the stuck collector; then the process exits anyway.
    expect(ms).toBeLessThan(7_000);
    expect(herald.stderr()).toMatch(/"msg":"telemetry flush timed out/);
    expect(herald.stdout).toEqual([`herald listening on ${herald.url}`]);
  }, 20_000);
});

describe("herald serve refusing an exporter that would bypass the admin rule", () => {
  it("never opens the SDK's Prometheus port for OTEL_METRICS_EXPORTER=prometheus; it says why", async () => {
    // The SDK's Prometheus exporter serves every metric (subscription ids included) on a port
    // of its own, on every interface by default, without the admin token GET /metrics needs.
    const port = await freePort();
    collector = await startOtlpCollector();
    const herald = await startHerald({
      OTEL_METRICS_EXPORTER: "prometheus",
      OTEL_TRACES_EXPORTER: "none",
      OTEL_EXPORTER_PROMETHEUS_HOST: "127.0.0.1",
      OTEL_EXPORTER_PROMETHEUS_PORT: String(port),
    });
    await publishDelivered(herald.url);
    const answer = await fetch(`http://127.0.0.1:${port}/metrics`).then(
      (response) => response.status,
      (err: unknown) => (err as { cause?: { code?: string } }).cause?.code,
    );
    expect(answer).toBe("ECONNREFUSED");
    const { code } = await herald.stop();
    expect(code).toBe(0);
    expect(herald.stderr()).toMatch(
      /"msg":"telemetry: OTEL_METRICS_EXPORTER: \\"prometheus\\" is not supported[^"]*GET \/metrics/,
    );
  });
});

describe("herald serve logging export failures", () => {
  it("logs a refused export as one readable line: no stack trace, no install paths", async () => {
    collector = await startOtlpCollector({ status: 400 });
    const herald = await startHerald({
      OTEL_EXPORTER_OTLP_ENDPOINT: collector.url,
      OTEL_BSP_SCHEDULE_DELAY: "10",
      OTEL_METRIC_EXPORT_INTERVAL: "100",
    });
    await publishDelivered(herald.url);
    await collector.until(
      () =>
        collector.requests.some((r) => r.path === "/v1/traces") &&
        collector.requests.some((r) => r.path === "/v1/metrics"),
    );
    const { code } = await herald.stop();
    expect(code).toBe(0);
    const lines = herald
      .stderr()
      .split("\n")
      .filter((line) => line.includes('"msg":"opentelemetry: '))
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(lines).toContainEqual(
      expect.objectContaining({
        level: "warn",
        msg: "opentelemetry: OTLPExporterError: Bad Request",
        code: "400",
        detail: "refused by the test",
      }),
    );
    expect(lines).toContainEqual(
      expect.objectContaining({
        msg: expect.stringMatching(
          /^opentelemetry: PeriodicExportingMetricReader: metrics export failed/,
        ),
      }),
    );
    // The DESIGN's rule for logs: never a stack trace.
    expect(herald.stderr()).not.toMatch(/\bat .*node_modules|\\n\s+at |"stack"/);
  });
  it("masks the exporters' credentials a refusing collector quotes back", async () => {
    // A collector (or the proxy before it) that names the key it refused, as some vendors do.
    collector = await startOtlpCollector({
      status: 401,
      answer: (req) =>
        `unknown key ${String(req.headers.authorization)} ${String(req.headers["x-api-key"])} for ${req.url}`,
    });
    const herald = await startHerald({
      OTEL_EXPORTER_OTLP_ENDPOINT: collector.url,
      OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: `${collector.url}/v1/traces?key=q5ecr3tq`,
      OTEL_EXPORTER_OTLP_HEADERS: "authorization=Bearer%20t0ken-s3cret,x-api-key=k3y-s3cret",
      OTEL_BSP_SCHEDULE_DELAY: "10",
      OTEL_METRIC_EXPORT_INTERVAL: "100",
    });
    await publishDelivered(herald.url);
    await collector.until(
      () =>
        collector.requests.some((r) => r.path.startsWith("/v1/traces")) &&
        collector.requests.some((r) => r.path === "/v1/metrics"),
    );
    const { code } = await herald.stop();
    expect(code).toBe(0);
    const refusals = herald
      .stderr()
      .split("\n")
      .filter((line) => line.includes("OTLPExporterError"));
    expect(refusals.length).toBeGreaterThan(0);
    expect(refusals.join("\n")).toContain("unknown key *** ***");
    for (const secret of ["t0ken-s3cret", "k3y-s3cret", "q5ecr3tq"]) {
      expect(herald.stderr()).not.toContain(secret);
    }
  });
});

describe("herald serve with OTEL_* values the SDK would misread", () => {
  it("sends the well-formed headers, drops one Node would refuse and never logs its credential", async () => {
    collector = await startOtlpCollector();
    const herald = await startHerald({
      OTEL_EXPORTER_OTLP_ENDPOINT: collector.url,
      OTEL_BSP_SCHEDULE_DELAY: "10",
      OTEL_METRIC_EXPORT_INTERVAL: "100",
      // `name: value` where `name=value` belongs: its name would be "Authorization: Basic
      // c2VjcmV0LXB3", which Node refuses on every export, quoting it into the log.
      OTEL_EXPORTER_OTLP_HEADERS: "Authorization: Basic c2VjcmV0LXB3==,api-key=k3y",
      OTEL_RESOURCE_ATTRIBUTES: "deployment.environment=prod,team=a,b",
    });
    await publishDelivered(herald.url);
    await collector.until(
      () =>
        collector.spans.some((s) => s.name === "deliver traced") &&
        collector.requests.some((r) => r.path === "/v1/metrics"),
    );
    const { code } = await herald.stop();
    expect(code).toBe(0);
    for (const request of collector.requests) expect(request.headers["api-key"]).toBe("k3y");
    expect(herald.stderr()).toMatch(
      /"msg":"telemetry: OTEL_EXPORTER_OTLP_HEADERS: entry 1 has a name that is not an HTTP header name/,
    );
    expect(herald.stderr()).toMatch(
      /"msg":"telemetry: OTEL_RESOURCE_ATTRIBUTES: entry 3 is not key=value.*none of its attributes are set"/,
    );
    expect(herald.stderr()).not.toContain("c2VjcmV0LXB3");
    expect(herald.stderr()).not.toMatch(/ERR_INVALID_HTTP_TOKEN|export failed/);
  });
});

describe("herald serve without telemetry", () => {
  beforeEach(async () => {
    collector = await startOtlpCollector();
  });

  const cases: [string, (collectorUrl: string) => Record<string, string>][] = [
    ["no OTEL_* variable is set", () => ({})],
    [
      "OTEL_SDK_DISABLED=true (even with an endpoint)",
      (url) => ({ OTEL_SDK_DISABLED: "true", OTEL_EXPORTER_OTLP_ENDPOINT: url }),
    ],
  ];
  for (const [when, env] of cases) {
    it(`never loads an SDK module when ${when}`, async () => {
      // Node's module debug log names every CommonJS file it loads (the OpenTelemetry packages
      // are CommonJS): a real record of what the process loaded, not a log line of ours.
      const herald = await startHerald({ ...env(collector.url), NODE_DEBUG: "module" });
      await publishDelivered(herald.url);
      const { code } = await herald.stop();
      expect(code).toBe(0);

      const loaded = [
        ...herald.stderr().matchAll(/load "[^"]*node_modules\/(@opentelemetry\/[^/]+)\//g),
      ].map((m) => m[1]);
      // The API is there (the core's spans are its no-ops), which shows the record is complete.
      expect(loaded).toContain("@opentelemetry/api");
      expect(new Set(loaded)).toEqual(new Set(["@opentelemetry/api"]));
      expect(herald.stderr()).not.toMatch(/telemetry started/);
      expect(collector.requests).toEqual([]);
    });
  }
});
