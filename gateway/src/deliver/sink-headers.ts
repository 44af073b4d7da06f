import { trimHttpWhitespace } from "../http/http-whitespace.js";
import type { Subscription } from "../subscriptions/subscription.js";
import { reservedSinkHeader } from "./reserved-sink-header.js";

// RFC 9110 5.1 (field-name = token) and 5.5 (field values: visible ASCII, obs-text, SP, HTAB).
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const FIELD_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;

/**
 * A field value with surrounding whitespace removed (as `Headers` does), or a `TypeError` when
 * HTTP does not allow it (RFC 9110 5.5).
 *
 * @example
 * checkedValue("x-team", " media "); // "media"
 * checkedValue("x-team", "a\r\nb"); // throws TypeError
 */
export function checkedValue(name: string, value: string): string {
  const trimmed = trimHttpWhitespace(value);
  if (!FIELD_VALUE.test(trimmed)) throw new TypeError(`header ${name} has an invalid value`);
  return trimmed;
}

// Attribute names repeat from event to event: remember the header name of each one checked.
const attributeHeaders = new Map<string, string>();
const MAX_REMEMBERED = 1024;

/**
 * `ce-<name>` (HTTP binding 3.1.3.1), or a `TypeError` when that is no valid header name.
 *
 * @example
 * attributeHeader("source"); // "ce-source"
 */
export function attributeHeader(name: string): string {
  let header = attributeHeaders.get(name);
  if (header === undefined) {
    header = `ce-${name}`;
    if (!TOKEN.test(header))
      throw new TypeError(`attribute name ${JSON.stringify(name)} is invalid`);
    if (attributeHeaders.size < MAX_REMEMBERED) attributeHeaders.set(name, header);
  }
  return header;
}

/**
 * The subscription's `protocolsettings.headers`, names in lower case and values checked, without
 * the headers that belong to the event, the HTTP client or the gateway (`reservedSinkHeader`).
 * Throws a `TypeError` for a name or value HTTP does not allow.
 *
 * @example
 * sinkHeaders(subscription); // { "x-team": "media" }
 */
export function sinkHeaders(subscription: Subscription): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(subscription.protocolsettings.headers)) {
    const lower = name.toLowerCase();
    if (!TOKEN.test(name)) throw new TypeError(`header name ${JSON.stringify(name)} is invalid`);
    // Refused when a subscription is configured; one stored before that rule is sent without it.
    if (reservedSinkHeader(lower) === undefined) headers[lower] = checkedValue(lower, value);
  }
  return headers;
}
