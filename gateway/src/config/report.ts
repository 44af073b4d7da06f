import type { FieldPath } from "./field-path.js";

export interface ReportOptions {
  /**
   * Point at the key rather than its value: for a key that should not be there (unknown key,
   * unknown filter dialect), the key is what the reader has to change.
   */
  readonly at?: "key";
  /** Id of the subscription the problem is in, so a reader need not count list items. */
  readonly subscription?: string;
}

/**
 * Receives one broken rule. Validators never throw on bad data: they report every problem they find
 * and go on, so a user sees all of them at once. The caller decides what a report becomes (a config
 * issue with file and line, a problem document for the Subscriptions API).
 */
export type Report = (path: FieldPath, message: string, options?: ReportOptions) => void;

/** A report that remembers whether anything went through it. */
export interface TrackedReport {
  readonly report: Report;
  /** True once at least one problem was reported. */
  failed(): boolean;
}

/**
 * Wraps `report` so a validator can tell whether anything below it failed, and return `undefined`
 * instead of a half-valid value.
 *
 * @example
 * const tracked = trackReport(report);
 * const sink = expectHttpUrl(raw.sink, ["sink"], tracked.report);
 * if (tracked.failed()) return undefined;
 */
export function trackReport(report: Report): TrackedReport {
  let count = 0;
  return {
    report: (path, message, options) => {
      count += 1;
      report(path, message, options);
    },
    failed: () => count > 0,
  };
}
