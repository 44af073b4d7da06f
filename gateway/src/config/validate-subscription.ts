import type { Subscription } from "../subscriptions/subscription.js";
import { ConfigInvalid, type ConfigIssue } from "./config-invalid.js";
import { formatFieldPath } from "./field-path.js";
import { parseSubscription } from "./parse-subscription.js";

/**
 * Validates an already parsed subscription (a JSON request body of the Subscriptions API) and
 * returns it normalised, or throws `ConfigInvalid` (400) listing every issue, with `file` set to
 * `origin` and no line or column.
 *
 * @example
 * const subscription = validateSubscription(await request.json()); // ConfigInvalid on bad input
 */
export function validateSubscription(raw: unknown, origin = "request body"): Subscription {
  const issues: ConfigIssue[] = [];
  const subscription = parseSubscription(raw, (path, message) => {
    issues.push({ file: origin, field: formatFieldPath(path), message });
  });
  if (subscription === undefined || issues.length > 0) throw new ConfigInvalid(issues);
  return subscription;
}
