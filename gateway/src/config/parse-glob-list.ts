import type { FieldPath } from "./field-path.js";
import { reportNeverHeld } from "./parse-filter.js";
import { parseStringList } from "./parse-issuer.js";
import { type Report, trackReport } from "./report.js";

/**
 * A written list of globs on `source` or `type` (`*`: any run of characters; the publisher
 * policy's `sources`/`types` and `delivery.reply`'s): not empty, no empty entry, and no entry with
 * a character no attribute can hold (a control character, say), which would never match, silently,
 * as a filter value or a `types` entry with one is refused.
 *
 * @example
 * parseGlobList(["/billing", "com.example.*"], ["delivery", "reply", "types"], report);
 */
export function parseGlobList(
  value: unknown,
  path: FieldPath,
  report: Report,
): readonly string[] | undefined {
  const tracked = trackReport(report);
  const globs = parseStringList(value, path, tracked.report);
  globs?.forEach((glob, index) => {
    reportNeverHeld(glob, [...path, index], tracked.report);
  });
  return tracked.failed() ? undefined : globs;
}
