import { decodeBase64 } from "../base64.js";
import { charsetOf, repeatedParameter } from "../media-type.js";
import { checkEvent } from "./check-event.js";
import { dataFromBytes, dataFromMember, essenceOf, parseJsonText } from "./decode-data.js";
import { decodeHeaderValue } from "./decode-header-value.js";
import { MalformedMessage, shorten, UnsupportedMode } from "./receive-errors.js";
import type { ReceivedEvent } from "./received-event.js";
import { repeatedMembers } from "./repeated-members.js";

/** How a request carries its events (HTTP binding 3.1, 3.2, 3.3). */
export type ReceivedMode = "binary" | "structured" | "batch";

const decoder = new TextDecoder("utf-8", { fatal: true });
const ATTRIBUTE_NAME = /^[a-z0-9]+$/;

/**
 * True when a Content-Type holds a comma outside a quoted parameter value: several media types,
 * as a repeated header arrives (joined with ", ", RFC 9110 5.3; `Headers` cannot tell).
 */
function listsMediaTypes(contentType: string): boolean {
  let quoted = false;
  for (let i = 0; i < contentType.length; i++) {
    const c = contentType[i];
    if (quoted && c === "\\") i++;
    else if (c === '"') quoted = !quoted;
    else if (c === "," && !quoted) return true;
  }
  return false;
}

/**
 * The mode of a request from its Content-Type; a non-JSON event format is refused, and so is a
 * Content-Type that is repeated or lists several media types (RFC 9110 8.3: one media type): the
 * mode, and how the data is read, would depend on which one a reader takes.
 */
export function modeOf(contentType: string | null): ReceivedMode {
  if (contentType !== null && listsMediaTypes(contentType)) {
    throw new MalformedMessage(
      'Content-Type is repeated or lists several media types (repeats arrive joined with ", "); a CloudEvents request has one',
    );
  }
  const essence = essenceOf(contentType);
  if (essence.startsWith("application/cloudevents-batch")) {
    if (essence !== "application/cloudevents-batch+json") {
      throw new UnsupportedMode(`${essence} is not supported; only the JSON batch format is`);
    }
    inUtf8(contentType!);
    return "batch";
  }
  if (essence.startsWith("application/cloudevents")) {
    if (essence !== "application/cloudevents+json") {
      throw new UnsupportedMode(`${essence} is not supported; only the JSON event format is`);
    }
    inUtf8(contentType!);
    return "structured";
  }
  return "binary";
}

/** The charset labels whose bytes are read as UTF-8 as they are (US-ASCII is a subset). */
const UTF8_LABELS = new Set(["utf-8", "utf8", "us-ascii"]);

/**
 * The JSON event format is UTF-8 (RFC 8259 8.1: "MUST be encoded using UTF-8"), as the gateway
 * takes and writes it: another charset is a format not read here, 415 (HTTP webhook 2.2), not
 * bytes read as UTF-8 all the same. A parameter given twice is refused too (RFC 6838 4.3: "an
 * error"): readers disagree on which one counts, so the body would be read in another charset
 * than a proxy in front of the sink read it in.
 */
function inUtf8(contentType: string): void {
  const repeated = repeatedParameter(contentType);
  if (repeated !== undefined) {
    throw new UnsupportedMode(
      `Content-Type gives the parameter ${repeated} twice; give it once (RFC 6838 4.3)`,
    );
  }
  const charset = charsetOf(contentType);
  if (charset !== undefined && !UTF8_LABELS.has(charset)) {
    throw new UnsupportedMode(
      `charset ${charset} is not supported; the JSON event format is read as charset=utf-8 (RFC 8259 8.1)`,
    );
  }
}

/**
 * A structured or batch body as JSON: UTF-8 text (RFC 8259 8.1). Under `charset=us-ascii` a byte
 * over 0x7F contradicts the label: read as UTF-8 it would be what the sender did not say it sent.
 */
function parseBody(
  body: Uint8Array,
  contentType: string | undefined,
): { json: unknown; repeated: (string | undefined)[] } {
  if (charsetOf(contentType) === "us-ascii") {
    const at = body.findIndex((byte) => byte > 0x7f);
    if (at !== -1) {
      throw new MalformedMessage(
        `the body is labelled charset=us-ascii but byte ${at} is 0x${body[at]!.toString(16)}, which is not US-ASCII`,
      );
    }
  }
  let text: string;
  try {
    text = decoder.decode(body);
  } catch {
    throw new MalformedMessage("the body is not valid UTF-8");
  }
  const json = parseJsonText(text, "the body");
  return { json, repeated: repeatedMembers(text) };
}

/**
 * A binary-mode event (HTTP binding 3.1): `ce-*` headers unquoted and percent-decoded (3.1.3.2),
 * `Content-Type` as `datacontenttype`, the body as data.
 */
export function decodeBinary(headers: Headers, body: Uint8Array): ReceivedEvent {
  const event: Record<string, unknown> = {};
  headers.forEach((value, name) => {
    if (!name.startsWith("ce-") || name === "ce-") return;
    const attribute = name.slice(3);
    // CloudEvents attribute names are lower-case letters and digits; `data` is not an attribute.
    if (!ATTRIBUTE_NAME.test(attribute) || attribute === "data") {
      throw new MalformedMessage(`header ${name} does not name a CloudEvents attribute`);
    }
    // 3.1.1: the Content-Type is the datacontenttype; a second one could say otherwise, and the
    // data would be read by one while the event claimed the other.
    if (attribute === "datacontenttype") {
      throw new MalformedMessage(
        "header ce-datacontenttype must not be sent in binary mode; Content-Type is the datacontenttype (HTTP binding 3.1.1)",
      );
    }
    const decoded = decodeHeaderValue(value);
    if (decoded === undefined) {
      throw new MalformedMessage(`header ${name} is not valid percent-encoded UTF-8`);
    }
    event[attribute] = decoded;
  });
  const contentType = headers.get("content-type") ?? undefined;
  if (contentType !== undefined) event.datacontenttype = contentType;
  const checkedEvent = checkEvent(event, "");
  // 3.1.2: the body is the data; no body, no data.
  if (body.length > 0) event.data = dataFromBytes(body, contentType);
  return checkedEvent;
}

/**
 * One event of the JSON event format (3), its data by media type (see `decode-data.ts`). An
 * attribute (or `data_base64`) whose value is `null` is absent (2.2: "MUST be treated as the
 * equivalent of unset or omitted"); a `data` of `null` is kept, an explicit null payload (3.1.1).
 * `repeated` is a member its text gives twice (`repeatedMembers`), which makes it malformed.
 */
export function fromJsonFormat(value: unknown, where = "", repeated?: string): ReceivedEvent {
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw new MalformedMessage(`${where}an event must be a JSON object`);
  }
  // An attribute appears at most once (spec "Context Attributes"); see repeated-members.ts.
  if (repeated !== undefined) {
    // Quoted unless an attribute's name, as below: the text is the sender's (a line break).
    const shown = shorten(ATTRIBUTE_NAME.test(repeated) ? repeated : JSON.stringify(repeated));
    throw new MalformedMessage(`${where}${shown} is given twice in the event object`);
  }
  const event: Record<string, unknown> = {};
  let data: { readonly member: unknown } | undefined;
  let base64: unknown;
  for (const [name, member] of Object.entries(value)) {
    // JSON.parse makes `__proto__` an own member; assigned here it would replace the event's
    // prototype, and attributes read through it (`event.subject`) would be ones no one sees.
    if (name === "__proto__") {
      throw new MalformedMessage(`${where}__proto__ is not a CloudEvents attribute name`);
    }
    if (name === "data") {
      data = { member };
      continue;
    }
    if (name === "data_base64") {
      base64 = member ?? undefined;
      continue;
    }
    // As for a ce-* header: an attribute is named by lower-case letters and digits (3.1.1).
    if (!ATTRIBUTE_NAME.test(name)) {
      throw new MalformedMessage(
        `${where}${shorten(JSON.stringify(name))} does not name a CloudEvents attribute`,
      );
    }
    if (member !== null) event[name] = member;
  }
  const checkedEvent = checkEvent(event, where);
  const type = checkedEvent.datacontenttype;
  if (base64 !== undefined) {
    if (typeof base64 !== "string")
      throw new MalformedMessage(`${where}data_base64 must be a string`);
    // 3.1.1: "the presence of the data and data_base64 members is mutually exclusive".
    if (data !== undefined) {
      throw new MalformedMessage(`${where}data and data_base64 must not both be present`);
    }
    const bytes = decodeBase64(base64);
    if (bytes === undefined) throw new MalformedMessage(`${where}data_base64 is not base64`);
    event.data = dataFromBytes(bytes, type, where);
  } else if (data !== undefined) {
    event.data = dataFromMember(data.member, type, where);
  }
  return checkedEvent;
}

/** A structured-mode event (HTTP binding 3.2); `contentType` is the request's (for its charset). */
export function decodeStructured(body: Uint8Array, contentType?: string): ReceivedEvent {
  const { json, repeated } = parseBody(body, contentType);
  return fromJsonFormat(json, "", repeated[0]);
}

/** A batch (HTTP binding 3.3): a JSON array of events. */
export function decodeBatch(body: Uint8Array, contentType?: string): ReceivedEvent[] {
  const { json, repeated } = parseBody(body, contentType);
  if (!Array.isArray(json)) throw new MalformedMessage("a batch must be a JSON array of events");
  return json.map((item, i) => fromJsonFormat(item, `event ${i} of the batch: `, repeated[i]));
}
