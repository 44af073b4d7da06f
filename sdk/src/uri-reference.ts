// RFC 3986 appendix A as character classes: what a URI may hold unencoded, and pct-encoding.
const URI_CHARS = /^(?:[A-Za-z0-9\-._~:/?#[\]@!$&'()*+,;=]|%[0-9A-Fa-f]{2})*$/;
// A colon before the first "/", "?" or "#" ends a scheme (a relative reference cannot have one).
const SCHEME_PREFIX = /^[^/?#]*:/;
const SCHEME = /^[A-Za-z][A-Za-z0-9+.-]*:/;
// Square brackets appear only around an IP literal in the authority (RFC 3986 3.2.2).
const IP_LITERAL_URI =
  /^(?:[A-Za-z][A-Za-z0-9+.-]*:)?\/\/(?:[^@/?#[\]]*@)?\[[0-9A-Za-z:.]+\](?::\d*)?(?:[/?#][^[\]]*)?$/;

/**
 * Whether `value` is a non-empty URI-reference (RFC 3986 4.1), by the gateway's rules: only the
 * characters RFC 3986 allows unencoded (no spaces, controls or non-ASCII: percent-encode them),
 * a valid scheme when there is one, square brackets only around an IP literal, one `#` at most,
 * and an authority of `[user@]host[:port]` (one `@`, a port of digits).
 *
 * @example
 * isUriReference("/images"); // true
 * isUriReference("/café"); // false: "/caf%C3%A9"
 */
export function isUriReference(value: unknown): value is string {
  if (typeof value !== "string" || value === "" || !URI_CHARS.test(value)) return false;
  if (SCHEME_PREFIX.test(value) && !SCHEME.test(value)) return false;
  if (/[[\]]/.test(value) && !IP_LITERAL_URI.test(value)) return false;
  return hasValidParts(value);
}

// RFC 3986 3.2: authority = [ userinfo "@" ] host [ ":" port ]; one "@" at most, no ":" in a
// reg-name or IPv4 host (an IP literal is checked above), a port of digits only.
const AUTHORITY = /^(?:[^@]*@)?(?:\[[^\]]*\]|[^@:[\]]*)(?::\d*)?$/;

/** No second "#" (a fragment holds none, RFC 3986 3.5), and a well-formed authority after "//". */
function hasValidParts(value: string): boolean {
  const hash = value.indexOf("#");
  if (hash !== -1 && value.includes("#", hash + 1)) return false;
  // A scheme's characters include no "/", "?" or "#": a match is always the scheme.
  const scheme = SCHEME.exec(value)?.[0];
  const rest = scheme === undefined ? value : value.slice(scheme.length);
  if (!rest.startsWith("//")) return true;
  const end = rest.slice(2).search(/[/?#]/);
  return AUTHORITY.test(end === -1 ? rest.slice(2) : rest.slice(2, end + 2));
}

/**
 * Whether `value` is an absolute URI (RFC 3986 4.3: a URI-reference with a scheme), the type of
 * `dataschema`; the gateway refuses a relative one.
 *
 * @example
 * isAbsoluteUri("https://schemas.example.com/order.json"); // true
 * isAbsoluteUri("schemas/order.json"); // false
 */
export function isAbsoluteUri(value: unknown): value is string {
  return isUriReference(value) && SCHEME.test(value);
}
