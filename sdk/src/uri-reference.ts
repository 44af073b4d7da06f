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
 * a valid scheme when there is one, and square brackets only around an IP literal.
 *
 * @example
 * isUriReference("/images"); // true
 * isUriReference("/café"); // false: "/caf%C3%A9"
 */
export function isUriReference(value: unknown): value is string {
  if (typeof value !== "string" || value === "" || !URI_CHARS.test(value)) return false;
  if (SCHEME_PREFIX.test(value) && !SCHEME.test(value)) return false;
  return !/[[\]]/.test(value) || IP_LITERAL_URI.test(value);
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
