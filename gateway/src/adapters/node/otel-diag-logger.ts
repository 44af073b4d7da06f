import { type DiagLogger, DiagLogLevel } from "@opentelemetry/api";
import type { Logger } from "../../ports/logger.js";
import type { OtelSettings } from "./otel-env.js";

/** Longest diagnostic detail kept: an exporter error may quote a whole response body. */
const MAX_DETAIL = 500;

/**
 * The OpenTelemetry API's diagnostics (`diag`) as JSON log lines: errors and warnings at `warn`
 * (telemetry trouble never stops the gateway, so it is never an `error`), the rest at `debug`.
 * Without it the SDK writes to `console`, i.e. stdout, which carries only the listening line.
 *
 * @example
 * diag.setLogger(diagLogger(logger), { logLevel: diagLogLevel("warn") });
 */
export function diagLogger(logger: Logger): DiagLogger {
  const line =
    (write: (msg: string, fields?: Record<string, unknown>) => void) =>
    (message: string, ...args: unknown[]) => {
      const detail = args.map(describe).join(" ");
      write(
        `opentelemetry: ${message}`.slice(0, MAX_DETAIL),
        detail === "" ? undefined : { detail: detail.slice(0, MAX_DETAIL) },
      );
    };
  const warn = line((msg, fields) => logger.warn(msg, fields));
  const debug = line((msg, fields) => logger.debug(msg, fields));
  return { error: warn, warn, info: debug, debug, verbose: debug };
}

/** `OTEL_LOG_LEVEL`'s name as the API's level. */
export function diagLogLevel(level: OtelSettings["diagLevel"]): DiagLogLevel {
  const levels: Record<OtelSettings["diagLevel"], DiagLogLevel> = {
    none: DiagLogLevel.NONE,
    error: DiagLogLevel.ERROR,
    warn: DiagLogLevel.WARN,
    info: DiagLogLevel.INFO,
    debug: DiagLogLevel.DEBUG,
    verbose: DiagLogLevel.VERBOSE,
    all: DiagLogLevel.ALL,
  };
  return levels[level];
}

function describe(arg: unknown): string {
  if (arg instanceof Error) return arg.message;
  if (typeof arg === "string") return arg;
  try {
    return JSON.stringify(arg) ?? String(arg);
  } catch {
    return String(arg);
  }
}
