import type { AttributeValue, CloudEvent } from "../event/cloud-event.js";
import {
  formatTraceparent,
  MAX_TRACESTATE_LENGTH,
  parseTraceparent,
  parseTracestate,
  type TraceContext,
} from "./trace-context.js";

/**
 * Whether an attribute is a `traceparent` to pass on as it is: valid W3C Trace Context (3.2) and
 * exactly that, without the surrounding whitespace `parseTraceparent` forgives in a header (an
 * attribute is sent on as a `ce-traceparent` header, percent-encoded, or a JSON member).
 */
function isTraceparent(value: AttributeValue | undefined): value is string {
  return (
    typeof value === "string" && value.trim() === value && parseTraceparent(value) !== undefined
  );
}

/**
 * The event with the distributed-tracing extension (cloudevents/extensions/distributed-tracing.md)
 * set from `context`, unless it already has a valid `traceparent`: the producer's is its starting
 * trace and is kept exactly as sent. One that is not W3C Trace Context (the extension requires it;
 * e.g. `garbage`, all-zero ids, padded with spaces) is replaced, so every attempt still joins one
 * trace. When set here, the event's `tracestate` is replaced too (it belonged to no valid trace).
 * Beside a kept `traceparent`, a `tracestate` that is not a valid W3C list (3.3: a non-string,
 * bad keys, a key twice, more than 32 members) is dropped rather than passed on to every sink; a
 * valid one of at most 512 characters is kept exactly as sent (blanks around members included:
 * 3.3.1.2 allows them), a longer one is passed on in canonical form, cut to 512 characters as
 * 3.3.1.5 says. `data` is shared, not copied.
 *
 * @example
 * withTraceContext(event, { traceId: "4bf92f3577b34da6a3ce929d0e0e4736", spanId: "00f067aa0ba902b7", flags: 1 })
 *   .attributes.traceparent; // "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
 */
export function withTraceContext(event: CloudEvent, context: TraceContext): CloudEvent {
  const source = event.attributes;
  const given = Object.hasOwn(source, "traceparent") ? source.traceparent : undefined;
  let tracestate: string | undefined;
  if (isTraceparent(given)) {
    if (!Object.hasOwn(source, "tracestate")) return event;
    const state = source.tracestate;
    tracestate = typeof state === "string" ? parseTracestate(state) : undefined;
    // Valid and within what W3C asks every vendor to propagate: the producer's, unchanged.
    if (tracestate !== undefined && (state as string).length <= MAX_TRACESTATE_LENGTH) return event;
  } else {
    tracestate = context.tracestate;
  }
  const attributes: Record<string, AttributeValue> = { ...source };
  if (!isTraceparent(given)) attributes.traceparent = formatTraceparent(context);
  if (tracestate !== undefined) attributes.tracestate = tracestate;
  else if (Object.hasOwn(source, "tracestate")) delete attributes.tracestate;
  return event.data === undefined ? { attributes } : { attributes, data: event.data };
}
