import { Console } from "node:console";
import { diag } from "@opentelemetry/api";
import { W3CTraceContextPropagator } from "@opentelemetry/core";
import { OTLPTraceExporter as GrpcTraceExporter } from "@opentelemetry/exporter-trace-otlp-grpc";
import { OTLPTraceExporter as JsonTraceExporter } from "@opentelemetry/exporter-trace-otlp-http";
import { OTLPExporterBase } from "@opentelemetry/otlp-exporter-base";
import {
  convertLegacyHttpOptions,
  createOtlpHttpExportDelegate,
} from "@opentelemetry/otlp-exporter-base/node-http";
import {
  ProtobufTraceSerializer,
  TraceExporterMetricsHelper,
} from "@opentelemetry/otlp-transformer";
import { defaultResource, resourceFromAttributes } from "@opentelemetry/resources";
import { NodeSDK } from "@opentelemetry/sdk-node";
import { StackContextManager } from "@opentelemetry/sdk-trace";
import {
  ConsoleSpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
  type SpanExporter,
  type SpanProcessor,
} from "@opentelemetry/sdk-trace-base";
import { ATTR_SERVICE_NAME } from "@opentelemetry/semantic-conventions";
import { createBoundedSpanProcessor } from "./bounded-span-processor.js";
import { diagLogger, diagLogLevel } from "./otel-diag-logger.js";
import { type OtelSettings, startedFields } from "./otel-env.js";
import { otlpSecrets } from "./otlp-headers.js";
import { serializeTraceRequest } from "./otlp-trace-serializer.js";
import type { Telemetry, TelemetryOptions } from "./start-telemetry.js";

/**
 * Starts `@opentelemetry/sdk-node` as the settings and the process environment ask: no
 * auto-instrumentation (Herald's spans come from its own code), a synchronous context manager
 * (no async hooks), W3C Trace Context, traces
 * through a bounded batch processor whose drops are counted, metrics through the exporters
 * Herald accepted (otlp, console; never the SDK's Prometheus listener), the sampler as the SDK
 * reads it from `OTEL_*`. Only `start-telemetry.ts` loads this module, and only when asked.
 *
 * @example
 * const telemetry = startNodeSdk(readOtelSettings(process.env), { logger });
 * await telemetry.shutdown();
 */
export function startNodeSdk(settings: OtelSettings, options: TelemetryOptions): Telemetry {
  const { logger, shutdownTimeoutMs = 5_000 } = options;
  // The SDK's console exporters print with `console`, i.e. to stdout, which carries exactly one
  // line (`herald listening on ...`) that scripts read. While it runs, `console` is stderr's.
  const stdoutConsole = globalThis.console;
  globalThis.console = new Console({ stdout: process.stderr, stderr: process.stderr });
  const restore = () => {
    diag.disable();
    globalThis.console = stdoutConsole;
  };
  let sdk: NodeSDK;
  try {
    sdk = createSdk(settings, options);
  } catch (err) {
    restore();
    throw err;
  }
  logger.info("telemetry started", startedFields(settings));

  let stopping: Promise<void> | undefined;
  return {
    shutdown() {
      stopping ??= (async () => {
        let timer: NodeJS.Timeout | undefined;
        // Not unref'd: the CLI awaits this, and an empty event loop would end the process
        // with the flush still unsettled.
        const timedOut = new Promise<"timeout">((done) => {
          timer = setTimeout(() => done("timeout"), shutdownTimeoutMs);
        });
        const flushed = sdk.shutdown().then(
          () => "flushed" as const,
          (err: unknown) => {
            logger.warn("telemetry flush failed", {
              error: err instanceof Error ? err.message : String(err),
            });
            return "failed" as const;
          },
        );
        const outcome = await Promise.race([flushed, timedOut]);
        clearTimeout(timer);
        if (outcome === "timeout") {
          logger.warn("telemetry flush timed out; unexported spans and metrics are lost", {
            timeoutMs: shutdownTimeoutMs,
          });
        }
        restore();
      })();
      return stopping;
    },
  };
}

function createSdk(settings: OtelSettings, options: TelemetryOptions): NodeSDK {
  const { logger } = options;
  diag.setLogger(diagLogger(logger, { secrets: otlpSecrets(process.env) }), {
    logLevel: diagLogLevel(settings.diagLevel),
    suppressOverrideMessage: true,
  });
  for (const warning of settings.warnings) logger.warn(`telemetry: ${warning}`);

  // NodeSDK's constructor reads two variables Herald answers itself. OTEL_LOG_LEVEL: it would
  // install a diag logger of its own, one that writes to the console methods the API saved at
  // load (stdout, whatever `console` is now); Herald applies that level to its own diag logger.
  // OTEL_METRICS_EXPORTER: it would also start `prometheus`, a listener of its own; it gets the
  // exporters Herald accepted (the OTLP one still reads its protocol and endpoint there). The
  // OTLP exporters, made here too, read their headers without the entries Herald dropped.
  const sdk = withEnv(
    {
      ...settings.envOverrides,
      OTEL_LOG_LEVEL: undefined,
      OTEL_METRICS_EXPORTER:
        settings.metricExporters.length === 0 ? "none" : settings.metricExporters.join(","),
    },
    () => newSdk(settings, spanProcessorsOf(settings, options)),
  );
  sdk.start();
  return sdk;
}

/** The span processors of the trace exporters Herald accepted. */
function spanProcessorsOf(settings: OtelSettings, options: TelemetryOptions): SpanProcessor[] {
  const { logger, onSpansDropped } = options;
  return settings.traceExporters.map((name) =>
    name === "console"
      ? flushingOnShutdown(new SimpleSpanProcessor(new ConsoleSpanExporter()))
      : createBoundedSpanProcessor({
          exporter: otlpExporter(settings.protocol),
          ...settings.batch,
          onDropped: (spans) => onSpansDropped?.(spans),
          logger,
        }),
  );
}

/** Runs `fn` with `process.env` changed as `changes` says (`undefined`: unset), then restores it. */
function withEnv<T>(changes: Record<string, string | undefined>, fn: () => T): T {
  const saved = Object.keys(changes).map((name) => [name, process.env[name]] as const);
  const set = (name: string, value: string | undefined) => {
    if (value === undefined) Reflect.deleteProperty(process.env, name);
    else process.env[name] = value;
  };
  for (const [name, value] of Object.entries(changes)) set(name, value);
  try {
    return fn();
  } finally {
    for (const [name, value] of saved) set(name, value);
  }
}

function newSdk(settings: OtelSettings, spanProcessors: SpanProcessor[]): NodeSDK {
  return new NodeSDK({
    // The environment's service name (OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES) is merged
    // over this one by the SDK's resource detectors.
    resource: defaultResource().merge(
      resourceFromAttributes({ [ATTR_SERVICE_NAME]: settings.defaultServiceName }),
    ),
    spanProcessors,
    // Left out when the environment sets a limit: the SDK would take this one over it.
    ...(settings.attributeValueLengthLimit === undefined
      ? {}
      : { spanLimits: { attributeValueLengthLimit: settings.attributeValueLengthLimit } }),
    // Herald emits no OpenTelemetry log records; its logs are JSON lines on stderr.
    logRecordProcessors: [],
    instrumentations: [],
    // Herald's core passes trace contexts explicitly and never needs one to follow an await.
    // The SDK's default (AsyncLocalStorage) would turn on async hooks on Node 20 at the first
    // export, and their promise hooks then cost every promise in the process (in a
    // promise-heavy loop about half its throughput). A synchronous stack is all the SDK itself
    // needs (it suppresses tracing around an export).
    contextManager: new StackContextManager(),
    // Herald reads and writes `traceparent` itself; the global propagator is for anything else
    // in the process, and W3C Trace Context is the one Herald speaks.
    textMapPropagator: new W3CTraceContextPropagator(),
  });
}

/**
 * The SDK's simple processor drops, at shutdown, the exports still waiting for the resource's
 * asynchronous attributes (the spans of a process stopped right after they ended): this one
 * flushes them first.
 */
function flushingOnShutdown(processor: SpanProcessor): SpanProcessor {
  return {
    onStart: (span, parentContext) => processor.onStart(span, parentContext),
    onEnd: (span) => processor.onEnd(span),
    forceFlush: () => processor.forceFlush(),
    shutdown: () => processor.forceFlush().then(() => processor.shutdown()),
  };
}

/**
 * The OTLP trace exporter for a protocol. Each reads its endpoint, headers, compression and
 * `OTEL_EXPORTER_OTLP_(TRACES_)TIMEOUT` (default 10 s) from the environment.
 */
function otlpExporter(protocol: OtelSettings["protocol"]): SpanExporter {
  switch (protocol) {
    case "http/json":
      return new JsonTraceExporter();
    case "grpc":
      return new GrpcTraceExporter();
    case "http/protobuf":
      return protobufTraceExporter();
  }
}

/**
 * `@opentelemetry/exporter-trace-otlp-proto`'s exporter as its constructor builds it (the same
 * environment, transport, retries, compression and timeout), with Herald's serializer: the same
 * bytes, faster (`otlp-trace-serializer.ts`).
 */
export function protobufTraceExporter(): SpanExporter {
  const options = convertLegacyHttpOptions({}, "TRACES", "v1/traces", {
    "Content-Type": "application/x-protobuf",
  });
  const serializer = {
    serializeRequest: (spans: ReadableSpan[]): Uint8Array => serializeTraceRequest(spans),
    deserializeResponse: ProtobufTraceSerializer.deserializeResponse,
  };
  return new OTLPExporterBase(
    createOtlpHttpExportDelegate(
      options,
      serializer,
      "otlp_http_span_exporter",
      TraceExporterMetricsHelper,
      undefined,
    ),
  );
}
