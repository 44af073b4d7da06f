import type { Logger } from "../../ports/logger.js";

const LEVELS = ["debug", "info", "warn", "error", "silent"] as const;
type Level = (typeof LEVELS)[number];

/**
 * `HERALD_LOG_LEVEL` as a level, read as `herald serve` reads it (trimmed, in any case):
 * `undefined` when it is not set, `"unknown"` when it names no level (the logger then logs at
 * `info`, and the Worker says so once).
 *
 * @example
 * logLevelOf(" WARN "); // "warn"
 * logLevelOf("verbose"); // "unknown"
 */
export function logLevelOf(value: string | undefined): Level | "unknown" | undefined {
  const level = value?.trim().toLowerCase();
  if (level === undefined || level === "") return undefined;
  return (LEVELS as readonly string[]).includes(level) ? (level as Level) : "unknown";
}

/**
 * The `Logger` port on a Worker's `console`: one JSON object per line with the Node adapter's
 * keys (`time`, `level`, `msg`, then the fields; Workers Logs and `wrangler tail` index them), at
 * `level` and above (`HERALD_LOG_LEVEL`: debug, info (default), warn, error, silent; see
 * `logLevelOf`).
 *
 * @example
 * const logger = createConsoleLogger(env.HERALD_LOG_LEVEL);
 * logger.warn("subscription disabled", { subscriptionId: "a" });
 */
export function createConsoleLogger(level?: string): Logger {
  const read = logLevelOf(level);
  const floor = LEVELS.indexOf(read === undefined || read === "unknown" ? "info" : read);
  const line =
    (name: Exclude<Level, "silent">, write: (text: string) => void) =>
    (message: string, fields?: Record<string, unknown>) => {
      if (LEVELS.indexOf(name) < floor) return;
      write(
        JSON.stringify({ time: new Date().toISOString(), level: name, msg: message, ...fields }),
      );
    };
  return {
    debug: line("debug", (t) => console.debug(t)),
    info: line("info", (t) => console.info(t)),
    warn: line("warn", (t) => console.warn(t)),
    error: line("error", (t) => console.error(t)),
  };
}
