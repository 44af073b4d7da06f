import { type DiagLogger, DiagLogLevel } from "@opentelemetry/api";
import type { Logger } from "../../ports/logger.js";
import type { OtelSettings } from "./otel-env.js";

/** Longest diagnostic detail kept: an exporter error may quote a whole response body. */
const MAX_DETAIL = 500;

/** The same warning is written at most this often: a down collector must not flood the log. */
export const REPEAT_INTERVAL_MS = 10_000;
/** Distinct warnings whose last time is kept; beyond it the oldest are forgotten. */
const MAX_TRACKED = 256;

export interface DiagLoggerOptions {
  /** Milliseconds clock for the repeat limit (default `Date.now`). */
  readonly now?: () => number;
  /**
   * Texts never to write (the OTLP exporters' credentials, `otlpSecrets`): a collector that
   * refuses an export may quote them in its answer. Each is written as `***`.
   */
  readonly secrets?: readonly string[];
}

/**
 * The OpenTelemetry API's diagnostics (`diag`) as JSON log lines: errors and warnings at `warn`
 * (telemetry trouble never stops the gateway, so it is never an `error`), the rest at `debug`;
 * an exception the SDK reports is its name and message, never its stack trace.
 * Without it the SDK writes to `console`, i.e. stdout, which carries only the listening line.
 * The exporters' credentials are masked wherever a message quotes them.
 * The same warning (its text and code) is written at most once per 10 s, with `repeated`: how
 * many were left out since. The SDK reports every failed export, and while a collector is down
 * or refusing that is one line per batch, dozens a second under load.
 *
 * @example
 * diag.setLogger(diagLogger(logger), { logLevel: diagLogLevel("warn") });
 */
export function diagLogger(logger: Logger, options: DiagLoggerOptions = {}): DiagLogger {
  const { now = Date.now, secrets = [] } = options;
  const masked = (text: string) =>
    secrets.reduce((out, secret) => out.replaceAll(secret, "***"), text);
  const seen = new Map<string, { at: number; repeated: number }>();
  const line =
    (write: (msg: string, fields?: Record<string, unknown>) => void, limited: boolean) =>
    (message: string, ...args: unknown[]) => {
      const said = readable(message);
      const text = masked(said.text);
      const fields =
        said.fields.detail === undefined
          ? said.fields
          : { ...said.fields, detail: masked(said.fields.detail) };
      const msg = `opentelemetry: ${text}`.slice(0, MAX_DETAIL);
      let repeated = 0;
      if (limited) {
        const key = `${fields.code ?? ""} ${msg}`;
        const at = now();
        const last = seen.get(key);
        if (last !== undefined && at - last.at < REPEAT_INTERVAL_MS) {
          last.repeated++;
          return;
        }
        repeated = last?.repeated ?? 0;
        seen.delete(key);
        if (seen.size >= MAX_TRACKED) seen.delete(seen.keys().next().value as string);
        seen.set(key, { at, repeated: 0 });
      }
      const detail = [fields.detail, ...args.map((arg) => masked(describe(arg)))].filter(
        (d) => d !== undefined,
      );
      const all: Record<string, unknown> = {
        ...fields,
        detail: detail.join(" ").slice(0, MAX_DETAIL),
      };
      if (all.detail === "") Reflect.deleteProperty(all, "detail");
      if (repeated > 0) all.repeated = repeated;
      write(msg, Object.keys(all).length === 0 ? undefined : all);
    };
  const warn = line((msg, fields) => logger.warn(msg, fields), true);
  const debug = line((msg, fields) => logger.debug(msg, fields), false);
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

/** Stack frames: from the first line break followed by `at ...` to the end. */
const STACK_FRAMES = /\n\s*at [\s\S]*$/;
const withoutStack = (text: string) => text.replace(STACK_FRAMES, "");

/**
 * A diagnostic message without stack traces (the DESIGN: never one in a log). The SDK's global
 * error handler logs an exception as the JSON of its properties (`stack`, `message`, `name`,
 * the OTLP exporter's `code` and `data`, the collector's answer): that becomes its `name:
 * message`, with `code` and `data` (as `detail`) beside. Other messages lose their stack
 * frames (the API logs `err.stack` for a duplicate registration).
 */
function readable(message: string): {
  text: string;
  fields: { code?: string; detail?: string };
} {
  if (message.startsWith("{")) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(message);
    } catch {
      parsed = undefined;
    }
    if (typeof parsed === "object" && parsed !== null) {
      const { stack, message: said, name, code, data } = parsed as Record<string, unknown>;
      const text =
        typeof said === "string"
          ? typeof name === "string" && name !== "Error"
            ? `${name}: ${said}`
            : said
          : typeof stack === "string"
            ? withoutStack(stack)
            : undefined;
      if (text !== undefined) {
        return {
          text,
          fields: {
            ...(typeof code === "string" ? { code } : {}),
            ...(typeof data === "string" && data !== "" ? { detail: withoutStack(data) } : {}),
          },
        };
      }
    }
  }
  return { text: withoutStack(message), fields: {} };
}

function describe(arg: unknown): string {
  if (arg instanceof Error) return arg.message;
  if (typeof arg === "string") return withoutStack(arg);
  try {
    return withoutStack(JSON.stringify(arg) ?? String(arg));
  } catch {
    return String(arg);
  }
}
