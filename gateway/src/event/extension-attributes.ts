import {
  checkAbsoluteUri,
  checkInteger,
  checkString,
  checkTimestamp,
  checkUriReference,
} from "./attribute-rules.js";
import type { AttributeValue } from "./cloud-event.js";

/**
 * Extension attributes whose documents (cloudevents/extensions/*.md) fix a type and constraints,
 * so a value outside them is refused like a bad core attribute rather than passed on to every
 * sink. Left out on purpose: the authcontext attributes, `recordedtime` and Herald's own, which
 * the gateway replaces or drops whatever was sent (DESIGN.md "Attributes the gateway sets"), and
 * `traceparent`/`tracestate`, which an invalid value gets replaced, not refused
 * (`telemetry/with-trace-context.ts`).
 *
 * An Integer or Boolean arrives as its canonical string in binary mode (every header is a
 * string; spec "Type System") and may in JSON too (deprecation.md's own example is
 * `"deprecated": "true"`): both are accepted, and `typedExtensions` turns them into the JSON
 * number or boolean the JSON event format maps those types to (JSON format 2.2).
 */
type ExtensionType =
  | { readonly kind: "string"; readonly nonEmpty: boolean }
  | { readonly kind: "uri-reference" }
  | { readonly kind: "uri" }
  | { readonly kind: "timestamp" }
  | { readonly kind: "boolean" }
  | { readonly kind: "integer"; readonly min: number };

interface KnownExtension {
  readonly type: ExtensionType;
  /** The extension document, for messages: `dataref.md`. */
  readonly doc: string;
}

const KNOWN: ReadonlyMap<string, KnownExtension> = new Map<string, KnownExtension>([
  ["dataref", { type: { kind: "uri-reference" }, doc: "dataref.md" }],
  ["expirytime", { type: { kind: "timestamp" }, doc: "expirytime.md" }],
  ["partitionkey", { type: { kind: "string", nonEmpty: true }, doc: "partitioning.md" }],
  ["sequence", { type: { kind: "string", nonEmpty: true }, doc: "sequence.md" }],
  ["sequencetype", { type: { kind: "string", nonEmpty: true }, doc: "sequence.md" }],
  ["sampledrate", { type: { kind: "integer", min: 1 }, doc: "sampledrate.md" }],
  ["severitytext", { type: { kind: "string", nonEmpty: true }, doc: "severity.md" }],
  ["severitynumber", { type: { kind: "integer", min: 0 }, doc: "severity.md" }],
  ["deprecated", { type: { kind: "boolean" }, doc: "deprecation.md" }],
  ["deprecationfrom", { type: { kind: "timestamp" }, doc: "deprecation.md" }],
  ["deprecationsunset", { type: { kind: "timestamp" }, doc: "deprecation.md" }],
  ["deprecationmigration", { type: { kind: "uri" }, doc: "deprecation.md" }],
]);

/** Integer canonical string (spec "Type System"): the integer part of a JSON number. */
const INTEGER_TEXT = /^-?(?:0|[1-9][0-9]*)$/;

/**
 * Whether `name` is an extension attribute whose type Herald checks.
 *
 * @example
 * isKnownExtension("dataref"); // true
 * isKnownExtension("comexampleextension1"); // false
 */
export function isKnownExtension(name: string): boolean {
  return KNOWN.has(name);
}

/**
 * Why `value` is not a valid `name` (a known extension, see `isKnownExtension`), or `undefined`.
 *
 * @example
 * checkKnownExtension("dataref", "a b"); // "must be a URI-reference (RFC 3986) ... (dataref.md)"
 * checkKnownExtension("sampledrate", "30"); // undefined
 */
export function checkKnownExtension(name: string, value: AttributeValue): string | undefined {
  const known = KNOWN.get(name);
  if (known === undefined) return undefined;
  const reason = checkType(known.type, value);
  return reason === undefined ? undefined : `${reason} (extensions/${known.doc})`;
}

function checkType(type: ExtensionType, value: AttributeValue): string | undefined {
  switch (type.kind) {
    case "boolean":
      return typeof value === "boolean" || value === "true" || value === "false"
        ? undefined
        : "must be a Boolean: true or false";
    case "integer": {
      const number = integerOf(value);
      if (number === undefined) return "must be an Integer such as 30";
      const range = checkInteger(number);
      if (range !== undefined) return range;
      return number < type.min ? `must be at least ${type.min}` : undefined;
    }
    default: {
      if (typeof value !== "string") return "must be a string";
      if (value === "" && (type.kind !== "string" || type.nonEmpty)) return "must not be empty";
      if (type.kind === "uri-reference") return checkUriReference(value);
      if (type.kind === "uri") return checkAbsoluteUri(value);
      if (type.kind === "timestamp") return checkTimestamp(value);
      return checkString(value);
    }
  }
}

function integerOf(value: AttributeValue): number | undefined {
  if (typeof value === "number") return Number.isInteger(value) ? value : undefined;
  if (typeof value === "string" && INTEGER_TEXT.test(value)) return Number(value);
  return undefined;
}

/**
 * `attributes` with the known Integer and Boolean extensions (already valid) as JSON numbers and
 * booleans, so a structured or batch delivery writes them as the JSON event format maps those
 * types (2.2), whichever mode they came in; the same object when nothing changes.
 *
 * @example
 * typedExtensions({ ...required, sampledrate: "30" }).sampledrate; // 30
 */
export function typedExtensions<T extends Record<string, AttributeValue>>(attributes: T): T {
  let typed: Record<string, AttributeValue> | undefined;
  for (const name of TYPED) {
    if (!Object.hasOwn(attributes, name)) continue;
    const value = attributes[name];
    if (typeof value !== "string") continue;
    typed ??= { ...attributes };
    typed[name] = KNOWN.get(name)?.type.kind === "boolean" ? value === "true" : Number(value);
  }
  return (typed as T | undefined) ?? attributes;
}

const TYPED = [...KNOWN]
  .filter(([, k]) => k.type.kind === "boolean" || k.type.kind === "integer")
  .map(([name]) => name);
