import { HeraldError } from "./herald-error.js";

/** One broken rule of one attribute of one event. */
export interface Violation {
  /** Attribute name (`data` and `data_base64` are used for payload problems). */
  readonly attribute: string;
  readonly message: string;
  /** Position of the event in a batch. */
  readonly index?: number;
}

/**
 * Violations listed in an `invalid_event` problem's `errors` (and names in `attributes`); the
 * detail counts the rest. An event of 20,000 extensions of the wrong type (or a batch of them)
 * otherwise answered ten bytes for every byte sent, each one listed twice.
 */
export const MAX_VIOLATIONS_LISTED = 100;

/** An event breaks the CloudEvents specification (400). */
export class InvalidEvent extends HeraldError {
  static override readonly code = "invalid_event";
  readonly code = InvalidEvent.code;
  readonly status = 400;
  readonly title = "Invalid CloudEvent";
  override readonly extensions: Readonly<Record<string, unknown>>;
  constructor(
    readonly violations: readonly Violation[],
    readonly index?: number,
    /** A human summary that replaces the list of violations in `detail`. */
    summary?: string,
  ) {
    // With several invalid events in a batch, each violation says whose it is: the detail once
    // put every one of them under "event <first> of the batch is invalid".
    const bad = new Set(violations.map((v) => v.index));
    const several = index !== undefined && bad.size > 1;
    const where =
      index === undefined
        ? ""
        : several
          ? `${bad.size} events of the batch are invalid, the first is event ${index}: `
          : `event ${index} of the batch is invalid: `;
    const shown = violations
      .slice(0, 10)
      .map((v) => `${several ? `event ${v.index}: ` : ""}${v.attribute}: ${v.message}`);
    const more = violations.length > 10 ? ` (and ${violations.length - 10} more)` : "";
    super(`${where}${summary ?? shown.join("; ") + more}`);
    this.name = "InvalidEvent";
    const listed = violations.slice(0, MAX_VIOLATIONS_LISTED);
    const attributes = [...new Set(listed.map((v) => v.attribute))];
    this.extensions = {
      attributes,
      errors: listed,
      ...(index === undefined ? {} : { index }),
    };
  }
}

/** The body is not what its media type says (e.g. broken JSON) (400). */
export class MalformedRequest extends HeraldError {
  static override readonly code = "malformed_request";
  readonly code = MalformedRequest.code;
  readonly status = 400;
  readonly title = "Malformed request";
  constructor(detail: string) {
    super(detail);
    this.name = "MalformedRequest";
  }
}

/** The request or one event is larger than the configured limit (413). */
export class PayloadTooLarge extends HeraldError {
  static override readonly code = "payload_too_large";
  readonly code = PayloadTooLarge.code;
  readonly status = 413;
  readonly title = "Payload too large";
  override readonly extensions: Readonly<Record<string, unknown>>;
  constructor(detail: string, limit: number, index?: number) {
    super(detail);
    this.name = "PayloadTooLarge";
    this.extensions = index === undefined ? { limit } : { limit, index };
  }
}

/** A batch holds more events than `limits.maxBatchEvents` (413). */
export class BatchTooLarge extends HeraldError {
  static override readonly code = "batch_too_large";
  readonly code = BatchTooLarge.code;
  readonly status = 413;
  readonly title = "Batch too large";
  override readonly extensions: Readonly<Record<string, unknown>>;
  constructor(count: number, limit: number) {
    super(`the batch holds ${count} events; the limit is ${limit}`);
    this.name = "BatchTooLarge";
    this.extensions = { limit, count };
  }
}

/** A structured or batch format Herald does not speak, or no usable media type (415). */
export class UnsupportedMediaType extends HeraldError {
  static override readonly code = "unsupported_media_type";
  readonly code = UnsupportedMediaType.code;
  readonly status = 415;
  readonly title = "Unsupported media type";
  override readonly headers: Readonly<Record<string, string>>;
  /**
   * `acceptPost`: the media types the endpoint takes (RFC 9110 15.5.16 suggests saying so);
   * `null` for a refusal that is not about the media type (a content coding).
   */
  constructor(
    detail: string,
    acceptPost:
      | string
      | null = "application/cloudevents+json, application/cloudevents-batch+json, */*",
    headers: Readonly<Record<string, string>> = {},
  ) {
    super(detail);
    this.name = "UnsupportedMediaType";
    this.headers = acceptPost === null ? headers : { "accept-post": acceptPost, ...headers };
  }
}

/** The method is not allowed on this path (405). */
export class MethodNotAllowed extends HeraldError {
  static override readonly code = "method_not_allowed";
  readonly code = MethodNotAllowed.code;
  readonly status = 405;
  readonly title = "Method not allowed";
  override readonly headers: Readonly<Record<string, string>>;
  constructor(method: string, allow: readonly string[]) {
    super(`${method} is not allowed here; use ${allow.join(", ")}`);
    this.name = "MethodNotAllowed";
    this.headers = { allow: allow.join(", ") };
  }
}

/** Nothing lives at this path (404). */
export class NotFound extends HeraldError {
  static override readonly code = "not_found";
  readonly code = NotFound.code;
  readonly status = 404;
  readonly title = "Not found";
  constructor(detail: string) {
    super(detail);
    this.name = "NotFound";
  }
}

/** The gateway cannot take the request now (shutting down, queue full) (503). */
export class Unavailable extends HeraldError {
  static override readonly code = "unavailable";
  readonly code = Unavailable.code;
  readonly status = 503;
  readonly title = "Service unavailable";
  override readonly headers: Readonly<Record<string, string>>;
  constructor(detail: string, retryAfterSeconds = 1) {
    super(detail);
    this.name = "Unavailable";
    this.headers = { "retry-after": String(retryAfterSeconds) };
  }
}

/** The request conflicts with the resource's state, e.g. changing a read-only subscription (409). */
export class Conflict extends HeraldError {
  static override readonly code = "conflict";
  readonly code = Conflict.code;
  readonly status = 409;
  readonly title = "Conflict";
  constructor(detail: string) {
    super(detail);
    this.name = "Conflict";
  }
}

/** The request's header section is larger than the server takes (431, RFC 6585 5). */
export class HeadersTooLarge extends HeraldError {
  static override readonly code = "headers_too_large";
  readonly code = HeadersTooLarge.code;
  readonly status = 431;
  readonly title = "Request header fields too large";
  constructor(detail: string) {
    super(detail);
    this.name = "HeadersTooLarge";
  }
}

/** The request did not arrive whole in time (408); the connection is closed. */
export class RequestTimeout extends HeraldError {
  static override readonly code = "request_timeout";
  readonly code = RequestTimeout.code;
  readonly status = 408;
  readonly title = "Request timeout";
  override readonly headers: Readonly<Record<string, string>> = { connection: "close" };
  constructor(detail: string) {
    super(detail);
    this.name = "RequestTimeout";
  }
}

/** Union of every coded error, to `switch (err.code)` on. */
export type HeraldErrorCode =
  | typeof InvalidEvent.code
  | typeof MalformedRequest.code
  | typeof PayloadTooLarge.code
  | typeof BatchTooLarge.code
  | typeof UnsupportedMediaType.code
  | typeof MethodNotAllowed.code
  | typeof NotFound.code
  | typeof Unavailable.code
  | typeof Conflict.code
  | typeof HeadersTooLarge.code
  | typeof RequestTimeout.code
  | "config_invalid"
  | "invalid_subscription";
