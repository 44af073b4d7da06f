import type { Logger } from "../../ports/logger.js";

export type LogLevel = "debug" | "info" | "warn" | "error" | "silent";
const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 99 };

/** Reads `HERALD_LOG_LEVEL`; unknown values fall back to `info`. */
export function logLevelFromEnv(value: string | undefined): LogLevel {
  const level = value?.trim().toLowerCase();
  // Own keys only: `constructor` or `__proto__` are `in` every object, and were taken as a level
  // that ranked nothing out (every debug line written, and no word that the value was unknown).
  return level !== undefined && Object.hasOwn(RANK, level) ? (level as LogLevel) : "info";
}

/**
 * A logger that writes one JSON object per line (`time`, `level`, `msg`, then the fields).
 *
 * @example
 * const logger = createJsonLogger({ level: "info", write: (line) => process.stderr.write(line) });
 * logger.info("delivered", { subscription: "thumbnails", status: 204 });
 */
export function createJsonLogger(options: {
  level: LogLevel;
  write: (line: string) => void;
  now?: () => Date;
}): Logger {
  const { level, write, now = () => new Date() } = options;
  const min = RANK[level];
  const emit = (
    lvl: Exclude<LogLevel, "silent">,
    msg: string,
    fields?: Record<string, unknown>,
  ) => {
    if (RANK[lvl] < min) return;
    write(`${JSON.stringify({ time: now().toISOString(), level: lvl, msg, ...fields })}\n`);
  };
  return {
    debug: (msg, fields) => emit("debug", msg, fields),
    info: (msg, fields) => emit("info", msg, fields),
    warn: (msg, fields) => emit("warn", msg, fields),
    error: (msg, fields) => emit("error", msg, fields),
  };
}
