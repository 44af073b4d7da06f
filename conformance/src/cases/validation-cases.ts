import { binaryRequest, structuredRequest } from "../events/requests.js";
import type { CaseContext, ConformanceCase } from "./case.js";
import { expectAcceptedAndDelivered, expectRejected } from "./expect.js";

const CE = "CloudEvents 1.0.2";
const HB = "HTTP protocol binding 1.0.2";
type Envelope = Record<string, unknown>;

/** A structured event, made from a valid one, that must be rejected with 400 naming `attribute`. */
function invalid(
  name: string,
  spec: string,
  attribute: string,
  mutate: (event: Envelope, ctx: CaseContext) => Envelope,
): ConformanceCase {
  return {
    name: `validation: ${name} -> 400`,
    spec,
    run: (ctx) =>
      expectRejected(ctx, structuredRequest(mutate(ctx.event(), ctx)), 400, {
        attributes: [attribute],
      }),
  };
}

/** Same, with the raw JSON text (for escapes JSON.stringify would not produce). */
function invalidJson(
  name: string,
  spec: string,
  attribute: string,
  member: string,
): ConformanceCase {
  return {
    name: `validation: ${name} -> 400`,
    spec,
    run(ctx) {
      const text = JSON.stringify(ctx.event()).replace(/}$/, `,${member}}`);
      return expectRejected(ctx, structuredRequest(text), 400, { attributes: [attribute] });
    },
  };
}

/** A binary event whose headers are the valid ones with `headers` applied (`null` removes). */
function invalidBinary(
  name: string,
  spec: string,
  attribute: string,
  headers: Readonly<Record<string, string | null>>,
): ConformanceCase {
  return {
    name: `validation (binary): ${name} -> 400`,
    spec,
    run(ctx) {
      const request = binaryRequest(ctx.event());
      const merged: Record<string, string> = { ...request.headers };
      for (const [header, value] of Object.entries(headers)) {
        if (value === null) delete merged[header];
        else merged[header] = value;
      }
      return expectRejected(ctx, { ...request, headers: merged }, 400, { attributes: [attribute] });
    },
  };
}

/** A structured event with `overrides` that must be accepted and delivered unchanged. */
function valid(name: string, spec: string, overrides: Record<string, string | number | boolean>) {
  return {
    name: `validation: ${name} accepted`,
    spec,
    async run(ctx: CaseContext) {
      const event = ctx.event(overrides);
      await expectAcceptedAndDelivered(ctx, structuredRequest(event), {
        attributes: event,
        data: { absent: true },
      });
    },
  } satisfies ConformanceCase;
}

const without = (name: string) => (e: Envelope) => {
  const { [name]: _, ...rest } = e;
  return rest;
};
const set = (name: string, value: unknown) => (e: Envelope) => ({ ...e, [name]: value });

/**
 * RFC 3339's own examples (§5.8, leap seconds among them), lower-case `t` and `z` (§5.6 allows
 * them) and the `-00:00` offset (§4.3): all valid `time` values, each sent as its own event.
 */
const validTimes: ConformanceCase = {
  name: "validation: RFC 3339's examples, lower-case t and z, and -00:00 accepted as time",
  spec: `${CE} "time" (RFC 3339 §4.3, §5.6, §5.8)`,
  async run(ctx) {
    for (const time of [
      "1985-04-12T23:20:50.52Z",
      "1996-12-19T16:39:57-08:00",
      "1990-12-31T23:59:60Z",
      "1990-12-31T15:59:60-08:00",
      "1937-01-01T12:00:27.87+00:20",
      "2018-04-05t03:56:24z",
      "2018-04-05T03:56:24-00:00",
    ]) {
      const event = ctx.event({ time });
      await expectAcceptedAndDelivered(ctx, structuredRequest(event), {
        attributes: event,
        data: { absent: true },
      });
    }
  },
};

const REQ = `${CE} "REQUIRED Attributes"`;
const NAMING = `${CE} "Naming Conventions"`;
const TYPES = `${CE} "Type System"`;
/** Rejecting another specversion is Herald's contract: the spec gives no status for it. */
const VERSION = `Herald's contract (issue 2: 1.0 only), not the spec's: ${CE} "specversion" gives no status for another version, and a receiver may also speak 0.3`;
/** No version 2.0 exists, so no receiver can interpret it: an invalid event (DESIGN.md: 400). */
const VERSION_UNKNOWN = `${CE} "specversion" (no such version: the context cannot be interpreted); DESIGN.md "HTTP surface" (400 invalid event)`;

/** The same case marked as Herald's own contract: its name gets the `herald: ` prefix. */
const herald = (c: ConformanceCase): ConformanceCase => ({ ...c, name: `herald: ${c.name}` });

/** Required attributes, naming and the type system (CloudEvents 1.0.2 "Context Attributes"). */
export const validationCases: readonly ConformanceCase[] = [
  ...["id", "source", "specversion", "type"].map((a) =>
    invalid(`missing ${a}`, REQ, a, without(a)),
  ),
  ...["id", "source", "specversion", "type"].map((a) =>
    invalidBinary(`missing ce-${a}`, `${REQ}, ${HB} §3.1.3`, a, { [`ce-${a}`]: null }),
  ),
  ...["id", "source", "type"].map((a) =>
    invalid(`empty ${a}`, `${REQ} (non-empty)`, a, set(a, "")),
  ),
  invalid("empty subject", `${CE} "subject" (non-empty if present)`, "subject", set("subject", "")),
  // A gateway may also speak 0.3 (nothing makes a 1.0 receiver refuse it), so that one is Herald's.
  herald(invalid("specversion 0.3", VERSION, "specversion", set("specversion", "0.3"))),
  invalid("specversion 2.0", VERSION_UNKNOWN, "specversion", set("specversion", "2.0")),
  invalid(
    "specversion as a JSON number",
    `${TYPES}, JSON event format 1.0.2 §2.2`,
    "specversion",
    set("specversion", 1.0),
  ),
  invalid("id as a JSON number", `${TYPES} (id is a String)`, "id", set("id", 42)),
  invalid("type as a JSON boolean", `${TYPES} (type is a String)`, "type", set("type", true)),
  invalid(
    "attribute name with upper-case letters",
    NAMING,
    "comExampleExt",
    set("comExampleExt", "x"),
  ),
  invalid("attribute name with a hyphen", NAMING, "com-example", set("com-example", "x")),
  invalid("attribute name with an underscore", NAMING, "com_example", set("com_example", "x")),
  invalid("attribute name with a dot", NAMING, "com.example", set("com.example", "x")),
  invalidBinary("ce-com-example (hyphen in the name)", NAMING, "com-example", {
    "ce-com-example": "x",
  }),
  invalidBinary("ce-data (attribute named data)", `${NAMING} (data is reserved)`, "data", {
    "ce-data": "x",
  }),
  invalid(
    "time without a UTC offset",
    `${CE} "time" (RFC 3339)`,
    "time",
    set("time", "2018-04-05T03:56:24"),
  ),
  invalid(
    "time that is not a timestamp",
    `${CE} "time" (RFC 3339)`,
    "time",
    set("time", "yesterday"),
  ),
  invalid(
    "time with month 13",
    `${CE} "time" (RFC 3339 §5.7)`,
    "time",
    set("time", "2018-13-05T03:56:24Z"),
  ),
  invalidBinary("ce-time not RFC 3339", `${CE} "time" (RFC 3339)`, "time", {
    "ce-time": "2018-04-05",
  }),
  invalid(
    "relative dataschema",
    `${CE} "dataschema" (URI: absolute)`,
    "dataschema",
    set("dataschema", "/schemas/v1"),
  ),
  invalid(
    "empty dataschema",
    `${CE} "dataschema" (non-empty URI)`,
    "dataschema",
    set("dataschema", ""),
  ),
  invalid(
    "source with a space",
    `${CE} "source" (URI-reference)`,
    "source",
    set("source", "/has space"),
  ),
  invalid(
    "source with a bad percent-escape",
    `${CE} "source" (URI-reference)`,
    "source",
    set("source", "/bad%zz"),
  ),
  invalid(
    "extension Integer above 2^31-1",
    `${TYPES} (Integer)`,
    "comexampleint",
    set("comexampleint", 2147483648),
  ),
  invalid(
    "extension Integer below -2^31",
    `${TYPES} (Integer)`,
    "comexampleint",
    set("comexampleint", -2147483649),
  ),
  invalid(
    "extension number with a fraction",
    `${TYPES} (no floats)`,
    "comexamplenum",
    set("comexamplenum", 1.5),
  ),
  invalid(
    "extension object value",
    `${TYPES} (no maps)`,
    "comexampleobj",
    set("comexampleobj", { a: 1 }),
  ),
  invalid(
    "extension array value",
    `${TYPES} (no arrays)`,
    "comexamplearr",
    set("comexamplearr", ["a"]),
  ),
  invalid(
    "control character U+0001 in subject",
    `${TYPES} (String)`,
    "subject",
    set("subject", "a\u0001b"),
  ),
  invalid(
    "newline in an extension",
    `${TYPES} (String)`,
    "comexampleext",
    set("comexampleext", "a\nb"),
  ),
  invalid(
    "control character U+007F in subject",
    `${TYPES} (String)`,
    "subject",
    set("subject", "a\u007fb"),
  ),
  invalid(
    "C1 control character U+0085 in subject",
    `${TYPES} (String)`,
    "subject",
    set("subject", "a\u0085b"),
  ),
  invalidJson(
    "unpaired surrogate in subject",
    `${TYPES} (String)`,
    "subject",
    '"subject":"a\\uDEADb"',
  ),
  invalidJson(
    "noncharacter U+FFFE in subject",
    `${TYPES} (String)`,
    "subject",
    '"subject":"a\\uFFFEb"',
  ),
  invalidBinary(
    "percent-encoded control character",
    `${TYPES} (String), ${HB} §3.1.3.2`,
    "subject",
    {
      "ce-subject": "a%0Ab",
    },
  ),
  invalid(
    "datacontenttype that is not a media type",
    `${CE} "datacontenttype" (RFC 2046)`,
    "datacontenttype",
    set("datacontenttype", "notamediatype"),
  ),
  valid("time with fraction and offset", `${CE} "time" (RFC 3339)`, {
    time: "2018-04-05T03:56:24.123456+02:00",
  }),
  valid("absolute dataschema", `${CE} "dataschema"`, {
    dataschema: "https://example.com/schemas/v1.json",
  }),
  valid("Integer extensions at the 32-bit bounds", `${TYPES} (Integer)`, {
    comexamplemax: 2147483647,
    comexamplemin: -2147483648,
  }),
  valid("paired surrogates (emoji) in subject", `${TYPES} (String)`, { subject: "ok 😀" }),
  validTimes,
  valid(
    "extension names longer than 20 characters or starting with a digit",
    `${NAMING} (lower-case letters or digits; 20 characters is a SHOULD)`,
    { comexampleanunusuallylongname: "long", "1stextension": "digit first" },
  ),
  ...[
    "urn:uuid:6e8bc430-9c3a-11d9-9669-0800200c9a66",
    "mailto:cncf-wg-serverless@lists.cncf.io",
    "1-555-123-4567",
  ].map((source) => valid(`source ${source}`, `${CE} "source" (the spec's examples)`, { source })),
];
