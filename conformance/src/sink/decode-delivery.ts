import { CLOUDEVENTS_BATCH_JSON, CLOUDEVENTS_JSON, mediaTypeEssence } from "../http/media-type.js";
import { decodeHeaderValue } from "../http/percent-encoding.js";

/** One HTTP request that reached the suite's sink. */
export interface Delivery {
  /** Request path, e.g. `/binary`. */
  readonly path: string;
  readonly method: string;
  /** Header names lower-cased; repeated headers joined with `, `. */
  readonly headers: Readonly<Record<string, string>>;
  readonly body: Uint8Array;
}

/** A CloudEvent as the sink understood a delivery (binary mode, or one structured envelope). */
export interface ObservedEvent {
  readonly mode: "binary" | "structured";
  /**
   * Context attributes. Binary mode: every `ce-*` header decoded per HTTP binding 3.1.3.2 plus
   * `datacontenttype` from `Content-Type`. Structured mode: every envelope member except `data`
   * and `data_base64`, with its JSON type, `null` members left out (JSON format 2.2).
   */
  readonly attributes: Readonly<Record<string, unknown>>;
  /** Binary mode: the raw `ce-*` header values by attribute name, before decoding. */
  readonly rawHeaders: Readonly<Record<string, string>>;
  /** Binary mode: the body. Structured mode: empty. */
  readonly body: Uint8Array;
  /** Structured mode: the whole JSON envelope. */
  readonly envelope?: Readonly<Record<string, unknown>>;
  /** Headers that could not be decoded; a conforming gateway never sends any. */
  readonly problems: readonly string[];
}

/**
 * Turns a delivery into the events it carries: one for binary and structured mode, any number for
 * the JSON batch format. Throws when a structured or batch body is not what its media type says.
 *
 * @example
 * const [event] = decodeDelivery({ path: "/binary", method: "POST", body, headers: {
 *   "ce-id": "1", "ce-source": "/s", "ce-type": "t", "ce-specversion": "1.0" } });
 */
export function decodeDelivery(delivery: Delivery): ObservedEvent[] {
  const essence = mediaTypeEssence(delivery.headers["content-type"]);
  if (essence === CLOUDEVENTS_JSON) return [fromEnvelope(parseJson(delivery.body))];
  if (essence === CLOUDEVENTS_BATCH_JSON) {
    const batch = parseJson(delivery.body);
    if (!Array.isArray(batch)) throw new Error("batch delivery body is not a JSON array");
    return batch.map(fromEnvelope);
  }
  return [fromBinary(delivery)];
}

function parseJson(body: Uint8Array): unknown {
  return JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(body));
}

function fromEnvelope(value: unknown): ObservedEvent {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new Error("structured delivery is not a JSON object");
  }
  const envelope = value as Record<string, unknown>;
  const attributes: Record<string, unknown> = {};
  for (const [name, member] of Object.entries(envelope)) {
    if (name === "data" || name === "data_base64" || member === null) continue;
    attributes[name] = member;
  }
  return {
    mode: "structured",
    attributes,
    rawHeaders: {},
    body: new Uint8Array(),
    envelope,
    problems: [],
  };
}

function fromBinary(delivery: Delivery): ObservedEvent {
  const attributes: Record<string, unknown> = {};
  const rawHeaders: Record<string, string> = {};
  const problems: string[] = [];
  for (const [name, raw] of Object.entries(delivery.headers)) {
    if (!name.startsWith("ce-")) continue;
    const attribute = name.slice(3);
    rawHeaders[attribute] = raw;
    try {
      attributes[attribute] = decodeHeaderValue(raw);
    } catch (err) {
      problems.push(`${name}: ${(err as Error).message}`);
    }
  }
  const contentType = delivery.headers["content-type"];
  if (contentType !== undefined) attributes.datacontenttype = contentType;
  return { mode: "binary", attributes, rawHeaders, body: delivery.body, problems };
}
