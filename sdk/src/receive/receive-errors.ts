import { HeraldError } from "../errors.js";

/** The sink expects signed requests and this one has no `webhook-id`/`-timestamp`/`-signature` (401). */
export class SignatureMissing extends HeraldError {
  static override readonly code = "missing_signature";
  declare readonly code: typeof SignatureMissing.code;
  constructor(message: string) {
    super(message, { status: 401 });
  }
}

/** No signature matches any of the sink's secrets: tampered, or signed with another secret (401). */
export class SignatureInvalid extends HeraldError {
  static override readonly code = "invalid_signature";
  declare readonly code: typeof SignatureInvalid.code;
  constructor(message: string) {
    super(message, { status: 401 });
  }
}

/** `webhook-timestamp` is outside the tolerance: a replay, or a clock far off (401). */
export class SignatureStale extends HeraldError {
  static override readonly code = "stale_signature";
  declare readonly code: typeof SignatureStale.code;
  constructor(message: string) {
    super(message, { status: 401 });
  }
}

/** The request is not a CloudEvent in the expected mode: bad JSON, missing attributes (400). */
export class MalformedMessage extends HeraldError {
  static override readonly code = "malformed_message";
  declare readonly code: typeof MalformedMessage.code;
  constructor(message: string) {
    super(message, { status: 400 });
  }
}

/**
 * A batch given to `receive` (use `receiveBatch`), a format other than JSON, or a charset not
 * read here (415: the format is not understood, HTTP webhook 2.2).
 */
export class UnsupportedMode extends HeraldError {
  static override readonly code = "unsupported_mode";
  declare readonly code: typeof UnsupportedMode.code;
  constructor(message: string) {
    super(message, { status: 415 });
  }
}

/** The request body is larger than `ReceiveOptions.maxBytes`: not read further (413). */
export class MessageTooLarge extends HeraldError {
  static override readonly code = "message_too_large";
  declare readonly code: typeof MessageTooLarge.code;
  constructor(message: string) {
    super(message, { status: 413 });
  }
}

/**
 * `text` as a message shows the sender's text: at most 100 characters, then how long it was. A
 * body of up to `maxBytes` can hold an attribute name, a `specversion` or a `datacontenttype`
 * of megabytes, which the problem document's `detail` and a sink's log line would repeat whole.
 *
 * @example
 * shorten("x".repeat(5_000_000)); // "xxx…x… (5000000 characters)"
 */
export function shorten(text: string): string {
  return text.length <= 100 ? text : `${text.slice(0, 100)}… (${text.length} characters)`;
}
