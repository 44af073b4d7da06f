import { MAX_VIOLATIONS_LISTED } from "../errors/errors.js";
import { HeraldError } from "../errors/herald-error.js";

/** One broken rule of a subscription sent to the API. */
export interface SubscriptionIssue {
  /** Field path in the body, e.g. `filters[0].sql`; empty for the whole body. */
  readonly field: string;
  readonly message: string;
}

/**
 * A subscription sent to the Subscriptions API breaks one or more rules (400, spec 3.2.5.1
 * "invalid"). `errors` lists the issues (the first 100; the detail counts the rest), so a client
 * can fix them in one go; a 64 KiB body of unknown keys once answered about 1 MB.
 *
 * @example
 * throw new InvalidSubscription([{ field: "sink", message: "is required" }]);
 */
export class InvalidSubscription extends HeraldError {
  static override readonly code = "invalid_subscription";
  readonly code = InvalidSubscription.code;
  readonly status = 400;
  readonly title = "Invalid subscription";
  override readonly extensions: Readonly<Record<string, unknown>>;
  constructor(readonly issues: readonly SubscriptionIssue[]) {
    const shown = issues
      .slice(0, 10)
      .map((i) => (i.field ? `${i.field}: ${i.message}` : i.message));
    const more = issues.length > 10 ? ` (and ${issues.length - 10} more)` : "";
    super(`the subscription is invalid: ${shown.join("; ")}${more}`);
    this.name = "InvalidSubscription";
    this.extensions = { errors: issues.slice(0, MAX_VIOLATIONS_LISTED) };
  }
}
