import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { CloudEvent } from "./cloud-event.js";
import { MAX_JSON_DEPTH } from "./json-depth.js";
import { serializeEvent, toJsonObject } from "./json-format.js";

const attributes = { specversion: "1.0", id: "1", source: "/s", type: "t" } as const;
const bytes = (s: string) => new TextEncoder().encode(s);
const withType = (datacontenttype: string, value: Uint8Array): CloudEvent => ({
  attributes: { ...attributes, datacontenttype },
  data: { kind: "binary", value },
});

describe("toJsonObject and serializeEvent", () => {
  it("write every attribute, extensions included, as top-level members of their JSON type", () => {
    const event: CloudEvent = {
      attributes: {
        ...attributes,
        time: "2018-04-05T17:31:00Z",
        comexampleothervalue: 5,
        flag: true,
      },
      data: { kind: "json", value: { appinfoA: "abc", appinfoB: 123 } },
    };
    const expected = {
      specversion: "1.0",
      id: "1",
      source: "/s",
      type: "t",
      time: "2018-04-05T17:31:00Z",
      comexampleothervalue: 5,
      flag: true,
      data: { appinfoA: "abc", appinfoB: 123 },
    };
    expect(toJsonObject(event)).toEqual(expected);
    expect(serializeEvent(event)).toBe(JSON.stringify(expected));
  });

  it("omit data when the event has none", () => {
    expect(toJsonObject({ attributes })).toEqual(attributes);
    expect(serializeEvent({ attributes })).toBe(JSON.stringify(attributes));
  });

  it("keep an explicit null payload as data: null (JSON format 3.1.1)", () => {
    const event: CloudEvent = { attributes, data: { kind: "json", value: null } };
    expect(toJsonObject(event)).toEqual({ ...attributes, data: null });
    expect(serializeEvent(event)).toBe(JSON.stringify({ ...attributes, data: null }));
  });

  it("write a json string as a JSON string, never re-encoded", () => {
    const event: CloudEvent = { attributes, data: { kind: "json", value: "I'm just a string" } };
    expect(JSON.parse(serializeEvent(event)).data).toBe("I'm just a string");
  });

  it("write text data as a data string", () => {
    const event: CloudEvent = {
      attributes: { ...attributes, datacontenttype: "application/xml" },
      data: { kind: "text", value: '<much wow="xml"/>' },
    };
    expect(toJsonObject(event)).toEqual({
      ...attributes,
      datacontenttype: "application/xml",
      data: '<much wow="xml"/>',
    });
  });

  it("write opaque binary data as data_base64", () => {
    const event = withType(
      "application/vnd.apache.thrift.binary",
      new Uint8Array([0, 1, 254, 255]),
    );
    expect(toJsonObject(event)).toEqual({
      ...attributes,
      datacontenttype: "application/vnd.apache.thrift.binary",
      data_base64: "AAH+/w==",
    });
    expect(JSON.parse(serializeEvent(event))).toEqual(toJsonObject(event));
  });

  it.each([
    ["application/json", '{"a":[1,true,null]}'],
    ["application/vnd.api+json; charset=utf-8", '{"a":[1,true,null]}'],
    ["text/json", '"just a string"'],
  ])("write UTF-8 JSON bytes under %s as the data JSON value", (contentType, json) => {
    const event = withType(contentType, bytes(json));
    expect(toJsonObject(event)).toEqual({
      ...attributes,
      datacontenttype: contentType,
      data: JSON.parse(json),
    });
    expect(serializeEvent(event)).toBe(
      `${JSON.stringify({ ...attributes, datacontenttype: contentType }).slice(0, -1)},"data":${json}}`,
    );
  });

  it("write bytes without a content type as data_base64, even when they parse as JSON (3.1.1)", () => {
    // A binary-mode body with no Content-Type: opaque bytes, not JSON.
    const json: CloudEvent = { attributes, data: { kind: "binary", value: bytes(" [1, 2] \n") } };
    expect(toJsonObject(json)).toEqual({ ...attributes, data_base64: "IFsxLCAyXSAK" });
    expect(JSON.parse(serializeEvent(json))).toEqual(toJsonObject(json));

    const notJson: CloudEvent = { attributes, data: { kind: "binary", value: bytes("hello") } };
    expect(toJsonObject(notJson)).toEqual({ ...attributes, data_base64: "aGVsbG8=" });
  });

  it("keep json data without a content type as data (it came from a data member)", () => {
    const event: CloudEvent = { attributes, data: { kind: "json", value: [1, 2] } };
    expect(toJsonObject(event)).toEqual({ ...attributes, data: [1, 2] });
  });

  it("keep JSON payload text verbatim so large integers keep their precision", () => {
    const event = withType("application/json", bytes('{"n":12345678901234567890}'));
    expect(serializeEvent(event)).toContain('"data":{"n":12345678901234567890}');
  });

  it("fall back to data_base64 for JSON content types whose bytes are not UTF-8 JSON", () => {
    expect(toJsonObject(withType("application/json", bytes("{nope")))).toMatchObject({
      data_base64: "e25vcGU=",
    });
    const latin1 = new Uint8Array([0x22, 0xe9, 0x22]); // "é" in ISO-8859-1, not UTF-8
    expect(toJsonObject(withType("application/json", latin1))).toMatchObject({
      data_base64: "Iuki",
    });
    expect(toJsonObject(withType("application/json", new Uint8Array()))).toMatchObject({
      data_base64: "",
    });
  });

  it("write JSON bytes however deeply they nest as the data JSON value (JSON format 3.1.1 MUST)", () => {
    const levels = MAX_JSON_DEPTH + 1;
    const object = toJsonObject(
      withType("application/json", bytes("[".repeat(levels) + "]".repeat(levels))),
    );
    expect(object.data_base64).toBeUndefined();
    expect(JSON.stringify(object.data)).toBe("[".repeat(levels) + "]".repeat(levels));
  });

  it("read JSON bytes in the charset of their content type, and keep bytes of another as data_base64", () => {
    // 22 e9 22 is "é" in ISO-8859-1 (invalid UTF-8); c3 a9 read as ISO-8859-1 is "Ã©".
    const latin1 = "application/json; charset=iso-8859-1";
    expect(toJsonObject(withType(latin1, new Uint8Array([0x22, 0xe9, 0x22]))).data).toBe("é");
    expect(toJsonObject(withType(latin1, new Uint8Array([0x22, 0xc3, 0xa9, 0x22]))).data).toBe(
      "Ã©",
    );
    const ascii = "application/json; charset=us-ascii";
    expect(toJsonObject(withType(ascii, new Uint8Array([0x22, 0xc3, 0xa9, 0x22])))).toMatchObject({
      data_base64: "IsOpIg==",
    });
    // ASCII bytes labelled UTF-16: as data they could not be written back as UTF-16, and
    // Herald's structured ingest refuses a data member under a charset it cannot write.
    const utf16 = withType("application/json; charset=utf-16", bytes('{"a":1}'));
    expect(toJsonObject(utf16)).toMatchObject({ data_base64: "eyJhIjoxfQ==" });
    expect(toJsonObject(utf16).data).toBeUndefined();
  });

  it("write text/* bytes as a data string read in their charset, others as data_base64", () => {
    expect(toJsonObject(withType("text/plain", bytes("héllo €")))).toMatchObject({
      data: "héllo €",
    });
    const cafe = new Uint8Array([0x63, 0x61, 0x66, 0xe9]); // "café" in ISO-8859-1
    expect(toJsonObject(withType("text/plain; charset=iso-8859-1", cafe))).toMatchObject({
      data: "café",
    });
    expect(toJsonObject(withType("text/plain; charset=Latin1", cafe))).toMatchObject({
      data: "café",
    });
    // Not text in the declared charset, or a charset Herald cannot read: the bytes as they are.
    expect(toJsonObject(withType("text/plain; charset=us-ascii", cafe))).toMatchObject({
      data_base64: "Y2Fm6Q==",
    });
    expect(toJsonObject(withType("text/plain", cafe))).toMatchObject({ data_base64: "Y2Fm6Q==" });
    expect(toJsonObject(withType("text/plain; charset=utf-16", bytes("ab")))).toMatchObject({
      data_base64: "YWI=",
    });
    expect(toJsonObject(withType("text/plain", new Uint8Array([0xff])))).toMatchObject({
      data_base64: "/w==",
    });
  });

  it("never let an attribute named like the payload members shadow them", () => {
    const event: CloudEvent = {
      attributes: { ...attributes, data: "bogus", data_base64: "bogus" },
      data: { kind: "json", value: 1 },
    };
    expect(toJsonObject(event)).toEqual({ ...attributes, data: 1 });
    expect(serializeEvent(event)).toBe(JSON.stringify({ ...attributes, data: 1 }));
    expect(serializeEvent({ attributes: {}, data: { kind: "json", value: 1 } })).toBe('{"data":1}');
  });

  it("agree with each other for any JSON payload", () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const event: CloudEvent = { attributes, data: { kind: "json", value } };
        // Compared as text: a parsed copy would differ in -0 and `__proto__` keys, not in JSON.
        expect(serializeEvent(event)).toBe(JSON.stringify(toJsonObject(event)));
      }),
    );
  });

  it("throw a TypeError when json data has no JSON form", () => {
    expect(() => serializeEvent({ attributes, data: { kind: "json", value: 1n } })).toThrow(
      TypeError,
    );
  });
});
