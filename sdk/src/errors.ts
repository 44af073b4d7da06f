/**
 * An RFC 9457 problem document as the gateway sends it (`application/problem+json`): `type`,
 * `title`, `status`, `detail`, a stable `code`, and members of its own (e.g. `attributes`).
 */
export interface Problem {
  readonly type?: string;
  readonly title?: string;
  readonly status?: number;
  readonly detail?: string;
  readonly code?: string;
  readonly [member: string]: unknown;
}

/** Every code a `HeraldError` can have, to `switch (err.code)` on. */
export type HeraldErrorCode =
  | "invalid_event"
  | "unauthorized"
  | "forbidden"
  | "payload_too_large"
  | "rate_limited"
  | "unavailable"
  | "request_rejected"
  | "network_error"
  | "timeout"
  | "notification_too_large"
  | "state_too_large"
  | "missing_signature"
  | "invalid_signature"
  | "stale_signature"
  | "malformed_message"
  | "unsupported_mode"
  | "message_too_large";

/** What every `HeraldError` may carry besides its message. */
export interface HeraldErrorDetails {
  /** HTTP status of the gateway's answer; 0 when there was none (network, timeout, client side). */
  readonly status?: number;
  readonly problem?: Problem | undefined;
  readonly cause?: unknown;
}

/**
 * Base of every error the SDK raises on bad *data* or a refused request (a caller's programming
 * mistake is a `TypeError` instead). `code` is stable and the same on the class and the instance;
 * `status` is the HTTP status (0 when no answer came); `problem` the gateway's parsed
 * problem+json, whose own `code` is finer (e.g. `missing_token` vs `invalid_token`).
 *
 * @example
 * try { await producer.send(event) } catch (err) {
 *   if (err instanceof HeraldError) console.error(err.code, err.status, err.problem?.detail);
 * }
 */
export abstract class HeraldError extends Error {
  static readonly code: HeraldErrorCode | "herald_error" = "herald_error";
  // Declared, not fields: assigned once below, in this order (no field definitions in the bundle).
  declare readonly code: HeraldErrorCode;
  declare readonly status: number;
  declare readonly problem: Problem | undefined;
  constructor(message: string, { status = 0, problem, cause }: HeraldErrorDetails = {}) {
    super(message, cause === undefined ? undefined : { cause });
    // The subclass's stable code, as an own property of every instance.
    this.code = (new.target as unknown as { code: HeraldErrorCode }).code;
    this.status = status;
    this.problem = problem;
    this.name = new.target.name;
  }

  /**
   * The attributes the gateway named as the culprits (problem `attributes`), or none: an
   * `InvalidEvent`'s invalid ones, a `Forbidden`'s `source` or `type` outside the publisher's
   * rule. On the base class, so it is there after `err instanceof HeraldError` alone.
   */
  get attributes(): readonly string[] {
    const named = this.problem?.attributes;
    return Array.isArray(named) ? named.filter((a): a is string => typeof a === "string") : [];
  }
}

/** The gateway found the event invalid or the body malformed (400). `attributes` names the culprits. */
export class InvalidEvent extends HeraldError {
  static override readonly code = "invalid_event";
  declare readonly code: typeof InvalidEvent.code;
}

/** No token, or one the gateway does not accept (401). */
export class Unauthorized extends HeraldError {
  static override readonly code = "unauthorized";
  declare readonly code: typeof Unauthorized.code;
}

/** The token is valid but may not publish this source or type (403); `attributes` says which. */
export class Forbidden extends HeraldError {
  static override readonly code = "forbidden";
  declare readonly code: typeof Forbidden.code;
}

/** An event over `limits.maxEventBytes`, or a batch over the gateway's limits (413). */
export class PayloadTooLarge extends HeraldError {
  static override readonly code = "payload_too_large";
  declare readonly code: typeof PayloadTooLarge.code;
}

/** A refusal that may say when to try again: `RateLimited` and `Unavailable` (one constructor). */
export abstract class RetryLater extends HeraldError {
  constructor(
    message: string,
    details: HeraldErrorDetails,
    /** The gateway's `Retry-After`, in milliseconds, when it sent one. */
    readonly retryAfterMs?: number,
  ) {
    super(message, details);
  }
}

/** Over the publisher's rate, still after the retries (429). */
export class RateLimited extends RetryLater {
  static override readonly code = "rate_limited";
  declare readonly code: typeof RateLimited.code;
}

/** The gateway is unavailable (408, 5xx), still after the retries. */
export class Unavailable extends RetryLater {
  static override readonly code = "unavailable";
  declare readonly code: typeof Unavailable.code;
}

/**
 * Any other refusal (404, 405, 415, 400 `invalid_request`), or a redirect (3xx, never followed:
 * the POST would lose its event; point `endpoint` at the gateway); not retried.
 */
export class RequestRejected extends HeraldError {
  static override readonly code = "request_rejected";
  declare readonly code: typeof RequestRejected.code;
}

/** The request never got an answer: connection refused, reset, DNS (status 0), after the retries. */
export class NetworkFailed extends HeraldError {
  static override readonly code = "network_error";
  declare readonly code: typeof NetworkFailed.code;
}

/** No answer within the producer's `timeout` (status 0), after the retries. */
export class TimedOut extends HeraldError {
  static override readonly code = "timeout";
  declare readonly code: typeof TimedOut.code;
}

/**
 * A notification whose `data` is more than identifiers (over `maxNotificationDataBytes`). Nothing
 * was sent: move the state to `stateTransfer`, or leave it at the source behind `dataref`.
 */
export class NotificationTooLarge extends HeraldError {
  static override readonly code = "notification_too_large";
  declare readonly code: typeof NotificationTooLarge.code;
  constructor(
    readonly size: number,
    readonly limit: number,
  ) {
    super(
      `notification data is ${size} bytes, over ${limit}: send the state with stateTransfer() or point to it with dataref`,
    );
  }
}

/**
 * A state-transfer event larger than the gateway takes (`maxEventBytes`). Nothing was sent: store
 * the state and send a notification whose `dataref` points to it (the claim-check pattern).
 */
export class StateTooLarge extends HeraldError {
  static override readonly code = "state_too_large";
  declare readonly code: typeof StateTooLarge.code;
  constructor(
    readonly size: number,
    readonly limit: number,
  ) {
    super(
      `the event is ${size} bytes, over ${limit}: store the state, send a notification() with a dataref to it`,
    );
  }
}
