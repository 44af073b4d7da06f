import type { Violation } from "../errors/errors.js";
import type { CloudEvent } from "../event/cloud-event.js";
import { typedExtensions } from "../event/extension-attributes.js";
import { listsMediaTypes, MEDIA_TYPE_LIST } from "../event/media-type.js";
import { validateAttributes } from "../event/validate-attributes.js";
import { decodeHeaderValue } from "./header-value.js";
import type { IngestSource } from "./ingest-source.js";
import type { ParsedEvent } from "./parse-json-event.js";

const PREFIX = "ce-";
const NO_EVENT =
  "no CloudEvent found: binary mode carries the attributes in ce-specversion, ce-id, ce-source " +
  "and ce-type headers; for structured mode send Content-Type: application/cloudevents+json";

/** URI-typed attributes (core and known extensions), whose own values may hold percent-encoding. */
const URI_ATTRIBUTES: ReadonlySet<string> = new Set([
  "source",
  "dataschema",
  "dataref",
  "deprecationmigration",
]);
/**
 * Said of a URI header whose value changed in decoding: a producer that sent `ce-source: /a%20b`
 * meant the URI `/a%20b`, but 3.1.3.2 decodes it once to `/a b`, which is no URI.
 */
const DECODED_ONCE = (name: string) =>
  ` (after decoding: header ce-${name} is percent-decoded once, HTTP binding 3.1.3.2, so a % in the URI itself is sent as %25)`;

/** The required attributes (spec.md "Required Attributes"), first in an event read from headers. */
const REQUIRED_FIRST = ["specversion", "id", "source", "type"] as const;

/**
 * The attributes of the `ce-` headers in one order whatever order they arrived in: the required
 * ones first, then the others by name. A Fetch `Headers` (the Workers runtime, an in-process
 * `Request`) yields headers sorted by name, Node's header lines in the order sent, so without this
 * the same request became a structured delivery (and a stored event) with its members in another
 * order on each runtime, and the `attributes` of a 400 listed in another order. (Names of
 * digits only, valid but rare, come first whatever is done: JavaScript keeps integer-like keys
 * first, in numeric order, in every object; the order is still the same on both runtimes.)
 */
function inCanonicalOrder(received: Record<string, string>): Record<string, string> {
  // Producers mostly send the required four first: then the object is used as it is (this runs
  // for every binary event, and a copy per event is not free).
  if (isCanonical(received)) return received;
  const ordered: Record<string, string> = {};
  for (const name of REQUIRED_FIRST) {
    if (Object.hasOwn(received, name)) ordered[name] = received[name]!;
  }
  // Most events have no other attribute, or one: no array to sort then.
  let others: string[] | undefined;
  for (const name in received) {
    if (Object.hasOwn(ordered, name)) continue;
    if (others === undefined) others = [name];
    else others.push(name);
  }
  if (others !== undefined) {
    if (others.length > 1) others.sort();
    for (const name of others) ordered[name] = received[name]!;
  }
  return ordered;
}

/** Whether the names are already in `inCanonicalOrder`'s order (one pass, no copy). */
function isCanonical(received: Record<string, string>): boolean {
  let required = 0;
  let previous: string | undefined;
  for (const name in received) {
    if (required < REQUIRED_FIRST.length && previous === undefined) {
      // Still among the required ones: the next must be the next one present.
      while (
        required < REQUIRED_FIRST.length &&
        !Object.hasOwn(received, REQUIRED_FIRST[required]!)
      ) {
        required++;
      }
      if (required < REQUIRED_FIRST.length) {
        if (name !== REQUIRED_FIRST[required]) return false;
        required++;
        continue;
      }
    }
    if (REQUIRED_FIRST.includes(name as (typeof REQUIRED_FIRST)[number])) return false;
    if (previous !== undefined && name < previous) return false;
    previous = name;
  }
  return true;
}

/**
 * Reads a binary-mode event (HTTP protocol binding 3.1): every `ce-` header (names are
 * case-insensitive, 3.1.3.1) is an attribute whose value is decoded per 3.1.3.2; `Content-Type`
 * is `datacontenttype` (3.1.1, and `ce-datacontenttype` must not be present); the body is the
 * data, as bytes (3.1.2). A `ce-` header sent twice is refused, not joined into a value nobody
 * sent (where the source can see it: Fetch `Headers` have already joined them). Returns the event and its size (header names, values and body).
 *
 * @example
 * parseBinary(requestSource(request), body)
 */
export function parseBinary(
  headers: Pick<IngestSource, "header" | "forEachHeader">,
  body: Uint8Array,
): ParsedEvent & { readonly size: number; readonly summary?: string } {
  const received: Record<string, string> = {};
  const violations: Violation[] = [];
  const refused = new Set<string>();
  const decodedUris = new Set<string>();
  let size = body.byteLength;
  let seen = 0;
  headers.forEachHeader((raw, key) => {
    // Sources yield lower-cased names.
    if (!key.startsWith(PREFIX)) return;
    seen++;
    size += key.length + raw.length;
    const name = key.slice(PREFIX.length);
    if (name === "") {
      violations.push({ attribute: key, message: "header has no attribute name after ce-" });
      return;
    }
    if (name === "datacontenttype") {
      violations.push({
        attribute: name,
        message: "ce-datacontenttype must not be sent in binary mode; use Content-Type (3.1.1)",
      });
      return;
    }
    if (name === "__proto__") {
      violations.push({ attribute: name, message: "is not a valid attribute name" });
      return;
    }
    if (Object.hasOwn(received, name)) {
      violations.push({
        attribute: name,
        message: `header ${key} is repeated; each attribute is exactly one header (3.1.3)`,
      });
      return;
    }
    const decoded = decodeHeaderValue(raw);
    if (decoded.ok) {
      received[name] = decoded.value;
      if (URI_ATTRIBUTES.has(name) && decoded.value !== raw) decodedUris.add(name);
    } else {
      refused.add(name);
      violations.push({ attribute: name, message: `header ${key} ${decoded.error}` });
    }
  });
  const contentType = headers.header("content-type");
  const attributes = inCanonicalOrder(received);
  if (contentType !== undefined && listsMediaTypes(contentType)) {
    // Said as such, rather than "must be a media type" about a value nobody sent.
    violations.push({ attribute: "datacontenttype", message: MEDIA_TYPE_LIST });
  } else if (contentType !== undefined) {
    attributes.datacontenttype = contentType;
  }
  for (const violation of validateAttributes(attributes, refused)) {
    violations.push(
      decodedUris.has(violation.attribute)
        ? { ...violation, message: `${violation.message}${DECODED_ONCE(violation.attribute)}` }
        : violation,
    );
  }
  if (violations.length > 0) {
    return seen === 0
      ? { ok: false, violations, size, summary: NO_EVENT }
      : { ok: false, violations, size };
  }
  // Headers are strings: a known Integer or Boolean extension becomes one (see typedExtensions).
  const typed = typedExtensions(attributes);
  const event: CloudEvent =
    body.byteLength > 0
      ? { attributes: typed, data: { kind: "binary", value: body } }
      : { attributes: typed };
  return { ok: true, event, size };
}
