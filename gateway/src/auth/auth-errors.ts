import { HeraldError } from "../errors/herald-error.js";

/**
 * Why a bearer token was refused; stable, for tests, logs and metrics (the `detail` says it in
 * words). Never derived from the token's bytes.
 */
export type InvalidTokenReason =
  | "malformed"
  | "too_large"
  | "algorithm_not_allowed"
  | "untrusted_issuer"
  | "unknown_key"
  | "bad_signature"
  | "expired"
  | "not_yet_valid"
  | "issued_in_future"
  | "wrong_audience"
  | "missing_claim";

// RFC 6750 section 3: error-description is limited to %x20-21 / %x23-5B / %x5D-7E, so no
// double quote or backslash; details are written without them, this is the safety net.
function quotable(text: string): string {
  return text.replaceAll('"', "'").replace(/[^\x20\x21\x23-\x5b\x5d-\x7e]/g, "?");
}

/**
 * A `WWW-Authenticate` value for a refused bearer request (RFC 6750 section 3), with `error` and
 * the description made safe to quote.
 *
 * @example
 * bearerChallenge("invalid_token", "the token has expired");
 * // 'Bearer error="invalid_token", error_description="the token has expired"'
 */
export function bearerChallenge(error: string, description: string): string {
  return `Bearer error="${error}", error_description="${quotable(description)}"`;
}

/**
 * The request carries no bearer token at all, or only credentials of another scheme (401). As
 * RFC 6750 section 3 asks, the challenge names the scheme and no error code.
 *
 * @example
 * throw new MissingToken(); // 401, WWW-Authenticate: Bearer
 */
export class MissingToken extends HeraldError {
  static override readonly code = "missing_token";
  readonly code = MissingToken.code;
  readonly status = 401;
  readonly title = "Unauthorized";
  override readonly headers: Readonly<Record<string, string>> = { "www-authenticate": "Bearer" };
  constructor() {
    super("the request carries no bearer token");
    this.name = "MissingToken";
  }
}

/**
 * A bearer token was presented and refused (401, RFC 6750 section 3.1 `invalid_token`). `detail`
 * is a short reason ("the token has expired"); it never holds the token, a claim value taken from
 * an unverified token, or a secret.
 *
 * @example
 * throw new Unauthorized("expired", "the token has expired");
 * // WWW-Authenticate: Bearer error="invalid_token", error_description="the token has expired"
 */
export class Unauthorized extends HeraldError {
  static override readonly code = "invalid_token";
  readonly code = Unauthorized.code;
  readonly status = 401;
  readonly title = "Unauthorized";
  override readonly headers: Readonly<Record<string, string>>;
  constructor(
    readonly reason: InvalidTokenReason,
    detail: string,
  ) {
    super(detail);
    this.name = "Unauthorized";
    this.headers = { "www-authenticate": bearerChallenge("invalid_token", detail) };
  }
}

/**
 * The request presents its bearer token in a malformed way, e.g. in both the `Authorization`
 * header and the `access_token` query parameter, which RFC 6750 section 2 forbids (400,
 * `invalid_request` per section 3.1).
 *
 * @example
 * throw new InvalidRequest("use either the Authorization header or access_token, not both");
 */
export class InvalidRequest extends HeraldError {
  static override readonly code = "invalid_request";
  readonly code = InvalidRequest.code;
  readonly status = 400;
  readonly title = "Invalid request";
  override readonly headers: Readonly<Record<string, string>>;
  constructor(detail: string) {
    super(detail);
    this.name = "InvalidRequest";
    this.headers = { "www-authenticate": bearerChallenge("invalid_request", detail) };
  }
}

/**
 * No signing keys of the token's issuer can be had at all (its JWKS URL fails and nothing was ever
 * fetched), so the token can be neither accepted nor blamed: 503 with `Retry-After`, not 401.
 *
 * @example
 * throw new KeysUnavailable(30); // 503, Retry-After: 30
 */
export class KeysUnavailable extends HeraldError {
  static override readonly code = "keys_unavailable";
  readonly code = KeysUnavailable.code;
  readonly status = 503;
  readonly title = "Service unavailable";
  override readonly headers: Readonly<Record<string, string>>;
  constructor(readonly retryAfterSeconds: number) {
    super("the signing keys of the token's issuer cannot be fetched now; try again later");
    this.name = "KeysUnavailable";
    this.headers = { "retry-after": String(Math.max(1, Math.ceil(retryAfterSeconds))) };
  }
}

/** Union of the codes of the authentication errors, to `switch (err.code)` on. */
export type AuthErrorCode =
  | typeof MissingToken.code
  | typeof Unauthorized.code
  | typeof InvalidRequest.code
  | typeof KeysUnavailable.code;
