/** RFC 9110 5.6.2: a field name is a `token` (visible ASCII except delimiters). */
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
/**
 * RFC 9110 5.5 field value, minus obs-text: visible ASCII, space and tab. The deliverer also lets
 * bytes 0x80-0xff through (obs-text), but a JavaScript string holds UTF-16 code units, not bytes,
 * and what `fetch` makes of a non-ASCII one differs between runtimes; so a config keeps to ASCII.
 */
const FIELD_VALUE = /^[\t\x20-\x7e]*$/;

/**
 * True when `name` may be an HTTP header name (RFC 9110 5.1: a `token`).
 *
 * @example
 * isHttpFieldName("x-team"); // true
 * isHttpFieldName("x team"); // false: space is a delimiter
 */
export function isHttpFieldName(name: string): boolean {
  return TOKEN.test(name);
}

/**
 * True when `value` is a header value every delivery can send unchanged: printable ASCII, space
 * and tab only (RFC 9110 5.5). Everything the deliverer's own check accepts after trimming, minus
 * obs-text; in particular never CR, LF or NUL (header injection).
 *
 * @example
 * isPrintableFieldValue("Bearer abc"); // true
 * isPrintableFieldValue("a\r\nInjected: yes"); // false
 * isPrintableFieldValue("café"); // false: percent-encode it
 */
export function isPrintableFieldValue(value: string): boolean {
  return FIELD_VALUE.test(value);
}
