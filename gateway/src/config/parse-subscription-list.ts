import type { Subscription } from "../subscriptions/subscription.js";
import { type FieldPath, formatFieldPath } from "./field-path.js";
import { parseSubscription } from "./parse-subscription.js";
import { type Report, trackReport } from "./report.js";
import { expectList, isAbsent, isRawObject } from "./value-checks.js";

/**
 * Validates the config's `subscriptions` list: each one with `parseSubscription`, and ids unique
 * across the list (Subscriptions API 3.2.1 id: "MUST be unique within the scope of the
 * subscription manager"). Absent means none.
 *
 * @example
 * parseSubscriptionList([{ id: "a", sink: "http://127.0.0.1:9000/" }], ["subscriptions"], report);
 */
export function parseSubscriptionList(
  raw: unknown,
  path: FieldPath,
  report: Report,
): readonly Subscription[] | undefined {
  if (isAbsent(raw)) return [];
  const tracked = trackReport(report);
  const items = expectList(raw, path, tracked.report, true);
  if (items === undefined) return undefined;
  const subscriptions = items.map((item, index) =>
    parseSubscription(item, namingSubscription(item, tracked.report), [...path, index]),
  );
  // Checked on the raw ids, so a duplicate is found even when either subscription is invalid.
  const firstIndex = new Map<string, number>();
  items.forEach((item, index) => {
    const id = isRawObject(item) ? item.id : undefined;
    if (typeof id !== "string" || id === "") return;
    const first = firstIndex.get(id);
    if (first === undefined) firstIndex.set(id, index);
    else {
      const other = formatFieldPath([...path, first]);
      tracked.report([...path, index, "id"], `duplicate id ${JSON.stringify(id)}; ${other} has it`);
    }
  });
  return tracked.failed() ? undefined : subscriptions.filter((s) => s !== undefined);
}

/** Tags each problem found in a subscription with its id (see `ReportOptions.subscription`). */
function namingSubscription(item: unknown, report: Report): Report {
  const id = isRawObject(item) ? item.id : undefined;
  if (typeof id !== "string" || id === "") return report;
  return (path, message, options) => report(path, message, { ...options, subscription: id });
}
