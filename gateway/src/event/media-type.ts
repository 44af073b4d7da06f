/** A parsed `Content-Type` (RFC 9110 8.3.1): lower-cased `type/subtype` and parameters. */
export interface MediaType {
  /** `type/subtype`, lower-cased (media types compare case-insensitively). */
  readonly essence: string;
  /** Parameter names lower-cased; values unquoted, case kept. */
  readonly params: ReadonlyMap<string, string>;
}

/** The parameters of every media type that has none (read-only, so one map serves them all). */
const NO_PARAMS: ReadonlyMap<string, string> = new Map();

/**
 * Parses a `Content-Type` header value. Returns `undefined` for a value without a `type/subtype`.
 *
 * @example
 * parseMediaType("Application/CloudEvents+JSON; charset=UTF-8")
 * // => { essence: "application/cloudevents+json", params: Map { "charset" => "UTF-8" } }
 */
export function parseMediaType(value: string | null | undefined): MediaType | undefined {
  if (!value) return undefined;
  const semi = value.indexOf(";");
  const essence = (semi === -1 ? value : value.slice(0, semi)).trim().toLowerCase();
  const slash = essence.indexOf("/");
  if (slash <= 0 || slash === essence.length - 1) return undefined;
  if (semi === -1) return { essence, params: NO_PARAMS };
  const params = new Map<string, string>();
  for (const part of splitParameters(value, semi + 1)) {
    const eq = part.indexOf("=");
    if (eq <= 0) continue;
    const name = part.slice(0, eq).trim().toLowerCase();
    let param = part.slice(eq + 1).trim();
    if (param.length >= 2 && param.startsWith('"') && param.endsWith('"')) {
      param = param.slice(1, -1).replace(/\\(.)/g, "$1");
    }
    if (name) params.set(name, param);
  }
  return { essence, params };
}

/**
 * The `;`-separated parameters from `start` on, a `;` inside a quoted value (`x="a;b"`) kept in
 * its value: split naively, `x="a;charset=latin1"` read as a charset parameter of its own.
 */
function splitParameters(value: string, start: number): string[] {
  const parts: string[] = [];
  let from = start;
  let quoted = false;
  for (let i = start; i < value.length; i++) {
    const c = value[i];
    if (quoted && c === "\\") i++;
    else if (c === '"') quoted = !quoted;
    else if (c === ";" && !quoted) {
      parts.push(value.slice(from, i));
      from = i + 1;
    }
  }
  parts.push(value.slice(from));
  return parts;
}

/**
 * The first parameter name (lower-cased) given more than once in a media type, or `undefined`.
 * RFC 6838 4.3: "It is an error for a specific parameter to be specified more than once", and
 * readers disagree on which one counts (WHATWG MIME sniffing and Herald's `charsetParameter` take
 * the first, others the last), so `text/plain; charset=iso-8859-1; charset=utf-8` would be
 * written in one charset and read in the other.
 *
 * @example
 * repeatedParameter("text/plain; charset=latin1; CHARSET=utf-8") // => "charset"
 * repeatedParameter('text/plain; x="a; x=b"')                    // => undefined
 */
export function repeatedParameter(value: string): string | undefined {
  const semi = value.indexOf(";");
  if (semi === -1) return undefined;
  const seen = new Set<string>();
  for (const part of splitParameters(value, semi + 1)) {
    const eq = part.indexOf("=");
    if (eq <= 0) continue;
    const name = part.slice(0, eq).trim().toLowerCase();
    if (seen.has(name)) return name;
    seen.add(name);
  }
  return undefined;
}

/**
 * True for media types that declare JSON content: subtype `json` or a `+json` suffix
 * (JSON event format 3.1.1: `*\/json` or `*\/*+json`).
 */
export function isJsonEssence(essence: string): boolean {
  return essence.endsWith("/json") || essence.endsWith("+json");
}

const TOKEN = "[!#$%&'*+.^_`|~0-9A-Za-z-]+";
const QUOTED = '"(?:[\\t\\x20\\x21\\x23-\\x5b\\x5d-\\x7e]|\\\\[\\t\\x20-\\x7e])*"';
// The whitespace after a `;` belongs to the parameter that follows it, never to the next `;`:
// with `;[ \t]*` and `[ \t]*;` both able to take the spaces between two `;`, each run of empty
// parameters could be split two ways, and a value that fails at its end (`a/b;   ;   ...@`)
// tried every split: exponential, so a 150-byte Content-Type held the event loop for good.
const MEDIA_TYPE = new RegExp(
  `^${TOKEN}/${TOKEN}(?:[ \\t]*;(?:[ \\t]*${TOKEN}=(?:${TOKEN}|${QUOTED}))?)*[ \\t]*$`,
);

/**
 * True for a syntactically valid media type (RFC 9110 8.3.1: `type/subtype` tokens, then
 * `; name=value` parameters with token or quoted-string values), which is what a
 * `datacontenttype` must be (HTTP binding 2.1) to go out again as a `Content-Type` header.
 *
 * @example
 * isMediaType("text/plain; charset=utf-8") // => true
 * isMediaType("text / plain")              // => false
 */
export function isMediaType(value: string): boolean {
  return MEDIA_TYPE.test(value);
}

/**
 * Why a `Content-Type` holding a comma outside a quoted string is refused, in words true on
 * every transport: a repeated header arrives joined with ", " (RFC 9110 5.3; Fetch `Headers`
 * join it, and on Workers nothing tells a repeat from one line listing two types), and
 * `Content-Type` is a single media type (RFC 9110 8.3).
 */
export const MEDIA_TYPE_LIST =
  'Content-Type is repeated or lists several media types (repeats arrive joined with ", "); ' +
  "send it once, with one media type (RFC 9110 5.3, 8.3)";

/**
 * True when a `Content-Type` value holds a comma outside a quoted string: more than one media
 * type, such as a repeated header joined. A comma is allowed only inside a quoted parameter
 * value (`text/plain; x="a, b"`), so such a value is never a valid media type.
 *
 * @example
 * listsMediaTypes("text/plain, application/json") // => true
 * listsMediaTypes('text/plain; x="a, b"')          // => false
 */
export function listsMediaTypes(value: string): boolean {
  if (!value.includes(",")) return false;
  let quoted = false;
  for (let i = 0; i < value.length; i++) {
    const c = value[i];
    if (quoted && c === "\\") i++;
    else if (c === '"') quoted = !quoted;
    else if (c === "," && !quoted) return true;
  }
  return false;
}
