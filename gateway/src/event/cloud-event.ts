/**
 * The in-memory shape of a CloudEvent inside Herald.
 *
 * Context attributes keep the JSON-native type they arrived with (binary-mode headers are always
 * strings; the JSON event format may carry booleans and integers for extensions), so an event is
 * passed through unchanged. `data` is kept in the form it arrived in and converted only when a
 * delivery needs another form (see `event/event-data.ts`).
 *
 * @example
 * const event: CloudEvent = {
 *   attributes: { specversion: "1.0", id: "1", source: "/orders", type: "com.example.order.created" },
 *   data: { kind: "json", value: { orderId: 42 } },
 * };
 */
export interface CloudEvent {
  readonly attributes: Readonly<Record<string, AttributeValue>>;
  readonly data?: EventData;
}

/** A context attribute value as the JSON event format can carry it (spec "Type System"). */
export type AttributeValue = string | number | boolean;

/**
 * Event payload, in the form it was received:
 * - `json`: a JSON value from the structured `data` member (JSON-like `datacontenttype` or none);
 * - `text`: a string from the structured `data` member with a non-JSON `datacontenttype`;
 * - `binary`: raw bytes (a binary-mode body, or a structured `data_base64`).
 */
export type EventData =
  | {
      readonly kind: "json";
      readonly value: unknown;
      /** The value's JSON text exactly as received, delivered in place of re-serialising. */
      readonly text?: string;
    }
  | { readonly kind: "text"; readonly value: string }
  | { readonly kind: "binary"; readonly value: Uint8Array };

/** Required context attributes (CloudEvents 1.0.2, "Required Attributes"). */
export const REQUIRED_ATTRIBUTES = ["id", "source", "specversion", "type"] as const;

/** The attribute-as-string view used by filters (Subscriptions API 3.2.4 compares string forms). */
export function attributeString(event: CloudEvent, name: string): string | undefined {
  // Own properties only: `constructor` is a valid attribute name and must not find Object's.
  if (!Object.hasOwn(event.attributes, name)) return undefined;
  const value = event.attributes[name];
  if (value === undefined) return undefined;
  return typeof value === "string" ? value : String(value);
}
