import { describe, expect, it } from "vitest";
import type { ObservedEvent } from "../sink/decode-delivery.js";
import { attributeDifferences, dataDifference } from "./compare.js";

const binary = (attributes: Record<string, unknown>, body = new Uint8Array()): ObservedEvent => ({
  mode: "binary",
  attributes,
  rawHeaders: {},
  body,
  problems: [],
});
const structured = (envelope: Record<string, unknown>): ObservedEvent => {
  const { data: _d, data_base64: _b, ...attributes } = envelope;
  return {
    mode: "structured",
    attributes,
    rawHeaders: {},
    body: new Uint8Array(),
    envelope,
    problems: [],
  };
};

describe("attributeDifferences", () => {
  it("compares binary deliveries by canonical string", () => {
    expect(
      attributeDifferences({ id: "1", n: 5, b: true }, binary({ id: "1", n: "5", b: "true" })),
    ).toEqual([]);
  });
  it("keeps JSON types in structured deliveries", () => {
    expect(attributeDifferences({ n: 5 }, structured({ n: "5" }))).toEqual([
      'n: expected 5, got "5"',
    ]);
  });
  it("reports missing and unexpected attributes, allowing gateway-added ones", () => {
    expect(
      attributeDifferences(
        { id: "1", subject: "s" },
        binary({ id: "1", recordedtime: "x", extra: "y" }),
      ),
    ).toEqual(['subject: missing (expected "s")', 'extra: unexpected attribute "y"']);
  });
  it("treats equal instants as equal times, and allows an implied application/json", () => {
    expect(
      attributeDifferences(
        { time: "2018-04-05T03:56:24Z" },
        binary({ time: "2018-04-05T05:56:24.000+02:00", datacontenttype: "application/json" }),
      ),
    ).toEqual([]);
  });
});

describe("dataDifference", () => {
  const bytes = new TextEncoder().encode('{"a":1}');
  it("compares binary bodies byte for byte, or as JSON", () => {
    expect(dataDifference({ bytes }, binary({}, bytes), "application/json")).toBeUndefined();
    expect(
      dataDifference(
        { json: { a: 1 } },
        binary({}, new TextEncoder().encode('{ "a" : 1 }')),
        undefined,
      ),
    ).toBeUndefined();
    expect(dataDifference({ absent: true }, binary({}, bytes), undefined)).toMatch(/no body/);
  });
  it("accepts data or data_base64 in structured deliveries", () => {
    expect(
      dataDifference({ bytes }, structured({ data: { a: 1 } }), "application/json"),
    ).toBeUndefined();
    expect(
      dataDifference({ bytes }, structured({ data: '{"a":1}' }), "text/plain"),
    ).toBeUndefined();
    const base64 = Buffer.from(bytes).toString("base64");
    expect(
      dataDifference({ bytes }, structured({ data_base64: base64 }), "text/plain"),
    ).toBeUndefined();
    expect(
      dataDifference({ json: { a: 1 } }, structured({ data_base64: base64 }), undefined),
    ).toBeUndefined();
  });
  it("spots differences", () => {
    expect(dataDifference({ json: { a: 2 } }, structured({ data: { a: 1 } }), undefined)).toMatch(
      /differs/,
    );
    expect(dataDifference({ absent: true }, structured({ data: null }), undefined)).toMatch(
      /has some/,
    );
    expect(
      dataDifference({ json: 1 }, structured({ data: 1, data_base64: "AQ==" }), undefined),
    ).toMatch(/both/);
  });
});
