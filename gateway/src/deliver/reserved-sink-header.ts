// Headers of a delivery that belong to the HTTP client (framing, connection, RFC 9110 7.6.1 and
// 7.2) rather than to the subscription.
const CLIENT_HEADERS = new Set([
  "host",
  "content-length",
  "transfer-encoding",
  "connection",
  "keep-alive",
  "proxy-connection",
  "upgrade",
  "te",
  "trailer",
  "expect",
]);
// Headers the gateway writes on each delivery: the trace context, the Standard Webhooks
// signature, and the reply preference.
const GATEWAY_HEADERS = new Set([
  "traceparent",
  "tracestate",
  "webhook-id",
  "webhook-timestamp",
  "webhook-signature",
  "prefer",
]);

/**
 * Why a `protocolsettings` header cannot be configured, or `undefined` when it can: `ce-*` and
 * `Content-Type` carry the event (HTTP binding 3.1.1, 3.1.3.1), `Content-Encoding` would misdescribe
 * its bytes, framing and connection headers
 * belong to the HTTP client, and the trace context, signature and `Prefer` are the gateway's.
 *
 * @example
 * reservedSinkHeader("ce-id"); // "carries the event's attributes (ce-*)"
 * reservedSinkHeader("x-team"); // undefined
 */
export function reservedSinkHeader(name: string): string | undefined {
  const lower = name.toLowerCase();
  if (lower.startsWith("ce-")) return "carries the event's attributes (ce-*)";
  if (lower === "content-type") return "is the event's datacontenttype (or the content mode's)";
  // The body goes as the event's bytes, never compressed: a sink that believed this header would
  // fail to decode every delivery (a receiver may refuse it outright, as Herald's ingest does).
  if (lower === "content-encoding") return "describes the body, which is sent as it is (identity)";
  if (CLIENT_HEADERS.has(lower)) return "belongs to the HTTP connection, set by the client";
  if (GATEWAY_HEADERS.has(lower)) {
    return "is written by the gateway on each delivery (trace context, signature, reply preference)";
  }
  return undefined;
}
