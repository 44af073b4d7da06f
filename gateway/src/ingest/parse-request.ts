import type { Limits } from "../config/herald-config.js";
import {
  BatchTooLarge,
  InvalidEvent,
  MalformedRequest,
  PayloadTooLarge,
  UnsupportedMediaType,
  type Violation,
} from "../errors/errors.js";
import type { CloudEvent } from "../event/cloud-event.js";
import {
  listsMediaTypes,
  MEDIA_TYPE_LIST,
  type MediaType,
  parseMediaType,
  repeatedParameter,
} from "../event/media-type.js";
import { jsonSyntaxReason } from "../http/json-syntax-reason.js";
import { refuseRepeatedParameter } from "../http/refuse-repeated-parameter.js";
import { scanEvents } from "./data-member-text.js";
import type { IngestSource } from "./ingest-source.js";
import { parseBinary } from "./parse-binary.js";
import { parseJsonEvent } from "./parse-json-event.js";

/** How the events of a request were sent (HTTP protocol binding 1.3). */
export type ContentMode = "binary" | "structured" | "batch";

export interface ParsedRequest {
  readonly mode: ContentMode;
  readonly events: readonly CloudEvent[];
}

const STRUCTURED_JSON = "application/cloudevents+json";
const BATCH_JSON = "application/cloudevents-batch+json";
const utf8 = new TextDecoder("utf-8", { fatal: true });
/** Charset labels whose bytes are valid UTF-8 as they are. */
const UTF8_CHARSETS = new Set(["utf-8", "utf8", "us-ascii"]);
const encoder = new TextEncoder();

/**
 * Turns an ingest request into validated CloudEvents, or throws a coded error. The content mode
 * comes from `Content-Type` (HTTP protocol binding 3): `application/cloudevents-batch...` is
 * batch, `application/cloudevents...` is structured, anything else is binary. A batch is
 * all-or-nothing: one invalid event rejects the request.
 *
 * @example
 * const { mode, events } = await parseRequest(requestSource(request), { maxEventBytes: 262144, maxBatchEvents: 100 });
 */
export type IngestLimits = Pick<Limits, "maxEventBytes" | "maxBatchEvents" | "maxBatchBytes">;

export async function parseRequest(
  source: IngestSource,
  limits: IngestLimits,
): Promise<ParsedRequest> {
  const contentType = source.header("content-type");
  const mediaType = parseMediaType(contentType);
  const essence = mediaType?.essence ?? "";
  if (essence.startsWith("application/cloudevents-batch")) {
    requireFormat(mediaType!, BATCH_JSON, contentType!);
    return { mode: "batch", events: await parseBatch(source, limits, asciiOnly(mediaType!)) };
  }
  if (essence.startsWith("application/cloudevents")) {
    requireFormat(mediaType!, STRUCTURED_JSON, contentType!);
    const event = await parseStructured(source, limits, asciiOnly(mediaType!));
    return { mode: "structured", events: [event] };
  }
  const body = await source.readBody(limits.maxEventBytes);
  const parsed = parseBinary(source, body);
  if (parsed.size > limits.maxEventBytes) {
    throw new PayloadTooLarge(
      `the event is ${parsed.size} bytes (headers and body); the limit is ${limits.maxEventBytes}`,
      limits.maxEventBytes,
    );
  }
  if (!parsed.ok) throw new InvalidEvent(parsed.violations, undefined, parsed.summary);
  return { mode: "binary", events: [parsed.event] };
}

/**
 * Only the JSON event format is spoken, in UTF-8 (RFC 8259 8.1), under a media type that gives
 * each parameter once (RFC 6838 4.3): `charset=iso-8859-1; charset=utf-8` was read by its last
 * charset, where a reader that takes the first (WHATWG) decodes the body in another.
 */
function requireFormat(mediaType: MediaType, expected: string, contentType: string): void {
  const charset = mediaType.params.get("charset");
  const fine =
    mediaType.essence === expected &&
    repeatedParameter(contentType) === undefined &&
    (charset === undefined || UTF8_CHARSETS.has(charset.toLowerCase()));
  if (fine) return;
  // Refusals only: a repeated Content-Type arrives joined, which reads as neither type nor charset.
  if (listsMediaTypes(contentType)) throw new UnsupportedMediaType(MEDIA_TYPE_LIST);
  refuseRepeatedParameter(contentType);
  if (mediaType.essence !== expected) {
    throw new UnsupportedMediaType(
      `${mediaType.essence} is not supported; Herald speaks the JSON event format (${expected})`,
    );
  }
  throw new UnsupportedMediaType(
    `charset ${charset} is not supported; send JSON as charset=utf-8 (RFC 8259 8.1)`,
  );
}

/** Whether the body is labelled `charset=us-ascii`, so a byte over 0x7F contradicts its label. */
function asciiOnly(mediaType: MediaType): boolean {
  return mediaType.params.get("charset")?.toLowerCase() === "us-ascii";
}

async function parseJsonBody(
  source: IngestSource,
  limit: number,
  ascii: boolean,
): Promise<{ json: unknown; text: string }> {
  const body = await source.readBody(limit);
  if (ascii) {
    // Read as UTF-8 it would be accepted, but as what the producer did not say it sent.
    const at = body.findIndex((byte) => byte > 0x7f);
    if (at !== -1) {
      throw new MalformedRequest(
        `the body is labelled charset=us-ascii but byte ${at} is 0x${body[at]!.toString(16)}, ` +
          "which is not US-ASCII; label UTF-8 JSON charset=utf-8",
      );
    }
  }
  let text: string;
  try {
    text = utf8.decode(body);
  } catch {
    throw new MalformedRequest("the body is not valid UTF-8");
  }
  try {
    return { json: JSON.parse(text), text };
  } catch (err) {
    const reason = err instanceof SyntaxError ? jsonSyntaxReason(text) : "unparseable";
    throw new MalformedRequest(`the body is not valid JSON: ${reason}`);
  }
}

async function parseStructured(
  source: IngestSource,
  limits: IngestLimits,
  ascii: boolean,
): Promise<CloudEvent> {
  const { json, text } = await parseJsonBody(source, limits.maxEventBytes, ascii);
  if (Array.isArray(json)) {
    // The likeliest mistake: a batch sent under the single-event media type.
    throw new InvalidEvent([
      {
        attribute: "event",
        message: `must be a JSON object; a JSON array of events is a batch: send it as ${BATCH_JSON} (JSON format 4)`,
      },
    ]);
  }
  const parsed = parseJsonEvent(json, scanEvents(text)[0]);
  if (!parsed.ok) throw new InvalidEvent(parsed.violations);
  return parsed.event;
}

async function parseBatch(
  source: IngestSource,
  limits: IngestLimits,
  ascii: boolean,
): Promise<CloudEvent[]> {
  // The byte limit is checked before anything is parsed, so a huge batch costs no memory.
  const { json, text } = await parseJsonBody(source, limits.maxBatchBytes, ascii);
  if (!Array.isArray(json)) {
    throw new MalformedRequest("a batch must be a JSON array of events (JSON format 4.1)");
  }
  if (json.length > limits.maxBatchEvents) {
    throw new BatchTooLarge(json.length, limits.maxBatchEvents);
  }
  const events: CloudEvent[] = [];
  const violations: Violation[] = [];
  let firstBad: number | undefined;
  const texts = scanEvents(text);
  json.forEach((item, index) => {
    const parsed = parseJsonEvent(item, texts[index]);
    if (!parsed.ok) {
      firstBad ??= index;
      for (const v of parsed.violations) violations.push({ ...v, index });
      return;
    }
    // Measured once valid: a valid event's data is depth-bounded, so stringify is safe.
    const size = encoder.encode(JSON.stringify(item)).byteLength;
    if (size > limits.maxEventBytes) {
      throw new PayloadTooLarge(
        `event ${index} of the batch is ${size} bytes; the limit is ${limits.maxEventBytes}`,
        limits.maxEventBytes,
        index,
      );
    }
    events.push(parsed.event);
  });
  if (firstBad !== undefined) throw new InvalidEvent(violations, firstBad);
  return events;
}
