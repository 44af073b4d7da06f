import type { CloudEvent, EventData } from "../event/cloud-event.js";

/*
 * Layout: one line of JSON with the attributes and the kind of data, a newline, then the data's
 * text as is. JSON.stringify escapes every newline inside the header, so the first newline ends it.
 * Keeping the payload outside the JSON header keeps a `json` payload's exact text (whitespace,
 * number spelling) without escaping it twice, and costs one JSON.parse of the header only.
 *
 * Kinds: "j" json with its exact text, "v" json without one (text = JSON.stringify(value)),
 * "t" text, "b" binary as base64, "B" binary kept apart as bytes (`encodeEventParts`), absent =
 * no data.
 */
interface Header {
  readonly a: CloudEvent["attributes"];
  readonly k?: "j" | "v" | "t" | "b" | "B";
}

/** An event as text plus, for binary data, its bytes as they are. */
export interface EventParts {
  readonly text: string;
  readonly bytes: Uint8Array | null;
}

/**
 * Encodes a Herald `CloudEvent` to a string, losslessly: attribute types are kept, a `json`
 * payload keeps its exact received text, binary data travels as base64. Web Standards only, so
 * every store (SQLite, D1, NATS) can share it.
 *
 * @example
 * const text = encodeEvent(event);
 * decodeEvent(text); // deep-equal to event
 */
export function encodeEvent(event: CloudEvent): string {
  const data = event.data;
  if (data === undefined) return `${JSON.stringify({ a: event.attributes })}\n`;
  const [kind, payload] = encodeData(data);
  return `${JSON.stringify({ a: event.attributes, k: kind })}\n${payload}`;
}

/**
 * Decodes what `encodeEvent` produced; throws a `TypeError` for anything else (a corrupt store).
 *
 * @example
 * decodeEvent(encodeEvent(event));
 */
export function decodeEvent(text: string): CloudEvent {
  return decodeEventParts(text, null);
}

/**
 * Like `encodeEvent`, for a store that keeps bytes beside the text (a BLOB column): binary data
 * goes there as it is, not as base64 (no encoding work, a third fewer bytes); any other event is
 * `encodeEvent`'s text with no bytes.
 *
 * @example
 * const { text, bytes } = encodeEventParts(event);
 * decodeEventParts(text, bytes); // deep-equal to event
 */
export function encodeEventParts(event: CloudEvent): EventParts {
  const data = event.data;
  if (data?.kind !== "binary") return { text: encodeEvent(event), bytes: null };
  return { text: `${JSON.stringify({ a: event.attributes, k: "B" })}\n`, bytes: data.value };
}

/**
 * Decodes what `encodeEventParts` (or `encodeEvent`, with no bytes) produced; throws a
 * `TypeError` for anything else (a corrupt store).
 *
 * @example
 * decodeEventParts(row.body, row.data);
 */
export function decodeEventParts(text: string, bytes: Uint8Array | null): CloudEvent {
  const newline = text.indexOf("\n");
  if (newline < 0) throw new TypeError("decodeEvent: not an encoded event (no header line)");
  const header = JSON.parse(text.slice(0, newline)) as Header;
  if ((header.k === "B") !== (bytes !== null)) {
    throw new TypeError(
      bytes === null
        ? "decodeEvent: the event's data bytes are missing"
        : "decodeEvent: data bytes given for an event that keeps its data in the text",
    );
  }
  const payload = text.slice(newline + 1);
  switch (header.k) {
    case undefined:
      return { attributes: header.a };
    case "j":
      return {
        attributes: header.a,
        data: { kind: "json", value: JSON.parse(payload), text: payload },
      };
    case "v":
      return { attributes: header.a, data: { kind: "json", value: JSON.parse(payload) } };
    case "t":
      return { attributes: header.a, data: { kind: "text", value: payload } };
    case "b":
      return { attributes: header.a, data: { kind: "binary", value: fromBase64(payload) } };
    case "B":
      return { attributes: header.a, data: { kind: "binary", value: bytes as Uint8Array } };
    default:
      throw new TypeError(`decodeEvent: unknown data kind ${JSON.stringify(header.k)}`);
  }
}

function encodeData(data: EventData): [Header["k"], string] {
  switch (data.kind) {
    case "json":
      return data.text === undefined ? ["v", JSON.stringify(data.value)] : ["j", data.text];
    case "text":
      return ["t", data.value];
    case "binary":
      return ["b", toBase64(data.value)];
  }
}

// btoa/atob work on "binary strings"; chunks keep String.fromCharCode's argument list small.
const CHUNK = 0x8000;

function toBase64(bytes: Uint8Array): string {
  let binary = "";
  for (let i = 0; i < bytes.length; i += CHUNK) {
    binary += String.fromCharCode(...bytes.subarray(i, i + CHUNK));
  }
  return btoa(binary);
}

function fromBase64(text: string): Uint8Array {
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}
