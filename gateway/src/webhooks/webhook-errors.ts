import { HeraldError } from "../errors/herald-error.js";

/** One thing a foreign payload lacks or gets wrong: where (a field path or header) and what. */
export interface PayloadProblem {
  /** A dotted field path (`Records[0].s3.bucket.name`), a JSON Pointer, or `header X-GitHub-Event`. */
  readonly field: string;
  readonly message: string;
}

/**
 * A webhook payload the adapter cannot turn into CloudEvents: a field the adapter document maps
 * from is missing or has the wrong type, or the provider event is not one the adapter knows (400).
 * `errors` names every problem, so the sender learns what is missing: the first ones of a payload
 * with very many (`total` counts them all, and the detail says how many more there are).
 *
 * @example
 * throw new InvalidPayload("s3", [{ field: "Records[0].awsRegion", message: "is missing" }]);
 */
export class InvalidPayload extends HeraldError {
  static override readonly code = "invalid_payload";
  readonly code = InvalidPayload.code;
  readonly status = 400;
  readonly title = "Invalid webhook payload";
  override readonly extensions: Readonly<Record<string, unknown>>;
  constructor(
    kind: string,
    readonly problems: readonly PayloadProblem[],
    total = problems.length,
  ) {
    const shown = problems.slice(0, 5).map((p) => `${p.field} ${p.message}`);
    const more = total > shown.length ? ` (and ${total - shown.length} more)` : "";
    super(`the ${kind} payload cannot be normalised: ${shown.join("; ")}${more}`);
    this.name = "InvalidPayload";
    this.extensions = { errors: problems };
  }
}

/**
 * The webhook's own authentication failed: a missing or wrong HMAC signature, token or SNS
 * message signature (401). The detail says which header or check failed, never the secret or the
 * expected value.
 *
 * @example
 * throw new InvalidSignature("X-Hub-Signature-256", "the signature does not match the body");
 */
export class InvalidSignature extends HeraldError {
  static override readonly code = "invalid_signature";
  readonly code = InvalidSignature.code;
  readonly status = 401;
  readonly title = "Unauthorized";
  override readonly headers: Readonly<Record<string, string>>;
  constructor(scheme: string, detail: string) {
    super(detail);
    this.name = "InvalidSignature";
    // RFC 9110 11.6.1: a 401 carries a challenge; it names the header the provider must send.
    this.headers = { "www-authenticate": `Webhook header="${scheme}"` };
  }
}

/** Union of the webhook error codes, to `switch (err.code)` on. */
export type WebhookErrorCode = typeof InvalidPayload.code | typeof InvalidSignature.code;
