import { encodeBase64 } from "./base64.js";
import { utf8 as encoder, encodeText } from "./charset.js";
import { encodeHeaderValue } from "./encode-header-value.js";
import type { Envelope, Payload } from "./event-input.js";

/** One HTTP request's worth of events, before any transport touches it. */
export interface Message {
  /** Header names are lower case. */
  readonly headers: Readonly<Record<string, string>>;
  readonly body: Uint8Array | undefined;
  /** Bytes the gateway counts against `limits.maxEventBytes` (binary: `ce-*` headers + body). */
  readonly size: number;
}

/** Content modes of the HTTP protocol binding that carry one event (3.1 binary, 3.2 structured). */
export type ContentMode = "binary" | "structured";

export const STRUCTURED_CONTENT_TYPE = "application/cloudevents+json; charset=utf-8";
export const BATCH_CONTENT_TYPE = "application/cloudevents-batch+json; charset=utf-8";
const TEXT_CONTENT_TYPE = "text/plain; charset=utf-8";
const JSON_CONTENT_TYPE = "application/json";

function payloadBytes(payload: Payload): Uint8Array {
  switch (payload.kind) {
    case "bytes":
      return payload.value;
    case "text":
      return encodeText(payload.value, payload.charset);
    case "json":
      return encoder.encode(payload.text);
  }
}

/**
 * How many bytes the data is on the wire: the bytes as given, a string in its charset (UTF-8
 * without one), anything else as its JSON text (what `encodeBinary` sends as the body).
 *
 * @example
 * payloadByteLength({ kind: "text", value: "é", charset: "utf-8" }); // 2
 */
export function payloadByteLength(payload: Payload): number {
  return payloadBytes(payload).byteLength;
}

function defaultContentType(payload: Payload): string | undefined {
  if (payload.kind === "json") return JSON_CONTENT_TYPE;
  if (payload.kind === "text") return TEXT_CONTENT_TYPE;
  return undefined;
}

/**
 * Binary mode (HTTP binding 3.1): every attribute but `datacontenttype` as a `ce-<name>` header,
 * percent-encoded (3.1.3.2); `datacontenttype` as `Content-Type` (JSON data defaults to
 * `application/json`, a string to `text/plain; charset=utf-8`); the data bytes as the body.
 */
export function encodeBinary({ attributes, payload }: Envelope): Message {
  const headers: Record<string, string> = {};
  let size = 0;
  for (const name in attributes) {
    if (name === "datacontenttype") continue;
    const value = encodeHeaderValue(String(attributes[name]));
    headers[`ce-${name}`] = value;
    size += name.length + 3 + value.length;
  }
  const contentType =
    (attributes.datacontenttype as string | undefined) ?? (payload && defaultContentType(payload));
  if (contentType !== undefined) headers["content-type"] = contentType;
  const body = payload && payloadBytes(payload);
  return { headers, body, size: size + (body?.byteLength ?? 0) };
}

/** The event in the JSON event format (JSON format 3): `data` as JSON or text, bytes in `data_base64`. */
export function jsonFormat({ attributes, payload }: Envelope): string {
  const members: Record<string, unknown> = { ...attributes };
  if (payload?.kind === "bytes") members.data_base64 = encodeBase64(payload.value);
  else if (payload) {
    if (payload.kind === "text") members.data = payload.value;
    // As binary mode's Content-Type would say: a string without a type is text, not JSON.
    members.datacontenttype ??= defaultContentType(payload);
  }
  const text = JSON.stringify(members);
  // JSON data is already JSON text: it goes in as it is (the object has members, so ends in "}").
  return payload?.kind === "json" ? `${text.slice(0, -1)},"data":${payload.text}}` : text;
}

/** Structured mode (HTTP binding 3.2): the JSON event format as the body. */
export function encodeStructured(envelope: Envelope): Message {
  const body = encoder.encode(jsonFormat(envelope));
  return {
    headers: { "content-type": STRUCTURED_CONTENT_TYPE },
    body,
    size: body.byteLength,
  };
}

/** Batched mode (HTTP binding 3.3): a JSON array of events in the JSON event format. */
export function encodeBatch(envelopes: readonly Envelope[]): Message {
  const body = encoder.encode(`[${envelopes.map(jsonFormat).join(",")}]`);
  return { headers: { "content-type": BATCH_CONTENT_TYPE }, body, size: body.byteLength };
}

/**
 * The most bytes of `ce-*` headers a binary-mode message carries. Servers bound the header
 * section, not the body: Node's is 16 KiB in all (`herald serve` answers 431 past it), nginx's
 * 8 KiB a line. An event with larger attributes is valid and well within `maxEventBytes`, and
 * goes in structured mode, where they are body.
 */
export const MAX_BINARY_HEADER_BYTES = 8192;

/**
 * One event in `mode`; binary mode becomes structured for an event whose `datacontenttype` starts
 * with `application/cloudevents` (its data is itself an event or a batch): as a binary-mode
 * `Content-Type`, that media type makes the gateway read the message as structured or batched
 * (HTTP binding 3), so the data would be published in place of the event. It does too for an
 * event whose attributes would be over `MAX_BINARY_HEADER_BYTES` of headers, and for empty data
 * (`""`, zero bytes), which a binary-mode body cannot tell from no data.
 */
export function encodeEvent(envelope: Envelope, mode: ContentMode): Message {
  if (mode === "binary" && !carriesEvents(envelope)) {
    const binary = encodeBinary(envelope);
    const bodyBytes = binary.body?.byteLength;
    // An empty body is no data to the gateway: data "" (or zero bytes) would be lost for every
    // sink, where the JSON format keeps it.
    if (bodyBytes !== 0 && binary.size - (bodyBytes ?? 0) <= MAX_BINARY_HEADER_BYTES) {
      return binary;
    }
  }
  return encodeStructured(envelope);
}

function carriesEvents({ attributes }: Envelope): boolean {
  const declared = attributes.datacontenttype;
  return typeof declared === "string" && /^\s*application\/cloudevents/i.test(declared);
}
