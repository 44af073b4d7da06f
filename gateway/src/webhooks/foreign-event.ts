import type { AttributeValue, CloudEvent, EventData } from "../event/cloud-event.js";

/** The attributes an adapter derives; `undefined` ones are left out (the documents' "Omit"). */
export interface ForeignAttributes {
  readonly id: string;
  readonly source: string;
  readonly type: string;
  readonly subject?: string | undefined;
  readonly time?: string | undefined;
  readonly [extension: string]: AttributeValue | undefined;
}

/**
 * A CloudEvent (`specversion` 1.0) from derived attributes and optional data. JSON data gets
 * `datacontenttype: application/json` (every adapter document says so); pass `text` to deliver
 * the provider's JSON exactly as received instead of re-serialising it.
 *
 * @example
 * foreignEvent({ id: "1", source: "/s", type: "t" }, { kind: "json", value: payload, text: body });
 */
export function foreignEvent(attributes: ForeignAttributes, data?: EventData): CloudEvent {
  const out: Record<string, AttributeValue> = { specversion: "1.0" };
  for (const [name, value] of Object.entries(attributes)) {
    if (value !== undefined) out[name] = value;
  }
  if (data === undefined) return { attributes: out };
  if (data.kind === "json") out.datacontenttype = "application/json";
  return { attributes: out, data };
}
