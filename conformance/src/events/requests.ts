import { CLOUDEVENTS_BATCH_JSON, CLOUDEVENTS_JSON } from "../http/media-type.js";
import { percentEncode } from "../http/percent-encoding.js";
import type { GatewayRequest } from "../target.js";

/** Context attributes as the suite sends them (JSON-native types). */
export type Attributes = Readonly<Record<string, string | number | boolean>>;

/** Ingest path of DESIGN.md's HTTP surface. */
export const EVENTS_PATH = "/events";

/** Options of {@link binaryRequest}. */
export interface BinaryRequestOptions {
  readonly body?: Uint8Array | string;
  /** `Content-Type`; defaults to the `datacontenttype` attribute (binding 3.1.1). */
  readonly contentType?: string;
  /** Headers added verbatim (after the `ce-*` ones; same names override). */
  readonly headers?: Readonly<Record<string, string>>;
  readonly path?: string;
}

/**
 * A binary-mode request (HTTP binding 3.1): each attribute but `datacontenttype` becomes a
 * percent-encoded `ce-*` header; `datacontenttype` becomes `Content-Type`.
 *
 * @example
 * binaryRequest({ specversion: "1.0", id: "1", source: "/s", type: "t" }, { body: "hi" });
 */
export function binaryRequest(
  attributes: Attributes,
  options: BinaryRequestOptions = {},
): GatewayRequest {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(attributes)) {
    if (name === "datacontenttype") continue;
    headers[`ce-${name}`] = percentEncode(String(value));
  }
  const contentType = options.contentType ?? attributes.datacontenttype;
  if (contentType !== undefined) headers["Content-Type"] = String(contentType);
  Object.assign(headers, options.headers);
  return {
    method: "POST",
    path: options.path ?? EVENTS_PATH,
    headers,
    ...(options.body === undefined ? {} : { body: options.body }),
  };
}

/**
 * A structured-mode request (HTTP binding 3.2) carrying one JSON envelope. `envelope` may be any
 * JSON value (or raw text) so invalid envelopes can be sent too.
 *
 * @example
 * structuredRequest({ specversion: "1.0", id: "1", source: "/s", type: "t", data: { a: 1 } });
 */
export function structuredRequest(
  envelope: unknown,
  contentType = `${CLOUDEVENTS_JSON}; charset=UTF-8`,
  path = EVENTS_PATH,
): GatewayRequest {
  const body = typeof envelope === "string" ? envelope : JSON.stringify(envelope);
  return { method: "POST", path, headers: { "Content-Type": contentType }, body };
}

/**
 * A batched-mode request (HTTP binding 3.3, JSON batch format 4).
 *
 * @example
 * batchRequest([eventA, eventB]);
 */
export function batchRequest(
  batch: unknown,
  contentType = `${CLOUDEVENTS_BATCH_JSON}; charset=UTF-8`,
): GatewayRequest {
  return structuredRequest(batch, contentType);
}
