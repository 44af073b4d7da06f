// RFC 9110 5.6.2 token, and 5.6.4 quoted-string without obs-text (a header value is ASCII here).
// Written out in full each time, not built from parts: the bundle stays a literal, which gzip
// reads as repeats of one text.

/** One `; name=value` parameter: a quoted value is taken whole, `;` inside it included. */
const PARAMETER =
  /;[ \t]*([!#$%&'*+.^_`|~0-9A-Za-z-]+)=([!#$%&'*+.^_`|~0-9A-Za-z-]+|"([\t !#-[\]-~]|\\[\t -~])*")/g;

/**
 * `type/subtype` tokens (RFC 9110 8.3.1), and what is left of a media type once its parameters
 * are taken out: spaces, tabs and the `;` of empty parameters. Each `;` left over began no
 * parameter (`text/plain; a`), and any other character was not within one.
 */
const ESSENCE = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+\/[!#$%&'*+.^_`|~0-9A-Za-z-]+[ \t;]*$/;

/**
 * Whether `value` is a media type that a `datacontenttype` (CloudEvents 1.0.2: "MUST adhere to
 * the format specified in RFC 2046") and an HTTP `Content-Type` can carry.
 *
 * @example
 * isMediaType("text/plain; charset=utf-8"); // true
 * isMediaType("text plain"); // false
 */
export function isMediaType(value: unknown): value is string {
  // Each parameter becomes a ";": `text/plain; a="b"c` leaves `text/plain;c`, not `text/plainc`.
  return typeof value === "string" && ESSENCE.test(value.replace(PARAMETER, ";"));
}

/**
 * The parameters of a media type in order, names lower case, quoted values unquoted (RFC 9110
 * 5.6.4). A quoted value is read whole: `x="a;charset=latin1"` gives no charset.
 *
 * @example
 * parametersOf('text/plain; Charset="UTF-8"; x="a;b"'); // [["charset", "UTF-8"], ["x", "a;b"]]
 */
export function parametersOf(contentType: string): [name: string, value: string][] {
  return [...contentType.matchAll(PARAMETER)].map(([, name, value]) => [
    name!.toLowerCase(),
    value!.startsWith('"') ? value!.slice(1, -1).replace(/\\(.)/g, "$1") : value!,
  ]);
}

/**
 * The first parameter name (lower case) a media type gives more than once, or `undefined`
 * (RFC 6838 4.3: "It is an error for a specific parameter to be specified more than once").
 *
 * @example
 * repeatedParameter("text/plain; charset=latin1; CHARSET=utf-8"); // "charset"
 */
export function repeatedParameter(contentType: string): string | undefined {
  // One pass with a set: looking each name up among the others (indexOf) was quadratic, seconds
  // for a received datacontenttype of tens of thousands of parameters. Receive-only: no bytes in
  // a producer bundle.
  const seen = new Set<string>();
  for (const [name] of parametersOf(contentType)) {
    if (seen.has(name)) return name;
    seen.add(name);
  }
  return undefined;
}

/**
 * The `charset` parameter of a media type (RFC 9110 8.3.1), lower case, quotes removed;
 * `undefined` when there is none.
 *
 * @example
 * charsetOf('text/plain; charset="ISO-8859-1"'); // "iso-8859-1"
 */
export function charsetOf(contentType: string | undefined): string | undefined {
  return parametersOf(contentType ?? "")
    .find(([name]) => name === "charset")?.[1]
    .toLowerCase();
}

/**
 * A media type that declares JSON: without its parameters, a subtype `json` or one ending in
 * `+json` (JSON format 3.1.1: `*\/json`, `*\/*+json`), whatever the type (`model/gltf+json`).
 */
export const JSON_TYPE = /^[^;]*[/+]json\s*(;|$)/i;
