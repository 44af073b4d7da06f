import type { AttributeValue, CloudEvent } from "../event/cloud-event.js";
import { formatTraceparent, parseTraceparent, type TraceContext } from "./trace-context.js";

/**
 * The event with the distributed-tracing extension (cloudevents/extensions/distributed-tracing.md)
 * set from `context`, unless it already has a valid `traceparent`: the producer's is its starting
 * trace and is kept exactly as sent, with its `tracestate`. One that is not W3C Trace Context
 * (the extension requires it; e.g. `garbage`, all-zero ids) is replaced, so every attempt still
 * joins one trace. When set here, the event's `tracestate` is replaced too (it belonged to no
 * valid trace). `data` is shared, not copied.
 *
 * @example
 * withTraceContext(event, { traceId: "4bf92f3577b34da6a3ce929d0e0e4736", spanId: "00f067aa0ba902b7", flags: 1 })
 *   .attributes.traceparent; // "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
 */
export function withTraceContext(event: CloudEvent, context: TraceContext): CloudEvent {
  const source = event.attributes;
  const given = Object.hasOwn(source, "traceparent") ? source.traceparent : undefined;
  if (typeof given === "string" && parseTraceparent(given) !== undefined) return event;
  const attributes: Record<string, AttributeValue> = { ...source };
  attributes.traceparent = formatTraceparent(context);
  if (context.tracestate !== undefined) attributes.tracestate = context.tracestate;
  else if (Object.hasOwn(source, "tracestate")) delete attributes.tracestate;
  return event.data === undefined ? { attributes } : { attributes, data: event.data };
}
