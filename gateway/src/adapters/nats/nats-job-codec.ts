import { type MsgHdrs, headers as natsHeaders } from "@nats-io/transport-node";
import type { DeliveryFailure, DeliveryJob } from "../../deliver/delivery-queue.js";
import { encodeHeaderValue } from "../../deliver/percent-encode.js";
import type { AttributeValue, CloudEvent, EventData } from "../../event/cloud-event.js";
import { decodeHeaderValue } from "../../ingest/header-value.js";

/*
 * A job or event travels as a CloudEvents NATS protocol binding message in binary content mode
 * (nats-protocol-binding.md 3.1): each attribute in a `ce-<name>` header, `datacontenttype` as
 * `content-type`, the data as the payload. So any NATS tool or consumer reads the events as
 * CloudEvents. `ce-` values are percent-encoded like HTTP binary mode (3.1.3.2 there) because
 * NATS headers are text lines; `content-type` carries the media type as it is, as HTTP's does
 * (see `contentTypeHeader`). Herald adds what a lossless round trip and the queue need:
 * - `herald-typed`: attributes that are integers or booleans, not strings (JSON-decoded back);
 * - `herald-data`: the kind of data, `j` (JSON with its exact text), `v` (JSON without it),
 *   `t` (text) or `b` (bytes); absent when there is no data;
 * - on jobs: `herald-subscription`, `herald-job` (absent on a job's first message: its stream
 *   sequence is its id), `herald-attempts`, `herald-failure` (JSON), `herald-due` (epoch ms);
 * - on events: `herald-subscriptions`, the JSON list of the subscriptions it matched.
 */

const CE = "ce-";
const utf8 = new TextEncoder();
// `ignoreBOM`: a text payload that starts with U+FEFF keeps it (TextDecoder drops it otherwise,
// and a binary-mode sink got 3 bytes fewer than the producer's `data` says).
const fromUtf8 = new TextDecoder("utf-8", { ignoreBOM: true });

/** Job state carried besides the event. */
export interface JobFields {
  readonly subscriptionId: string;
  /** Omitted on the first message of a job: its stream sequence becomes its id. */
  readonly jobId?: string;
  readonly attempts: number;
  readonly lastFailure?: DeliveryFailure;
  /** When it may be handed out (epoch ms); omitted means at once. */
  readonly dueAt?: number;
}

/** A message to publish: headers and payload. */
export interface EncodedMessage {
  readonly headers: MsgHdrs;
  readonly data: Uint8Array;
}

/**
 * The event as a binary-mode message.
 *
 * @example
 * const { headers, data } = encodeEventMessage(event);
 * await js.publish(subject, data, { headers });
 */
export function encodeEventMessage(event: CloudEvent): EncodedMessage {
  const h = natsHeaders();
  const typed: string[] = [];
  for (const [name, value] of Object.entries(event.attributes)) {
    if (typeof value !== "string") typed.push(name);
    const text = String(value);
    if (name === "datacontenttype") h.set("content-type", contentTypeHeader(text));
    else h.set(CE + name, encodeHeaderValue(text));
  }
  if (typed.length > 0) h.set("herald-typed", typed.join(","));
  const data = event.data;
  if (data === undefined) return { headers: h, data: new Uint8Array() };
  const [kind, payload] = encodeData(data);
  h.set("herald-data", kind);
  return { headers: h, data: payload };
}

/**
 * A job message: the event plus the job's state.
 *
 * @example
 * encodeJobMessage(event, { subscriptionId: "thumbnails", attempts: 0 });
 */
export function encodeJobMessage(event: CloudEvent, job: JobFields): EncodedMessage {
  const message = encodeEventMessage(event);
  const h = message.headers;
  h.set("herald-subscription", encodeHeaderValue(job.subscriptionId));
  if (job.jobId !== undefined) h.set("herald-job", job.jobId);
  h.set("herald-attempts", String(job.attempts));
  if (job.lastFailure !== undefined) {
    h.set("herald-failure", encodeHeaderValue(JSON.stringify(job.lastFailure)));
  }
  if (job.dueAt !== undefined) h.set("herald-due", String(job.dueAt));
  return message;
}

/** The event of a message `encodeEventMessage` made; a `TypeError` for anything else. */
export function decodeEventMessage(h: MsgHdrs | undefined, data: Uint8Array): CloudEvent {
  if (h === undefined) throw new TypeError("not a Herald message: it has no headers");
  const typed = new Set(h.has("herald-typed") ? h.get("herald-typed").split(",") : []);
  const attributes: Record<string, AttributeValue> = {};
  for (const key of h.keys()) {
    const lower = key.toLowerCase();
    const name =
      lower === "content-type"
        ? "datacontenttype"
        : lower.startsWith(CE)
          ? lower.slice(CE.length)
          : undefined;
    if (name === undefined) continue;
    const raw = h.get(key);
    // A `content-type` without `%` is a media type as it is (see `contentTypeHeader`).
    const text = name === "datacontenttype" && !raw.includes("%") ? raw : decoded(raw, key);
    attributes[name] = typed.has(name) ? (JSON.parse(text) as AttributeValue) : text;
  }
  const kind = h.has("herald-data") ? h.get("herald-data") : undefined;
  if (kind === undefined) return { attributes };
  return { attributes, data: decodeData(kind, data) };
}

/** A job message's job; `jobId` is used when the message carries none (its first message). */
export function decodeJobMessage(
  h: MsgHdrs | undefined,
  data: Uint8Array,
  seq: number,
): DeliveryJob & { readonly dueAt?: number } {
  const event = decodeEventMessage(h, data);
  const fields = h as MsgHdrs;
  const failure = fields.has("herald-failure")
    ? (JSON.parse(decoded(fields.get("herald-failure"), "herald-failure")) as DeliveryFailure)
    : undefined;
  const due = fields.has("herald-due") ? Number(fields.get("herald-due")) : undefined;
  return {
    id: fields.has("herald-job") ? fields.get("herald-job") : String(seq),
    subscriptionId: decoded(fields.get("herald-subscription"), "herald-subscription"),
    event,
    attempts: Number(fields.get("herald-attempts") || "0"),
    ...(failure === undefined ? {} : { lastFailure: failure }),
    ...(due === undefined ? {} : { dueAt: due }),
  };
}

/**
 * The `content-type` header for a `datacontenttype`: the media type as it is, as every NATS and
 * HTTP tool expects (`text/plain; charset=utf-8`), when it is printable ASCII and space without
 * `%`, which every valid media type is; anything else percent-encoded like a `ce-` value. So a
 * value with `%` is always an encoded one (older Herald versions encoded every value).
 */
function contentTypeHeader(text: string): string {
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x20 || code > 0x7e || code === 0x25) return encodeHeaderValue(text);
  }
  return text;
}

function decoded(raw: string, key: string): string {
  const result = decodeHeaderValue(raw);
  if (!result.ok) throw new TypeError(`not a Herald message: header ${key} ${result.error}`);
  return result.value;
}

function encodeData(data: EventData): [string, Uint8Array] {
  switch (data.kind) {
    case "json":
      return data.text === undefined
        ? ["v", utf8.encode(JSON.stringify(data.value))]
        : ["j", utf8.encode(data.text)];
    case "text":
      return ["t", utf8.encode(data.value)];
    case "binary":
      return ["b", data.value];
  }
}

function decodeData(kind: string, payload: Uint8Array): EventData {
  switch (kind) {
    case "j": {
      const text = fromUtf8.decode(payload);
      return { kind: "json", value: JSON.parse(text), text };
    }
    case "v":
      return { kind: "json", value: JSON.parse(fromUtf8.decode(payload)) };
    case "t":
      return { kind: "text", value: fromUtf8.decode(payload) };
    case "b":
      // A copy: the client may reuse the buffer the payload was read into.
      return { kind: "binary", value: new Uint8Array(payload) };
    default:
      throw new TypeError(`not a Herald message: unknown data kind ${JSON.stringify(kind)}`);
  }
}
