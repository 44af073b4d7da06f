/**
 * How long a `source` + `id` pair is remembered for dedupe (DESIGN "Attributes": a second event
 * with the same pair inside the window is acknowledged and not delivered again): 24 hours, the
 * issue's default, long enough to cover a producer retrying across a day's outage.
 *
 * @example
 * createMemoryQueue({ dedupeWindowMs: DEFAULT_DEDUPE_WINDOW_MS });
 */
export const DEFAULT_DEDUPE_WINDOW_MS = 24 * 60 * 60 * 1000;

/**
 * Checks a dedupe window given to a store factory (a caller's mistake is a `TypeError`).
 *
 * @example
 * checkDedupeWindow("openSqliteStore", options.dedupeWindowMs ?? DEFAULT_DEDUPE_WINDOW_MS);
 */
export function checkDedupeWindow(where: string, ms: number): number {
  if (!Number.isFinite(ms) || ms < 0) {
    throw new TypeError(`${where}: dedupeWindowMs must be a non-negative number of milliseconds`);
  }
  return ms;
}

/**
 * The key of an event for dedupe. Length-prefixed so no pair of strings can collide
 * (`"a:" + "b"` and `"a" + ":b"` differ).
 *
 * @example
 * dedupeKey("/orders", "42"); // "7:/orders42"
 */
export function dedupeKey(source: string, id: string): string {
  return `${source.length}:${source}${id}`;
}
