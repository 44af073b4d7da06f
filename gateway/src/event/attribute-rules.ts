/**
 * Checks for the CloudEvents 1.0.2 type system ("Type System") and naming rules ("Attribute
 * Naming Convention"). Each returns `undefined` when the value is fine, or a short reason.
 */

/** Attribute names: lower-case ASCII letters and digits only (spec "Attribute Naming Convention"). */
export const ATTRIBUTE_NAME = /^[a-z0-9]+$/;

/** Names that are never context attributes: `data` is the payload (spec "Event Data"). */
export const RESERVED_NAMES: ReadonlySet<string> = new Set(["data", "data_base64"]);

export function checkName(name: string): string | undefined {
  if (!ATTRIBUTE_NAME.test(name))
    return "attribute names must be lower-case letters a-z and digits";
  if (RESERVED_NAMES.has(name)) return "is reserved for event data, not an attribute";
  return undefined;
}

// Control characters U+0000-U+001F and U+007F-U+009F, lone surrogates, and the noncharacters
// U+FDD0-U+FDEF and U+xFFFE/U+xFFFF are not allowed in a String (spec "Type System: String").
// biome-ignore lint/suspicious/noControlCharactersInRegex: these are exactly what the spec forbids
const FORBIDDEN_STRING_CHARS = /[\u0000-\u001f\u007f-\u009f\ufdd0-\ufdef\ufffe\uffff]/;
// biome-ignore lint/suspicious/noControlCharactersInRegex: these are exactly what the spec forbids
const CONTROL_CHAR = /[\u0000-\u001f\u007f-\u009f]/;
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
const ASTRAL_NONCHAR =
  /[\ud83f\ud87f\ud8bf\ud8ff\ud93f\ud97f\ud9bf\ud9ff\uda3f\uda7f\udabf\udaff\udb3f\udb7f\udbbf\udbff][\udffe\udfff]/;

/**
 * Any text made fit for a String attribute: each run of control characters (line breaks, tabs,
 * NUL...) becomes one space, and lone surrogates and noncharacters become U+FFFD. For text the
 * gateway did not write, such as a sink's error page in `heralderrordata`.
 *
 * @example
 * toStringAttribute("line1\r\nline2\u0000"); // "line1 line2 "
 */
export function toStringAttribute(text: string): string {
  return text
    .replace(CONTROL_RUNS, " ")
    .replace(LONE_SURROGATES, "\ufffd")
    .replace(NONCHARACTERS, "\ufffd")
    .replace(ASTRAL_NONCHARS, "\ufffd");
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: these are exactly what the spec forbids
const CONTROL_RUNS = /[\u0000-\u001f\u007f-\u009f]+/g;
const NONCHARACTERS = /[\ufdd0-\ufdef\ufffe\uffff]/g;
const LONE_SURROGATES = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;
const ASTRAL_NONCHARS = new RegExp(ASTRAL_NONCHAR.source, "g");

export function checkString(value: string): string | undefined {
  // One test for the common case; which message only once something is wrong.
  if (FORBIDDEN_STRING_CHARS.test(value)) {
    return CONTROL_CHAR.test(value)
      ? "must not contain control characters"
      : "must not contain Unicode noncharacters";
  }
  if (LONE_SURROGATE.test(value)) return "must not contain unpaired surrogates";
  if (ASTRAL_NONCHAR.test(value)) return "must not contain Unicode noncharacters";
  return undefined;
}

// RFC 3986 appendix A, as character classes: the characters a URI may contain, and pct-encoding.
const URI_CHARS = /^(?:[A-Za-z0-9\-._~:/?#[\]@!$&'()*+,;=]|%[0-9A-Fa-f]{2})*$/;
const SCHEME = /^[A-Za-z][A-Za-z0-9+.-]*$/;

/**
 * URI-reference (RFC 3986 4.1): a URI or a relative reference. A relative reference whose first
 * path segment holds a colon would be read as a scheme, so that must be a valid scheme.
 */
export function checkUriReference(value: string): string | undefined {
  if (!URI_CHARS.test(value)) return "must be a URI-reference (RFC 3986); encode other characters";
  const colon = value.indexOf(":");
  if (colon !== -1) {
    const firstDelim = value.search(/[/?#]/);
    if (firstDelim === -1 || colon < firstDelim) {
      if (!SCHEME.test(value.slice(0, colon))) return "has an invalid URI scheme";
    }
  }
  return checkBrackets(value) ?? checkParts(value);
}

/** URI (RFC 3986 4.3 absolute-URI plus an optional fragment, as the spec's "URI" type allows). */
export function checkAbsoluteUri(value: string): string | undefined {
  if (!URI_CHARS.test(value)) return "must be an absolute URI (RFC 3986); encode other characters";
  const colon = value.indexOf(":");
  if (colon <= 0 || !SCHEME.test(value.slice(0, colon))) {
    return "must be an absolute URI with a scheme (RFC 3986 4.3)";
  }
  return checkBrackets(value) ?? checkParts(value);
}

// Square brackets appear only around an IP literal in the authority (RFC 3986 3.2.2).
const IP_LITERAL_URI =
  /^(?:[A-Za-z][A-Za-z0-9+.-]*:)?\/\/(?:[^@/?#[\]]*@)?\[[0-9A-Za-z:.]+\](?::\d*)?(?:[/?#][^[\]]*)?$/;

function checkBrackets(value: string): string | undefined {
  if (!value.includes("[") && !value.includes("]")) return undefined;
  return IP_LITERAL_URI.test(value) ? undefined : "uses square brackets outside an IP literal";
}

// RFC 3986 3.2: authority = [ userinfo "@" ] host [ ":" port ]. Userinfo holds no "@", a
// reg-name or IPv4 host no ":" (only an IP literal does, checked by `checkBrackets`), and a
// port is digits only.
const AUTHORITY = /^(?:[^@]*@)?(?:\[[^\]]*\]|[^@:[\]]*)(?::\d*)?$/;
// A scheme and its colon (RFC 3986 3.1).
const SCHEME_PREFIX = /^[A-Za-z][A-Za-z0-9+.-]*:/;

/**
 * What the character classes cannot see (RFC 3986 3): a fragment holds no second "#" (3.5),
 * and an authority, after "//", is `[userinfo@]host[:port]` (3.2): `http://a:b/` (a port that is
 * no number), `http://a@b@c/` and `http://a:1:2/` are no URIs, though each character is allowed.
 */
function checkParts(value: string): string | undefined {
  const hash = value.indexOf("#");
  if (hash !== -1 && value.includes("#", hash + 1)) {
    return "holds a second # (a fragment cannot contain #: encode it as %23, RFC 3986 3.5)";
  }
  // The scheme's characters include no "/", "?" or "#": a match is always a scheme.
  const scheme = SCHEME_PREFIX.exec(value)?.[0];
  const rest = scheme === undefined ? value : value.slice(scheme.length);
  if (!rest.startsWith("//")) return undefined;
  const end = rest.slice(2).search(/[/?#]/);
  const authority = end === -1 ? rest.slice(2) : rest.slice(2, end + 2);
  return AUTHORITY.test(authority)
    ? undefined
    : "has an invalid authority: [user@]host[:port], one @ at most and a port of digits only (RFC 3986 3.2)";
}

const RFC3339 =
  /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|([+-])(\d{2}):(\d{2}))$/;

/** Timestamp (RFC 3339 5.6 date-time), with calendar ranges checked (leap years, leap second). */
export function checkTimestamp(value: string): string | undefined {
  const m = RFC3339.exec(value);
  if (!m) return "must be an RFC 3339 timestamp such as 2018-04-05T17:31:00Z";
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number) as number[];
  const offH = m[10] === undefined ? 0 : Number(m[10]);
  const offM = m[11] === undefined ? 0 : Number(m[11]);
  if (
    month! < 1 ||
    month! > 12 ||
    day! < 1 ||
    day! > daysInMonth(year!, month!) ||
    hour! > 23 ||
    minute! > 59 ||
    second! > 60 ||
    offH > 23 ||
    offM > 59
  ) {
    return "is not a valid RFC 3339 date-time (a field is out of range)";
  }
  if (second === 60) {
    // RFC 3339 5.7: a leap second is the last second of a UTC day, 23:59:60Z, which local time
    // writes with its offset (1990-12-31T15:59:60-08:00); at any other minute :60 is no time.
    const offset = (m[9] === "-" ? -1 : 1) * (offH * 60 + offM);
    const utcMinute =
      (((hour! * 60 + minute! - offset) % MINUTES_PER_DAY) + MINUTES_PER_DAY) % MINUTES_PER_DAY;
    if (utcMinute !== MINUTES_PER_DAY - 1) {
      return "has second 60, which only a leap second at 23:59:60 UTC has (RFC 3339 5.7)";
    }
  }
  return undefined;
}

const MINUTES_PER_DAY = 24 * 60;

function daysInMonth(year: number, month: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}

/** Integer: a whole number in the signed 32-bit range (spec "Type System: Integer"). */
export function checkInteger(value: number): string | undefined {
  if (!Number.isInteger(value)) return "must be an integer";
  if (value < -2_147_483_648 || value > 2_147_483_647) return "is outside the 32-bit Integer range";
  return undefined;
}
