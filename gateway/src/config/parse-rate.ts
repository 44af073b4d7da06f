import type { FieldPath } from "./field-path.js";
import type { Report } from "./report.js";

const RATE = /^([1-9][0-9]*)\/(s|m)$/;
const PERIOD_MS: Readonly<Record<string, number>> = { s: 1_000, m: 60_000 };

/**
 * A rate written `N/s` or `N/m` (a positive integer per second or per minute), as
 * `{ count, periodMs }`. Shared by publisher rules (`auth.publishers[].rate`, a token bucket of
 * `count` refilled over `periodMs`) and subscriptions (`delivery.rate`, at most `count` in any
 * `periodMs`: `createRateWindow`).
 *
 * @example
 * parseRate("500/s", ["rate"], report); // { count: 500, periodMs: 1000 }
 */
export function parseRate(
  value: unknown,
  path: FieldPath,
  report: Report,
): { readonly count: number; readonly periodMs: number } | undefined {
  const match = typeof value === "string" ? RATE.exec(value) : null;
  const count = match ? Number(match[1]) : Number.NaN;
  const periodMs = match ? PERIOD_MS[match[2] ?? ""] : undefined;
  if (Number.isSafeInteger(count) && periodMs !== undefined) return { count, periodMs };
  report(path, "must be a rate such as 500/s or 30000/m (events per second or per minute)");
  return undefined;
}
