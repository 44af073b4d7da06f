/**
 * What the standard `OTEL_*` variables ask of the Node process, read once at start
 * (OpenTelemetry "Environment Variable Specification"). Pure: nothing here loads the SDK, so
 * the gateway can decide that telemetry is off without paying for it.
 */

import { resourceAttributesProblem } from "./otel-resource-attributes.js";
import { checkOtlpHeaders } from "./otlp-headers.js";

/** The variables whose presence asks for the SDK; the rest only tune it. */
const ASKING = [
  "OTEL_TRACES_EXPORTER",
  "OTEL_METRICS_EXPORTER",
  "OTEL_EXPORTER_OTLP_ENDPOINT",
  "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
  "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT",
] as const;

export type TraceExporterName = "otlp" | "console";
export type MetricExporterName = "otlp" | "console";
export type OtlpProtocol = "http/protobuf" | "http/json" | "grpc";

export interface OtelSettings {
  /** Empty when `OTEL_TRACES_EXPORTER=none`: no tracer provider is registered. */
  readonly traceExporters: readonly TraceExporterName[];
  /**
   * Empty when `OTEL_METRICS_EXPORTER=none`: no meter provider is registered. Never
   * `prometheus`: `GET /metrics` serves that format, behind the admin rule.
   */
  readonly metricExporters: readonly MetricExporterName[];
  /** The OTLP protocol of traces (`OTEL_EXPORTER_OTLP_TRACES_PROTOCOL`, else the general one). */
  readonly protocol: OtlpProtocol;
  /**
   * The OTLP protocol of metrics (`OTEL_EXPORTER_OTLP_METRICS_PROTOCOL`, else the general one),
   * as the SDK's metric exporter reads it (it falls back to http/protobuf, with a warning of its
   * own, for a value it does not know).
   */
  readonly metricsProtocol: OtlpProtocol;
  /** `service.name` when neither `OTEL_SERVICE_NAME` nor `OTEL_RESOURCE_ATTRIBUTES` name one. */
  readonly defaultServiceName: string;
  /** Batch span processor settings (`OTEL_BSP_*`), validated. */
  readonly batch: {
    readonly maxQueueSize: number;
    readonly maxExportBatchSize: number;
    readonly scheduledDelayMillis: number;
    readonly exportTimeoutMillis: number;
  };
  /**
   * The longest span attribute value (characters) Herald sets as the SDK's limit, or `undefined`
   * when `OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT` or `OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT` is set
   * (the SDK applies that one).
   */
  readonly attributeValueLengthLimit: number | undefined;
  /** `OTEL_LOG_LEVEL` (default `warn`): how much of the SDK's own diagnostics reach the log. */
  readonly diagLevel: "none" | "error" | "warn" | "info" | "debug" | "verbose" | "all";
  /**
   * Variables the SDK must read as given here rather than as set (`undefined`: as if unset):
   * the OTLP headers without the entries the exporters could not send, and millisecond values
   * capped at the longest a Node timer waits.
   */
  readonly envOverrides: Readonly<Record<string, string | undefined>>;
  /** Values that were not understood, each with what is used instead. */
  readonly warnings: readonly string[];
}

type Env = Readonly<Record<string, string | undefined>>;

const value = (env: Env, name: string): string | undefined => {
  const v = env[name]?.trim();
  return v === undefined || v === "" ? undefined : v;
};

const list = (env: Env, name: string): string[] =>
  [...new Set((value(env, name) ?? "").split(",").map((s) => s.trim().toLowerCase()))].filter(
    (s) => s !== "",
  );

/**
 * Whether the variables ask for telemetry: an exporter other than `none`, or an OTLP endpoint,
 * and `OTEL_SDK_DISABLED` is not `true`. An exporter list of only `none` asks for nothing (else
 * `OTEL_TRACES_EXPORTER=none` would start OTLP metrics towards localhost, the spec's default).
 *
 * @example
 * telemetryRequested({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://127.0.0.1:4318" }); // true
 * telemetryRequested({}); // false
 */
export function telemetryRequested(env: Env): boolean {
  if (value(env, "OTEL_SDK_DISABLED")?.toLowerCase() === "true") return false;
  return ASKING.some((name) =>
    name.endsWith("_EXPORTER")
      ? list(env, name).some((exporter) => exporter !== "none")
      : value(env, name) !== undefined,
  );
}

/**
 * An endpoint as a warning shows it: what stands before an `@` (a collector's user and password,
 * `user:pass@host:4318` without a scheme included) and the query (an API key) are masked, as a
 * log never holds a credential (DESIGN.md).
 */
function shownEndpoint(url: string): string {
  return url.replace(/^([^/?#]*\/\/)?[^/?#]*@/, "$1***@").replace(/\?.*$/s, "?***");
}

/** The OTLP exporters' header variables: the general one and each signal's own. */
const HEADER_VARIABLES = [
  "OTEL_EXPORTER_OTLP_HEADERS",
  "OTEL_EXPORTER_OTLP_TRACES_HEADERS",
  "OTEL_EXPORTER_OTLP_METRICS_HEADERS",
] as const;

/**
 * The longest delay a Node timer takes (2^31 - 1 ms, about 24.8 days). Node turns a longer one
 * into 1 ms, with a `TimeoutOverflowWarning` on stderr: `OTEL_BSP_EXPORT_TIMEOUT=99999999999`
 * timed every export out at once (each logged as failed), `OTEL_BSP_SCHEDULE_DELAY` or
 * `OTEL_METRIC_EXPORT_INTERVAL` that large exported every millisecond.
 */
const MAX_TIMER_MS = 2_147_483_647;

/** Millisecond variables the SDK reads from the environment and hands to timers. */
const SDK_TIMER_VARIABLES = [
  "OTEL_EXPORTER_OTLP_TIMEOUT",
  "OTEL_EXPORTER_OTLP_TRACES_TIMEOUT",
  "OTEL_EXPORTER_OTLP_METRICS_TIMEOUT",
  "OTEL_METRIC_EXPORT_INTERVAL",
  "OTEL_METRIC_EXPORT_TIMEOUT",
] as const;

const tooLong = (name: string, raw: string) =>
  `${name}: "${raw}" ms is longer than a timer can wait; using ${MAX_TIMER_MS} (about 24.8 days)`;

/**
 * Herald's default for the SDK's span attribute value limit (the spec's default is none). Span
 * attributes carry the event's `id`, `source`, `type` and `subject`, which a publisher may make
 * as long as the event size limit allows; the export queue bounds spans by number, so unlimited
 * values let 2048 queued spans hold hundreds of MB while a collector is slow or down.
 */
const ATTRIBUTE_VALUE_LENGTH_LIMIT = 1024;

const DIAG_LEVELS = ["none", "error", "warn", "info", "debug", "verbose", "all"] as const;

/**
 * Reads the settings Herald applies itself; the SDK and the OTLP exporters read the rest
 * (endpoints, headers, `OTEL_EXPORTER_OTLP_TIMEOUT`, sampler, resource, metrics) from the
 * process environment.
 *
 * @example
 * const settings = readOtelSettings(process.env);
 * settings.batch.maxQueueSize; // 2048 unless OTEL_BSP_MAX_QUEUE_SIZE says otherwise
 */
export function readOtelSettings(env: Env): OtelSettings {
  const warnings: string[] = [];

  let traceExporters: TraceExporterName[] = [];
  const asked = list(env, "OTEL_TRACES_EXPORTER");
  if (asked.length === 0) traceExporters = ["otlp"];
  else if (!asked.includes("none")) {
    for (const name of asked) {
      if (name === "otlp" || name === "console") traceExporters.push(name);
      else warnings.push(`OTEL_TRACES_EXPORTER: "${name}" is not supported (otlp, console, none)`);
    }
  }

  let metricExporters: MetricExporterName[] = [];
  const metricsAsked = list(env, "OTEL_METRICS_EXPORTER");
  if (metricsAsked.length === 0) metricExporters = ["otlp"];
  else if (!metricsAsked.includes("none")) {
    for (const name of metricsAsked) {
      if (name === "otlp" || name === "console") metricExporters.push(name);
      else if (name === "prometheus") {
        // The SDK's exporter would listen on a port of its own (9464, every interface) and
        // serve the metrics to anyone, around the admin rule of GET /metrics.
        warnings.push(
          'OTEL_METRICS_EXPORTER: "prometheus" is not supported (otlp, console, none): scrape GET /metrics on the gateway\'s own port instead (Prometheus text, admin token when auth is on)',
        );
      } else {
        warnings.push(`OTEL_METRICS_EXPORTER: "${name}" is not supported (otlp, console, none)`);
      }
    }
  }

  // The variable a signal's protocol comes from: its own, else the general one.
  const protocolSource = (signal: "TRACES" | "METRICS") =>
    [`OTEL_EXPORTER_OTLP_${signal}_PROTOCOL`, "OTEL_EXPORTER_OTLP_PROTOCOL"].find(
      (name) => value(env, name) !== undefined,
    );
  const protocolOf = (source: string | undefined): OtlpProtocol => {
    const name = source === undefined ? "http/protobuf" : value(env, source);
    return name === "http/json" || name === "grpc" ? name : "http/protobuf";
  };
  const tracesSource = protocolSource("TRACES");
  const protocol = protocolOf(tracesSource);
  const tracesProtocolName = tracesSource === undefined ? undefined : value(env, tracesSource);
  if (tracesProtocolName !== undefined && tracesProtocolName !== protocol) {
    warnings.push(
      `${tracesSource}: "${tracesProtocolName}" is not supported (http/protobuf, http/json, grpc); using http/protobuf`,
    );
  }
  const metricsProtocol = protocolOf(protocolSource("METRICS"));

  // The OTLP/HTTP exporters take any URL and fail at each export (`localhost:4318` parses as a
  // URL of scheme "localhost:"), or quietly use their default for one they cannot parse: say so
  // once at start. gRPC takes `host:port` too, and refuses to start on a bad one (logged).
  const overHttp = (p: OtlpProtocol) => p !== "grpc";
  const endpoints: [string, boolean][] = [
    ["OTEL_EXPORTER_OTLP_ENDPOINT", overHttp(protocol) || overHttp(metricsProtocol)],
    ["OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", overHttp(protocol)],
    ["OTEL_EXPORTER_OTLP_METRICS_ENDPOINT", overHttp(metricsProtocol)],
  ];
  for (const [name, http] of endpoints) {
    const url = value(env, name);
    if (url === undefined || !http) continue;
    if (!URL.canParse(url)) {
      warnings.push(
        `${name}: "${shownEndpoint(url)}" is not a URL; the exporters send to their default, localhost`,
      );
    } else if (!/^https?:$/.test(new URL(url).protocol)) {
      warnings.push(
        `${name}: "${shownEndpoint(url)}" is not an http:// or https:// URL; every export to it fails`,
      );
    }
  }

  const count = (name: string, fallback: number, min: number, max = Infinity): number => {
    const raw = value(env, name);
    if (raw === undefined) return fallback;
    const n = Number(raw);
    if (Number.isInteger(n) && n > max) {
      warnings.push(tooLong(name, raw));
      return max;
    }
    if (Number.isInteger(n) && n >= min) return n;
    warnings.push(`${name}: "${raw}" is not an integer >= ${min}; using ${fallback}`);
    return fallback;
  };
  const maxQueueSize = count("OTEL_BSP_MAX_QUEUE_SIZE", 2048, 1);
  const batch = {
    maxQueueSize,
    // The spec requires a batch no larger than the queue; the SDK would clamp it too.
    maxExportBatchSize: Math.min(count("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", 512, 1), maxQueueSize),
    scheduledDelayMillis: count("OTEL_BSP_SCHEDULE_DELAY", 5000, 0, MAX_TIMER_MS),
    exportTimeoutMillis: count("OTEL_BSP_EXPORT_TIMEOUT", 30_000, 1, MAX_TIMER_MS),
  };

  const envOverrides: Record<string, string | undefined> = {};
  // The SDK reads these itself, and would hand a value over Node's timer limit to a timer.
  for (const name of SDK_TIMER_VARIABLES) {
    const raw = value(env, name);
    if (raw === undefined || !(Number(raw) > MAX_TIMER_MS)) continue;
    warnings.push(tooLong(name, raw));
    envOverrides[name] = String(MAX_TIMER_MS);
  }
  for (const name of HEADER_VARIABLES) {
    const raw = value(env, name);
    if (raw === undefined) continue;
    const checked = checkOtlpHeaders(name, raw);
    warnings.push(...checked.warnings);
    if (checked.kept !== raw) envOverrides[name] = checked.kept;
  }
  const resourceAttributes = value(env, "OTEL_RESOURCE_ATTRIBUTES");
  const resourceProblem =
    resourceAttributes === undefined ? undefined : resourceAttributesProblem(resourceAttributes);
  if (resourceProblem !== undefined) warnings.push(resourceProblem);

  const lengthLimitSet = [
    "OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT",
    "OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT",
  ].some((name) => value(env, name) !== undefined);

  const levelName = value(env, "OTEL_LOG_LEVEL")?.toLowerCase() ?? "warn";
  const diagLevel = DIAG_LEVELS.find((l) => l === levelName) ?? "warn";
  if (diagLevel !== levelName) {
    warnings.push(`OTEL_LOG_LEVEL: "${levelName}" is not a level (${DIAG_LEVELS.join(", ")})`);
  }

  return {
    traceExporters,
    metricExporters,
    protocol,
    metricsProtocol,
    defaultServiceName: "herald",
    batch,
    attributeValueLengthLimit: lengthLimitSet ? undefined : ATTRIBUTE_VALUE_LENGTH_LIMIT,
    diagLevel,
    envOverrides,
    warnings,
  };
}

/**
 * What the `telemetry started` line says: the exporters of each signal and, for those that go
 * out over OTLP, the protocol of that signal (the two can differ, and a collector that gets
 * nothing is often one spoken to in the wrong protocol).
 */
export function startedFields(settings: OtelSettings): Record<string, string> {
  const names = (list: readonly string[]) => (list.length === 0 ? "none" : list.join(","));
  return {
    traces: names(settings.traceExporters),
    ...(settings.traceExporters.includes("otlp") ? { tracesProtocol: settings.protocol } : {}),
    metrics: names(settings.metricExporters),
    ...(settings.metricExporters.includes("otlp")
      ? { metricsProtocol: settings.metricsProtocol }
      : {}),
  };
}
