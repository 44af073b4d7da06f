import type { FieldPath } from "./field-path.js";
import { hasUserinfo, isAbsoluteHttpUrl } from "./http-url.js";
import { parseDuration } from "./parse-duration.js";
import type { Report } from "./report.js";

/** A parsed JSON object or YAML mapping. */
export type RawObject = Readonly<Record<string, unknown>>;

/** Checks one value at `path`; returns it typed and normalised, or reports and returns `undefined`. */
export type Check<T> = (value: unknown, path: FieldPath, report: Report) => T | undefined;

/**
 * True for what a JSON object or YAML mapping becomes: a plain object, not an array, `null` or a
 * class instance (a `Date`, a `Set`).
 */
export function isRawObject(value: unknown): value is RawObject {
  if (typeof value !== "object" || value === null) return false;
  const prototype: unknown = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}

/**
 * Absent and `null` are the same for optional fields: in YAML, `delivery:` with everything below
 * it commented out is `null`, and in JSON `null` is the usual way to say "not set".
 */
export function isAbsent(value: unknown): value is undefined | null {
  return value === undefined || value === null;
}

/**
 * Runs `check` on a value that must be there; reports `is required` when it is absent.
 *
 * @example
 * const sink = required(raw.sink, [...path, "sink"], report, expectHttpUrl);
 */
export function required<T>(
  value: unknown,
  path: FieldPath,
  report: Report,
  check: Check<T>,
): T | undefined {
  if (!isAbsent(value)) return check(value, path, report);
  report(path, "is required");
  return undefined;
}

/**
 * Runs `check` on a value that may be absent; `undefined` when it is absent (or invalid).
 *
 * @example
 * const source = optional(raw.source, [...path, "source"], report, expectString);
 */
export function optional<T>(
  value: unknown,
  path: FieldPath,
  report: Report,
  check: Check<T>,
): T | undefined {
  return isAbsent(value) ? undefined : check(value, path, report);
}

/**
 * An object, or a report `must be an object`.
 *
 * @example
 * const listen = expectObject(raw.listen, ["listen"], report);
 */
export function expectObject(
  value: unknown,
  path: FieldPath,
  report: Report,
): RawObject | undefined {
  if (isRawObject(value)) return value;
  report(path, "must be an object");
  return undefined;
}

/**
 * Reports every key of `object` that is not in `allowed`, pointing at the key: a misspelt key
 * would otherwise be silently ignored and its setting silently defaulted.
 *
 * @example
 * rejectUnknownKeys(listen, ["host", "port"], ["listen"], report);
 */
export function rejectUnknownKeys(
  object: RawObject,
  allowed: readonly string[],
  path: FieldPath,
  report: Report,
): void {
  for (const key of Object.keys(object)) {
    if (allowed.includes(key)) continue;
    // A YAML 1.1 merge key, which YAML 1.2 (what Herald reads) does not have: said as such,
    // rather than as a misspelling the list of keys cannot help with.
    const message =
      key === "<<"
        ? "YAML merge keys (<<: *name) are not supported; write the keys out (an alias, *name, can stand for a whole value)"
        : `unknown key; expected one of: ${allowed.join(", ")}`;
    report([...path, key], message, { at: "key" });
  }
}

/**
 * A non-empty string.
 *
 * @example
 * const host = expectString(raw.host, ["listen", "host"], report);
 */
export function expectString(value: unknown, path: FieldPath, report: Report): string | undefined {
  if (typeof value === "string" && value !== "") return value;
  report(path, typeof value === "string" ? "must not be empty" : notAString(value));
  return undefined;
}

/**
 * The message for a value that should have been a string. Naming what it is instead helps in
 * YAML, where `version: 2` or `enabled: true` is not a string until it is quoted.
 *
 * @example
 * notAString(2); // "must be a string, not a number"
 */
export function notAString(value: unknown): string {
  if (typeof value === "number" || typeof value === "boolean") {
    return `must be a string, not a ${typeof value}`;
  }
  return "must be a string";
}

/**
 * Whether `message` is `notAString`'s for a number or boolean (or starts like it), the refusal
 * that a text setting given an unquoted `${VAR}` of digits or `true` would otherwise end with.
 *
 * @example
 * isNotAString("must be a string, not a number"); // true
 */
export function isNotAString(message: string): boolean {
  return /^must be a string, not a (?:number|boolean)\b/.test(message);
}

/**
 * A file path (relative ones are taken from the config file's folder by the runtime). One that
 * starts with `~` is refused: only a shell expands it, so `~/herald.db` would be a folder named
 * `~` beside the config; `${HOME}` is interpolated like any variable.
 *
 * @example
 * const file = expectFilePath(raw.path, ["store", "path"], report);
 */
export function expectFilePath(
  value: unknown,
  path: FieldPath,
  report: Report,
): string | undefined {
  const file = expectString(value, path, report);
  if (file === undefined) return undefined;
  if (file.includes("\0")) report(path, "must be a file path");
  else if (/^~[^/\\]*(?:[/\\]|$)/.test(file)) {
    report(
      path,
      `starts with ~, which only a shell expands (here it would be a folder named ~); write the full path, or \${HOME}/...`,
    );
  } else return file;
  return undefined;
}

/**
 * A list, non-empty unless `allowEmpty`.
 *
 * @example
 * const types = expectList(raw.types, ["types"], report);
 */
export function expectList(
  value: unknown,
  path: FieldPath,
  report: Report,
  allowEmpty = false,
): readonly unknown[] | undefined {
  if (!Array.isArray(value)) report(path, "must be a list");
  else if (value.length === 0 && !allowEmpty) report(path, "must not be empty");
  else return value;
  return undefined;
}

/**
 * `true` or `false` (YAML `yes`/`no` are not booleans in YAML 1.2, which the loader uses); in
 * a config file (`readingConfigText`) also the string `"true"` or `"false"`: a JSON config can
 * only write a reference inside a string, so `"handshake": "${HANDSHAKE}"` must still read as a
 * boolean.
 *
 * @example
 * const handshake = optional(raw.handshake, ["delivery", "handshake"], report, expectBoolean);
 */
export function expectBoolean(
  value: unknown,
  path: FieldPath,
  report: Report,
): boolean | undefined {
  if (typeof value === "boolean") return value;
  if (textScalars && (value === "true" || value === "false")) return value === "true";
  report(path, "must be true or false");
  return undefined;
}

/** A whole number written as a string (`"8080"`, `"-1"`): no spaces, signs other than `-`, or fractions. */
const INTEGER_TEXT = /^-?(?:0|[1-9][0-9]*)$/;

/**
 * Whether `expectInteger` and `expectBoolean` also read a string holding their value: only while
 * a config file is read (`readingConfigText`), where a JSON file can write a `${VAR}` reference
 * only inside a string. A Subscriptions API body has no references, and its OpenAPI types say
 * integer and boolean, so there a string stays an error.
 */
let textScalars = false;

/**
 * Runs `parse` (synchronous) with `expectInteger`/`expectBoolean` reading `"8080"`/`"true"` too.
 *
 * @example
 * const config = readingConfigText(() => parseHeraldConfig(raw, report));
 */
export function readingConfigText<T>(parse: () => T): T {
  const before = textScalars;
  textScalars = true;
  try {
    return parse();
  } finally {
    textScalars = before;
  }
}

/**
 * A whole number in `[min, max]`; in a config file (`readingConfigText`) also a string holding
 * one in decimal (`"8080"`): a JSON config can only write a reference inside a string, so
 * `"port": "${PORT}"` must still read as a number.
 *
 * @example
 * const port = expectInteger(raw.port, ["listen", "port"], report, 0, 65_535);
 */
export function expectInteger(
  given: unknown,
  path: FieldPath,
  report: Report,
  min: number,
  max = Number.MAX_SAFE_INTEGER,
): number | undefined {
  const value =
    textScalars && typeof given === "string" && INTEGER_TEXT.test(given) ? Number(given) : given;
  if (typeof value !== "number" || !Number.isInteger(value)) report(path, "must be an integer");
  else if (value < min || value > max) {
    // Without a maximum of its own a setting still ends at the largest exact integer: a value
    // past it is "too large", not "below the minimum".
    const unbounded = max === Number.MAX_SAFE_INTEGER;
    const range = !unbounded
      ? `from ${min} to ${max}`
      : value < min
        ? `at least ${min}`
        : `at most ${max}`;
    report(path, `must be ${range}`);
  } else return value;
  return undefined;
}

/**
 * One of a fixed set of strings (case-sensitive).
 *
 * @example
 * const policy = expectOneOf(raw.backoffPolicy, ["exponential", "linear"] as const, path, report);
 */
export function expectOneOf<T extends string>(
  value: unknown,
  allowed: readonly T[],
  path: FieldPath,
  report: Report,
): T | undefined {
  const found = allowed.find((candidate) => candidate === value);
  if (found === undefined) report(path, `must be one of: ${allowed.join(", ")}`);
  return found;
}

/**
 * A duration string (see `parseDuration`) as milliseconds, at least `minMs`.
 *
 * @example
 * const timeoutMs = expectDuration(raw.timeout, ["delivery", "timeout"], report, 1);
 */
export function expectDuration(
  value: unknown,
  path: FieldPath,
  report: Report,
  minMs = 0,
): number | undefined {
  const ms = typeof value === "string" ? parseDuration(value) : undefined;
  if (ms === undefined) report(path, "must be a duration such as 250ms, 5s, 1m, 1h or PT5S");
  else if (ms < minMs)
    report(path, minMs === 1 ? "must be longer than zero" : `must be at least ${minMs}ms`);
  else return ms;
  return undefined;
}

/** Longest URL taken: RFC 9110 4.1 recommends supporting URIs of at least 8000 octets. */
export const MAX_URL_LENGTH = 8000;

/**
 * An absolute `http:` or `https:` URL without credentials in it, kept as written. Messages never
 * echo the value: a URL can carry a password or a token in its query. `credentials`: what to do
 * instead, said when the URL holds a user or password (default: the sink's way, headers).
 *
 * @example
 * const sink = expectHttpUrl(raw.sink, ["sink"], report);
 */
export function expectHttpUrl(
  value: unknown,
  path: FieldPath,
  report: Report,
  credentials = "use protocolsettings.headers with an Authorization header",
): string | undefined {
  if (typeof value !== "string" || !isAbsoluteHttpUrl(value)) {
    report(path, "must be an absolute http(s) URL");
  } else if (value.length > MAX_URL_LENGTH) {
    // Servers answer a longer request target with 414 or 431, so every request would fail.
    report(
      path,
      `is ${value.length} characters long; at most ${MAX_URL_LENGTH} are allowed (RFC 9110 4.1: what servers are asked to support)`,
    );
  } else if (hasUserinfo(value)) {
    // A sink URL is no secret: it may show up in logs, traces and network errors, and a password
    // in it with it. Headers are where credentials go (3.2.2.1).
    report(path, `must not contain credentials; ${credentials}`);
  } else if (/%(?![0-9A-Fa-f]{2})/.test(value)) {
    // The WHATWG parser keeps a stray `%` as it is; RFC 3986 2.1 allows one only as `%XX`, and a
    // server may refuse (400) every delivery to such a request target, or read it differently.
    report(
      path,
      "has a % that does not start a %XX escape (RFC 3986 2.1): write a % itself as %25",
    );
  } else if (new URL(value).port === "0") {
    // The WHATWG parser takes port 0, but no connection can be made to it: every request would
    // fail as a network error, retried until dead, instead of being refused here.
    report(path, "must not have port 0: name the port the server listens on (1 to 65535)");
  } else return value;
  return undefined;
}
