// RFC 3986 appendix A as character classes: what a URI may hold unencoded (`\w` is ALPHA, DIGIT
// and "_"), and pct-encoding.
const URI_CHARS = /^(?:[\w\-.~:/?#[\]@!$&'()*+,;=]|%[0-9A-Fa-f]{2})+$/;
const SCHEME = /^[A-Za-z][A-Za-z0-9+.-]*:/;

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
  // URI_CHARS wants one character at least: "" is no reference.
  return typeof value === "string" && URI_CHARS.test(value) && PARTS.test(value);
}

// A valid scheme or no colon before the first "/", "?" or "#"; after "//" an authority of
// [userinfo "@"] host [":" digits] (RFC 3986 3.2), square brackets only around its IP literal
// (3.2.2); one "#" at most (3.5).
const PARTS =
  /^([A-Za-z][A-Za-z0-9+.-]*:|(?![^/?#]*:))(\/\/([^/?#@[\]]*@)?(\[[0-9A-Za-z:.]+\]|[^/?#@:[\]]*)(:\d*)?(?![^/?#])|(?!\/\/))[^#[\]]*(#[^#[\]]*)?$/;

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
