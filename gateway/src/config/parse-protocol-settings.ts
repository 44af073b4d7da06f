import type { Subscription } from "../subscriptions/subscription.js";
import type { FieldPath } from "./field-path.js";
import { type Report, trackReport } from "./report.js";
import { expectObject, isAbsent, notAString, rejectUnknownKeys } from "./value-checks.js";

/** RFC 9110 5.6.2: a field name is a `token` (visible ASCII except delimiters). */
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
/** RFC 9110 5.5: CR, LF and NUL are never valid in a field value (header injection). */
const FORBIDDEN_IN_VALUE = /[\r\n\0]/;

/**
 * Validates `protocolsettings` for the `HTTP` protocol (Subscriptions API 3.2.2.1). Herald supports
 * `headers`, copied onto every delivery request: names must be HTTP tokens, unique regardless of
 * case, values strings without CR, LF or NUL. Absent means no extra headers.
 *
 * @example
 * parseProtocolSettings({ headers: { "x-team": "media" } }, ["protocolsettings"], report);
 * // { headers: { "x-team": "media" } }
 */
export function parseProtocolSettings(
  raw: unknown,
  path: FieldPath,
  report: Report,
): Subscription["protocolsettings"] | undefined {
  if (isAbsent(raw)) return { headers: {} };
  const tracked = trackReport(report);
  const object = expectObject(raw, path, tracked.report);
  if (object === undefined) return undefined;
  // `method` (3.2.2.1) is left out on purpose: deliveries are always POST.
  rejectUnknownKeys(object, ["headers"], path, tracked.report);
  const headers = isAbsent(object.headers)
    ? {}
    : parseHeaders(object.headers, [...path, "headers"], tracked.report);
  return tracked.failed() || headers === undefined ? undefined : { headers };
}

function parseHeaders(
  raw: unknown,
  path: FieldPath,
  report: Report,
): Readonly<Record<string, string>> | undefined {
  const tracked = trackReport(report);
  const object = expectObject(raw, path, tracked.report);
  if (object === undefined) return undefined;
  const seen = new Set<string>();
  const entries = Object.entries(object);
  for (const [name, value] of entries) {
    const at = [...path, name];
    if (!TOKEN.test(name)) {
      tracked.report(at, "must be an HTTP header name (an RFC 9110 token)", { at: "key" });
    } else if (seen.has(name.toLowerCase())) {
      tracked.report(at, "duplicate header name (header names are case-insensitive)", {
        at: "key",
      });
    }
    seen.add(name.toLowerCase());
    if (typeof value !== "string") tracked.report(at, notAString(value));
    else if (FORBIDDEN_IN_VALUE.test(value)) tracked.report(at, "must not contain CR, LF or NUL");
  }
  return tracked.failed() ? undefined : Object.fromEntries(entries as [string, string][]);
}
