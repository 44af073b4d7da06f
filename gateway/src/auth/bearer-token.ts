import { DEFAULT_MAX_TOKEN_BYTES } from "../config/auth-config.js";
import { InvalidRequest, MissingToken, Unauthorized } from "./auth-errors.js";

/** Where a request may carry its bearer token, independent of how the runtime represents it. */
export interface BearerCarrier {
  /** The `Authorization` header, repeats joined with ", " (RFC 9110 5.3), if there is one. */
  readonly authorization?: string | undefined;
  /** The request URL, absolute or origin-form (`/events?access_token=...`), for the query. */
  readonly url?: string | undefined;
}

/** Options of `extractBearerToken`. */
export interface BearerTokenOptions {
  /** Refuse longer tokens before any parsing; default `DEFAULT_MAX_TOKEN_BYTES`. */
  readonly maxTokenBytes?: number;
}

// RFC 6750 section 2.1: credentials = "Bearer" 1*SP b64token.
const B64TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/;
const BEARER = "bearer";

/**
 * The bearer token of a request, from `Authorization: Bearer <token>` (scheme case-insensitive,
 * RFC 6750 section 2.1) or the `access_token` query parameter (section 2.3), which CloudEvents
 * webhook targets must accept (http-webhook.md section 3.2). Throws `MissingToken` when there is
 * none (credentials of another scheme count as none), `InvalidRequest` when both methods are used
 * (section 2: a client MUST NOT use more than one), the header is repeated (a Bearer credential
 * after a comma: section 3.1, "repeats the same parameter") or is malformed, `Unauthorized`
 * when the token is longer than `maxTokenBytes`. The token is not verified here.
 *
 * @example
 * const token = extractBearerToken({ authorization: "Bearer eyJ...", url: "/events" });
 */
export function extractBearerToken(
  carrier: BearerCarrier,
  options: BearerTokenOptions = {},
): string {
  const { maxTokenBytes = DEFAULT_MAX_TOKEN_BYTES } = options;
  const fromHeader = headerToken(carrier.authorization, maxTokenBytes);
  const fromQuery = queryToken(carrier.url, maxTokenBytes);
  if (fromHeader !== undefined && fromQuery !== undefined) {
    throw new InvalidRequest(
      "the token is in both the Authorization header and the access_token query parameter; use one",
    );
  }
  const token = fromHeader ?? fromQuery;
  if (token === undefined) throw new MissingToken();
  return token;
}

/**
 * `extractBearerToken` over a Web `Request`.
 *
 * @example
 * const token = requestBearerToken(request);
 */
export function requestBearerToken(request: Request, options: BearerTokenOptions = {}): string {
  return extractBearerToken(
    { authorization: request.headers.get("authorization") ?? undefined, url: request.url },
    options,
  );
}

/**
 * Headers for a success answer to a request sent to `url`: `Cache-Control: private` when the URL
 * carries an `access_token` query parameter, as http-webhook.md 3.2 (after RFC 6750 2.3) asks of
 * a target, since the URL holds a credential; none otherwise.
 *
 * @example
 * successHeaders("/events?access_token=eyJ...") // { "cache-control": "private" }
 * successHeaders("/events")                     // {}
 */
export function successHeaders(url: string): Readonly<Record<string, string>> {
  return queryTokens(url).length > 0 ? PRIVATE : NO_HEADERS;
}

/**
 * The `access_token` query parameter's values in `url` (usually none: the query is parsed only
 * when its text names the parameter).
 */
function queryTokens(url: string): string[] {
  const start = url.indexOf("?");
  if (start === -1 || !url.includes("access_token", start)) return [];
  const hash = url.indexOf("#", start);
  return new URLSearchParams(url.slice(start + 1, hash === -1 ? undefined : hash)).getAll(
    "access_token",
  );
}

const NO_HEADERS: Readonly<Record<string, string>> = Object.freeze({});
const PRIVATE: Readonly<Record<string, string>> = Object.freeze({ "cache-control": "private" });

function tooLarge(maxTokenBytes: number): Unauthorized {
  return new Unauthorized("too_large", `the token is larger than ${maxTokenBytes} bytes`);
}

// A Bearer credential after a comma: the header was sent more than once (the repeats arrive joined
// with ", ", RFC 9110 5.3), or lists several credentials; a b64token never holds a comma.
const LATER_BEARER = /,\s*bearer(\s|$)/i;

function headerToken(value: string | undefined, maxTokenBytes: number): string | undefined {
  if (value === undefined) return undefined;
  const trimmed = value.trim();
  const space = trimmed.search(/\s/);
  const scheme = space === -1 ? trimmed : trimmed.slice(0, space);
  const bearer = scheme.length === BEARER.length && scheme.toLowerCase() === BEARER;
  // RFC 6750 2.1 separates the scheme from the token with spaces only: a tab there is a
  // malformed request a producer can fix, not a missing token.
  if (bearer && space !== -1 && trimmed[space] !== " ") {
    throw new InvalidRequest("separate Bearer from the token with a space, not a tab");
  }
  // Another scheme (Basic, ...) is no bearer token: RFC 6750 section 3 answers it like none.
  if (!bearer && !LATER_BEARER.test(trimmed)) return undefined;
  const token = space === -1 ? "" : trimmed.slice(space + 1).trimStart();
  // RFC 6750 3.1: a request that "repeats the same parameter" is invalid_request (400), whichever
  // of the credentials is good: none of them is picked.
  if (!bearer || token.includes(",")) {
    throw new InvalidRequest(
      "the Authorization header is sent more than once or holds several credentials; send one",
    );
  }
  if (token.length > maxTokenBytes) throw tooLarge(maxTokenBytes);
  if (token === "") throw new InvalidRequest("the Authorization header names Bearer but no token");
  // A token with characters a bearer token cannot have is a malformed token: 401 invalid_token
  // (RFC 6750 3.1), like any other garbage, rather than a malformed request.
  if (!B64TOKEN.test(token)) throw new Unauthorized("malformed", "the token is malformed");
  return token;
}

function queryToken(url: string | undefined, maxTokenBytes: number): string | undefined {
  if (url === undefined) return undefined;
  const [token, ...more] = queryTokens(url);
  if (token === undefined) return undefined;
  if (more.length > 0) throw new InvalidRequest("the access_token query parameter is repeated");
  if (token.length > maxTokenBytes) throw tooLarge(maxTokenBytes);
  if (token === "") throw new InvalidRequest("the access_token query parameter is empty");
  return token;
}
