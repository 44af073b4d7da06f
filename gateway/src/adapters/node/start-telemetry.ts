import type { Logger } from "../../ports/logger.js";
import { readOtelSettings, telemetryRequested } from "./otel-env.js";

export interface TelemetryOptions {
  readonly logger: Logger;
  /** Called with the number of spans dropped because the export queue was full. */
  readonly onSpansDropped?: (spans: number) => void;
  /** How long `shutdown()` waits for the last export (default 5 s). */
  readonly shutdownTimeoutMs?: number;
}

/** The running OpenTelemetry SDK. */
export interface Telemetry {
  /**
   * Exports what is still queued and stops the SDK. Resolves within the shutdown timeout even
   * when the collector never answers (what is left is lost, and logged).
   */
  shutdown(): Promise<void>;
}

/**
 * Starts the OpenTelemetry Node SDK when the standard variables ask for it
 * (`OTEL_TRACES_EXPORTER`, `OTEL_METRICS_EXPORTER`, `OTEL_EXPORTER_OTLP_ENDPOINT`,
 * `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`, `OTEL_EXPORTER_OTLP_METRICS_ENDPOINT`; not with
 * `OTEL_SDK_DISABLED=true`), else resolves `undefined` without loading any SDK module: the
 * core's `@opentelemetry/api` calls stay no-ops. Start it before creating the gateway (metric
 * instruments bind to the meter provider there) and shut it down after the gateway stopped.
 *
 * `env` decides whether to start; the SDK and its exporters read their settings from
 * `process.env`, so pass `process.env` (the CLI does). A start that fails is logged and
 * resolves `undefined`: telemetry never keeps the gateway from serving.
 *
 * @example
 * const telemetry = await startTelemetry(process.env, { logger });
 * // ... createGateway(...), serve, stop ...
 * await telemetry?.shutdown();
 */
export async function startTelemetry(
  env: Readonly<Record<string, string | undefined>>,
  options: TelemetryOptions,
): Promise<Telemetry | undefined> {
  if (!telemetryRequested(env)) return undefined;
  try {
    // Loaded only here: the SDK, its exporters and gRPC are tens of modules a gateway without
    // telemetry never needs.
    const { startNodeSdk } = await import("./otel-node-sdk.js");
    return startNodeSdk(readOtelSettings(env), options);
  } catch (err) {
    options.logger.warn("telemetry not started", {
      error: err instanceof Error ? err.message : String(err),
    });
    return undefined;
  }
}
