import { toStringAttribute } from "../event/attribute-rules.js";
import type { CloudEvent } from "../event/cloud-event.js";
import { MAX_ERROR_BYTES, truncateUtf8 } from "./failure-text.js";
import { hideUrlCredentials } from "./redact-secrets.js";

/** Why an event is dead-lettered: where it failed, how, and after how many attempts. */
export interface DeadLetterReason {
  /** The sink the event could not be delivered to. */
  readonly sink: string;
  /** The last HTTP status, 0 for a network error or timeout. */
  readonly status: number;
  /** The last failure text (already free of secrets, see `redactSecrets`). */
  readonly error: string;
  /** Attempts made, the last one included. */
  readonly attempts: number;
}

/**
 * The sink URI as `heralderrordest` shows it: without userinfo (`user:password@`), and with the
 * values of credential-like query parameters (`?token=`, `?api_key=`) replaced by `redacted`;
 * a URL that does not parse is shown as given (config validation makes that rare).
 *
 * @example
 * errorDestination("https://bot:s3cret@hooks.example.com/in"); // "https://hooks.example.com/in"
 */
export function errorDestination(sink: string): string {
  return hideUrlCredentials(sink);
}

/**
 * The event a dead-letter sink receives: the original event, data untouched, with Herald's
 * failure attributes (DESIGN.md "Attributes the gateway sets"; names are lower-case
 * alphanumeric, as CloudEvents 1.0.2 "Attribute Naming Convention" requires):
 * - `heralderrordest` (String, URI): the sink that failed, without userinfo;
 * - `heralderrorcode` (Integer): the last HTTP status, 0 for a network error or timeout;
 * - `heralderrordata` (String): the failure text made a valid String (`toStringAttribute`: control
 *   characters become spaces), at most 1024 bytes of UTF-8 cut at a character boundary, never
 *   empty;
 * - `heraldattempts` (Integer): attempts made.
 * Values from an earlier dead-lettering (a redriven event) are replaced.
 *
 * @example
 * deadLetterEvent(event, { sink: "http://127.0.0.1:9000/hook", status: 503, error: "down", attempts: 4 });
 * // { attributes: { ...event.attributes, heralderrordest: "http://127.0.0.1:9000/hook",
 * //   heralderrorcode: 503, heralderrordata: "down", heraldattempts: 4 }, data: event.data }
 */
export function deadLetterEvent(event: CloudEvent, reason: DeadLetterReason): CloudEvent {
  // A sink's error page may hold line breaks or NULs, which a String attribute may not.
  const text = truncateUtf8(toStringAttribute(reason.error), MAX_ERROR_BYTES).trim();
  const attributes = {
    ...event.attributes,
    heralderrordest: errorDestination(reason.sink),
    heralderrorcode: reason.status,
    // An empty String attribute carries nothing; say at least what the status says.
    heralderrordata:
      text !== "" ? text : reason.status === 0 ? "network error" : `HTTP ${reason.status}`,
    heraldattempts: reason.attempts,
  };
  return event.data === undefined ? { attributes } : { attributes, data: event.data };
}
