import type { AttributeValue, CloudEvent } from "../event/cloud-event.js";
import { formatTraceparent, type TraceContext } from "./trace-context.js";

/**
 * The event with the distributed-tracing extension (cloudevents/extensions/distributed-tracing.md)
 * set from `context`, unless it already has a `traceparent`: the producer's is its starting trace
 * and is kept exactly as sent, with its `tracestate`. When set here, a `tracestate` the event had
 * without a `traceparent` is replaced too (it belonged to no trace). `data` is shared, not copied.
 *
 * @example
 * withTraceContext(event, { traceId: "4bf92f3577b34da6a3ce929d0e0e4736", spanId: "00f067aa0ba902b7", flags: 1 })
 *   .attributes.traceparent; // "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
 */
export function withTraceContext(event: CloudEvent, context: TraceContext): CloudEvent {
  const source = event.attributes;
  if (Object.hasOwn(source, "traceparent")) return event;
  const attributes: Record<string, AttributeValue> = { ...source };
  attributes.traceparent = formatTraceparent(context);
  if (context.tracestate !== undefined) attributes.tracestate = context.tracestate;
  else if (Object.hasOwn(source, "tracestate")) delete attributes.tracestate;
  return event.data === undefined ? { attributes } : { attributes, data: event.data };
}
