import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { CloudEvent, EventData } from "../event/cloud-event.js";
import { decodeEvent, decodeEventParts, encodeEvent, encodeEventParts } from "./event-codec.js";

const attributeValue = fc.oneof(fc.string(), fc.integer(), fc.boolean());
const attributes = fc
  .dictionary(fc.string({ minLength: 1 }), attributeValue)
  .map((extra) => ({ ...extra, specversion: "1.0", id: "1", source: "/s", type: "t" }));
// A JSON value as parsing yields it: JSON has no -0 to write (JSON.stringify writes 0), so a -0
// nested anywhere would not survive any round trip through text, here or in the real ingest path.
const json = fc.jsonValue().map((v) => JSON.parse(JSON.stringify(v)) as unknown);
const data: fc.Arbitrary<EventData | undefined> = fc.oneof(
  fc.constant(undefined),
  json.map((value) => ({ kind: "json" as const, value })),
  // A received text with its own spacing: the value it parses to plus the exact text.
  fc.tuple(json, fc.constantFrom(0, 1, "\t", "  \n")).map(([value, space]) => ({
    kind: "json" as const,
    value,
    text: `${JSON.stringify(value, null, space) ?? "null"}\n`,
  })),
  fc.string({ unit: "binary" }).map((value) => ({ kind: "text" as const, value })),
  fc.uint8Array({ maxLength: 100_000 }).map((value) => ({ kind: "binary" as const, value })),
);
const events: fc.Arbitrary<CloudEvent> = fc
  .tuple(attributes, data)
  .map(([a, d]) => (d === undefined ? { attributes: a } : { attributes: a, data: d }));

describe("event codec", () => {
  it("round-trips every event losslessly", () => {
    fc.assert(
      fc.property(events, (event) => {
        expect(decodeEvent(encodeEvent(event))).toStrictEqual(event);
      }),
      { numRuns: 300 },
    );
  });

  it("keeps a json payload's exact text and attribute types", () => {
    const event: CloudEvent = {
      attributes: { specversion: "1.0", id: "1", source: "/s", type: "t", n: 42, b: false },
      data: { kind: "json", value: { a: 1.5 }, text: '{ "a" : 1.50 }' },
    };
    const decoded = decodeEvent(encodeEvent(event));
    expect(decoded).toStrictEqual(event);
    expect(decoded.data).toMatchObject({ text: '{ "a" : 1.50 }' });
  });

  it("refuses text that is not an encoded event", () => {
    expect(() => decodeEvent("{}")).toThrow(TypeError);
    expect(() => decodeEvent('{"a":{},"k":"x"}\n')).toThrow(TypeError);
  });

  it("round-trips every event through text and bytes, the bytes only for binary data", () => {
    fc.assert(
      fc.property(events, (event) => {
        const { text, bytes } = encodeEventParts(event);
        expect(bytes === null).toBe(event.data?.kind !== "binary");
        expect(decodeEventParts(text, bytes)).toStrictEqual(event);
        // No base64 in the text: it holds the attributes only.
        if (bytes !== null)
          expect(text).toBe(`${JSON.stringify({ a: event.attributes, k: "B" })}\n`);
      }),
      { numRuns: 300 },
    );
  });

  it("reads what encodeEvent wrote (base64 in the text) through decodeEventParts with no bytes", () => {
    const event: CloudEvent = {
      attributes: { specversion: "1.0", id: "1", source: "/s", type: "t" },
      data: { kind: "binary", value: new Uint8Array([0, 1, 254, 255]) },
    };
    expect(decodeEventParts(encodeEvent(event), null)).toStrictEqual(event);
  });

  it("refuses text and bytes that do not belong together", () => {
    const binary: CloudEvent = {
      attributes: { specversion: "1.0", id: "1", source: "/s", type: "t" },
      data: { kind: "binary", value: new Uint8Array([1]) },
    };
    const { text } = encodeEventParts(binary);
    expect(() => decodeEventParts(text, null)).toThrow(/bytes are missing/);
    expect(() => decodeEvent(text)).toThrow(TypeError);
    expect(() => decodeEventParts(encodeEvent(binary), new Uint8Array([1]))).toThrow(
      /keeps its data in the text/,
    );
  });
});
