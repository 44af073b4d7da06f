import type { Violation } from "../errors/errors.js";
import { HeraldError } from "../errors/herald-error.js";
import { bearerChallenge } from "./auth-errors.js";

/**
 * A verified token may not do this (403): no publisher rule matches it, an event of the request is
 * outside its rule (`violations` name the attribute and the event's index), or it is not an
 * administrator. Never carries a claim value, a token or the rule's globs.
 *
 * @example
 * throw new Forbidden("no publisher rule matches this token");
 * throw new Forbidden("event 3: source is not one this publisher may publish",
 *   [{ attribute: "source", index: 3, message: "is not one this publisher may publish" }]);
 */
export class Forbidden extends HeraldError {
  static override readonly code = "forbidden";
  readonly code = Forbidden.code;
  readonly status = 403;
  readonly title = "Forbidden";
  override readonly extensions: Readonly<Record<string, unknown>>;
  constructor(
    detail: string,
    readonly violations: readonly Violation[] = [],
  ) {
    super(detail);
    this.name = "Forbidden";
    this.extensions =
      violations.length === 0
        ? {}
        : { attributes: [...new Set(violations.map((v) => v.attribute))], errors: violations };
  }
}

/**
 * A `Forbidden` for a verified bearer token that may not do what it asks: no publisher rule
 * matches it, an event is outside its rule, or it is not an administrator. Same code and status;
 * the answer also says `WWW-Authenticate: Bearer error="insufficient_scope"` with the detail, as
 * RFC 6750 section 3.1 has a resource server say that the token lacks the privileges (not that it
 * is bad: that is 401 `invalid_token`).
 *
 * @example
 * throw new InsufficientScope("no publisher rule matches this token");
 */
export class InsufficientScope extends Forbidden {
  override readonly headers: Readonly<Record<string, string>>;
  constructor(detail: string, violations: readonly Violation[] = []) {
    super(detail, violations);
    this.name = "InsufficientScope";
    this.headers = { "www-authenticate": bearerChallenge("insufficient_scope", detail) };
  }
}

/**
 * The publisher has used up its rate (429); `Retry-After` says in how many whole seconds enough
 * tokens will be back (RFC 9110 10.2.3, delay-seconds).
 *
 * @example
 * throw new RateLimited(2); // 429, Retry-After: 2
 */
export class RateLimited extends HeraldError {
  static override readonly code = "rate_limited";
  readonly code = RateLimited.code;
  readonly status = 429;
  readonly title = "Too many requests";
  override readonly headers: Readonly<Record<string, string>>;
  readonly retryAfterSeconds: number;
  constructor(retryAfterSeconds: number) {
    const seconds = Math.max(1, Math.ceil(retryAfterSeconds));
    super(`this publisher's rate limit is used up; retry after ${seconds} s`);
    this.name = "RateLimited";
    this.retryAfterSeconds = seconds;
    this.headers = { "retry-after": String(seconds) };
  }
}

/** Union of the codes of the authorisation errors, to `switch (err.code)` on. */
export type PolicyErrorCode = typeof Forbidden.code | typeof RateLimited.code;
