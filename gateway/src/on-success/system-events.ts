import {
  DEAD_LETTER_ATTRIBUTES,
  formatRecordedTime,
  HOPS_ATTRIBUTE,
  PROVENANCE_ATTRIBUTES,
} from "../auth/provenance.js";
import type { AttributeValue, CloudEvent } from "../event/cloud-event.js";

export { HOPS_ATTRIBUTE };

/** An event's hop count: a non-negative integer (a string of digits from binary mode), else 0. */
export function hopsOf(event: CloudEvent): number {
  const value = event.attributes[HOPS_ATTRIBUTE];
  const hops = typeof value === "string" && /^[0-9]{1,9}$/.test(value) ? Number(value) : value;
  return typeof hops === "number" && Number.isInteger(hops) && hops >= 0 ? hops : 0;
}

/**
 * The CloudEvents correlation extension (cloudevents/extensions/correlation.md) for an event
 * caused by `cause`: `causationid` is the cause's id, `correlationid` the cause's own
 * `correlationid`, or its id when it starts the chain. A `correlationid` a structured-mode
 * publisher sent as a JSON number or boolean is taken as its canonical string (the form a binary
 * sink sees it in, `"42"`), so the chain does not restart at the cause's id. An empty one starts
 * the chain too: the extension's `correlationid`, "if present, MUST be a non-empty string".
 */
export function correlationOf(cause: CloudEvent): Record<string, AttributeValue> {
  const { id, correlationid } = cause.attributes;
  const chain = correlationid === undefined ? "" : String(correlationid);
  return { causationid: String(id), correlationid: chain === "" ? String(id) : chain };
}

/** The distributed-tracing extension of `cause`, for an event that continues its trace. */
export function traceOf(cause: CloudEvent): Record<string, AttributeValue> {
  const { traceparent, tracestate } = cause.attributes;
  if (typeof traceparent !== "string") return {};
  return typeof tracestate === "string" ? { traceparent, tracestate } : { traceparent };
}

/**
 * The event with the gateway's own provenance: `recordedtime`, `authtype` `system` and `authid`
 * (e.g. `subscription:thumbnails` for a reply, `herald` for a receipt); an `authclaims` it had is
 * removed, as for a published event (the gateway's provenance is never taken from the event), and
 * so are dead-letter attributes a sink's reply carried (`heralderror*`, `heraldattempts`).
 */
export function withSystemProvenance(
  event: CloudEvent,
  options: { readonly authid: string; readonly recordedAt: number },
): CloudEvent {
  const attributes: Record<string, AttributeValue> = { ...event.attributes };
  for (const name of PROVENANCE_ATTRIBUTES) delete attributes[name];
  for (const name of DEAD_LETTER_ATTRIBUTES) delete attributes[name];
  attributes.recordedtime = formatRecordedTime(options.recordedAt);
  attributes.authtype = "system";
  attributes.authid = options.authid;
  return event.data === undefined ? { attributes } : { attributes, data: event.data };
}
