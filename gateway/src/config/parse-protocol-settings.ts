import { reservedSinkHeader } from "../deliver/reserved-sink-header.js";
import type { Subscription } from "../subscriptions/subscription.js";
import type { FieldPath } from "./field-path.js";
import { isHttpFieldName, isPrintableFieldValue } from "./http-field.js";
import { type Report, trackReport } from "./report.js";
import { expectObject, isAbsent, notAString, rejectUnknownKeys } from "./value-checks.js";

/**
 * Validates `protocolsettings` for the `HTTP` protocol (Subscriptions API 3.2.2.1). Herald supports
 * `headers`, copied onto every delivery request: names must be HTTP tokens, unique regardless of
 * case, values printable ASCII strings (the deliverer's rule minus non-ASCII, so a header that
 * loads is a header every delivery can send), and none the event, the HTTP client or the gateway
 * owns (`reservedSinkHeader`: `ce-*`, `Content-Type`, `Host`, `traceparent`, `webhook-*`, ...),
 * which a delivery would not send as given. `method` may be given, but only as `POST`, the
 * method of every delivery; it is not kept. Absent means no extra headers.
 *
 * @example
 * parseProtocolSettings({ method: "POST", headers: { "x-team": "media" } }, ["protocolsettings"], report);
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
  rejectUnknownKeys(object, ["method", "headers"], path, tracked.report);
  // 3.2.2.1 method: "the HTTP method to use"; the spec's example says POST. Deliveries are always
  // POST, so that is the one value accepted; methods are case-sensitive (RFC 9110 9.1).
  if (!isAbsent(object.method) && object.method !== "POST") {
    tracked.report(
      [...path, "method"],
      "only POST is supported (case-sensitive, as HTTP methods are)",
    );
  }
  const headers = isAbsent(object.headers)
    ? {}
    : parseHeaders(object.headers, [...path, "headers"], tracked.report);
  return tracked.failed() || headers === undefined ? undefined : { headers };
}

/**
 * Most the `headers` may add up to (names, values and `: ` plus CRLF each). Servers cap a
 * request's header section (Node 16 KiB in all, nginx 8 KiB a line, Apache 8190 bytes a field),
 * and each delivery adds its own (`ce-*`, `traceparent`, signatures) on top: beyond this, sinks
 * answer 431 to every delivery and each goes dead, where a 400 now says why.
 */
export const MAX_SINK_HEADER_BYTES = 8192;

const PROTO_HEADER =
  "is not supported as a header name: headers are kept in JavaScript objects, where __proto__ is no plain key, so it would be dropped";

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
    if (!isHttpFieldName(name)) {
      tracked.report(at, "must be an HTTP header name (an RFC 9110 token)", { at: "key" });
    } else if (name === "__proto__") {
      // A token, but assigning it to a plain object sets the prototype instead: the API showed
      // the subscription without it and deliveries went out without it, silently.
      tracked.report(at, PROTO_HEADER, { at: "key" });
    } else if (seen.has(name.toLowerCase())) {
      tracked.report(at, "duplicate header name (header names are case-insensitive)", {
        at: "key",
      });
    }
    seen.add(name.toLowerCase());
    const reserved = reservedSinkHeader(name);
    if (reserved !== undefined) {
      tracked.report(at, `cannot be set here: it ${reserved}`, { at: "key" });
    }
    if (typeof value !== "string") tracked.report(at, notAString(value));
    else if (!isPrintableFieldValue(value)) {
      // Never echo the value: headers carry credentials (Authorization), and reports end up in logs.
      tracked.report(at, "must be printable ASCII; percent-encode other characters");
    } else if (/^[ \t]|[ \t]$/.test(value)) {
      // The HTTP client strips them (a field value has no leading or trailing white space): a
      // token with one would silently go out without it.
      tracked.report(
        at,
        "must not start or end with a space or tab: HTTP drops them (RFC 9110 5.5), so the sink would not get the value as written",
      );
    }
  }
  const bytes = entries.reduce(
    (sum, [name, value]) => sum + name.length + (typeof value === "string" ? value.length : 0) + 4,
    0,
  );
  if (bytes > MAX_SINK_HEADER_BYTES) {
    tracked.report(
      path,
      `add up to ${bytes} bytes; at most ${MAX_SINK_HEADER_BYTES} are allowed: sinks refuse larger header sections (431) and every delivery would fail`,
    );
  }
  return tracked.failed() ? undefined : Object.fromEntries(entries as [string, string][]);
}
