import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { CloudEvent } from "./cloud-event.js";
import {
  dataBody,
  decodeUtf8,
  encodeBase64,
  isJsonMediaType,
  jsonText,
  textCharset,
  utf8ContentType,
} from "./event-data.js";

const attributes = { specversion: "1.0", id: "1", source: "/s", type: "t" } as const;
const text = (bytes: Uint8Array | undefined) => new TextDecoder().decode(bytes);

describe("isJsonMediaType", () => {
  it.each([
    [undefined, true],
    ["application/json", true],
    ["Application/JSON; charset=utf-8", true],
    ["text/json", true],
    ["application/vnd.api+json", true],
    ["application/cloudevents+json; charset=UTF-8", true],
    [" application/json ", true],
    ["application/jsonx", false],
    ["application/json-seq", false],
    ["text/plain", false],
    ["application/octet-stream", false],
    ["json", false],
    ["", false],
  ])("%j -> %s", (contentType, expected) => {
    expect(isJsonMediaType(contentType)).toBe(expected);
  });
});

describe("textCharset", () => {
  it.each([
    [undefined, undefined],
    ["text/plain", "utf-8"],
    ["text/csv; charset=utf-8", "utf-8"],
    ['text/html; charset="UTF-8"', "utf-8"],
    ["text/plain;charset=us-ascii", "us-ascii"],
    ["text/plain; charset=iso-8859-1", "iso-8859-1"],
    ["text/plain; format=flowed; CHARSET=Latin1", "iso-8859-1"],
    ["text/plain; charset=utf-16", undefined],
    ["text/plain; charset=windows-1252", undefined],
    ['text/plain; x="a;charset=latin1"', "utf-8"],
    ["application/xml", undefined],
    ["application/json", undefined],
  ])("%j -> %s", (contentType, expected) => {
    expect(textCharset(contentType)).toBe(expected);
  });
});

describe("utf8ContentType", () => {
  it.each([
    ["text/plain; charset=iso-8859-1", "café", "text/plain; charset=utf-8"],
    ["text/plain;charset=UTF-16;format=flowed", "x", "text/plain;charset=utf-8;format=flowed"],
    [
      'text/csv; header=present; charset="windows-1252"',
      "x",
      "text/csv; header=present; charset=utf-8",
    ],
    ["Text/Plain; Charset = latin1 ", "x", "Text/Plain; Charset = utf-8 "],
    ["text/plain; charset=us-ascii", "café", "text/plain; charset=utf-8"],
    ["text/plain; charset=us-ascii", "cafe", "text/plain; charset=us-ascii"],
    ["text/plain; charset=UTF-8", "café", "text/plain; charset=UTF-8"],
    ['text/plain; charset="utf8"', "café", 'text/plain; charset="utf8"'],
    ["application/xml", "café", "application/xml"],
    ['text/plain; x="a;charset=latin1"', "café", 'text/plain; x="a;charset=latin1"'],
  ])("%j for %j -> %j", (contentType, value, expected) => {
    expect(utf8ContentType(contentType, value)).toBe(expected);
  });
});

describe("decodeUtf8", () => {
  it("decodes valid UTF-8", () => {
    expect(decodeUtf8(new Uint8Array([0xe2, 0x82, 0xac]))).toBe("€");
  });

  it.each([
    ["an overlong encoding", [0xc0, 0xa0]],
    ["a truncated sequence", [0xe2, 0x82]],
    ["a lone continuation byte", [0x80]],
    ["an encoded surrogate", [0xed, 0xa0, 0x80]],
  ])("rejects %s", (_, bytes) => {
    expect(decodeUtf8(new Uint8Array(bytes))).toBeUndefined();
  });
});

describe("encodeBase64", () => {
  it("matches RFC 4648 test vectors", () => {
    const vectors = ["", "f", "fo", "foo", "foob", "fooba", "foobar"];
    expect(vectors.map((v) => encodeBase64(new TextEncoder().encode(v)))).toEqual([
      "",
      "Zg==",
      "Zm8=",
      "Zm9v",
      "Zm9vYg==",
      "Zm9vYmE=",
      "Zm9vYmFy",
    ]);
  });

  it("agrees with Buffer for any bytes, including payloads larger than one chunk", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 100_000 }), (bytes) => {
        expect(encodeBase64(bytes)).toBe(Buffer.from(bytes).toString("base64"));
      }),
      { numRuns: 50 },
    );
  });
});

describe("jsonText", () => {
  it("stringifies JSON values, null included", () => {
    expect(jsonText({ a: [1, "x"] })).toBe('{"a":[1,"x"]}');
    expect(jsonText(null)).toBe("null");
  });

  it("throws a TypeError for values without a JSON form", () => {
    expect(() => jsonText(undefined)).toThrow(TypeError);
    expect(() => jsonText(1n)).toThrow(TypeError);
  });
});

describe("dataBody", () => {
  it("has no body without data, but keeps the declared content type", () => {
    expect(dataBody({ attributes })).toEqual({ body: undefined, contentType: undefined });
    expect(dataBody({ attributes: { ...attributes, datacontenttype: "text/plain" } })).toEqual({
      body: undefined,
      contentType: "text/plain",
    });
  });

  it("writes json data as JSON text, defaulting the content type to application/json", () => {
    const body = dataBody({ attributes, data: { kind: "json", value: "I'm just a string" } });
    expect(text(body.body)).toBe('"I\'m just a string"');
    expect(body.contentType).toBe("application/json");

    const declared: CloudEvent = {
      attributes: { ...attributes, datacontenttype: "application/vnd.x+json" },
      data: { kind: "json", value: { a: 1 } },
    };
    expect(text(dataBody(declared).body)).toBe('{"a":1}');
    expect(dataBody(declared).contentType).toBe("application/vnd.x+json");
  });

  it("writes text data as UTF-8", () => {
    const event: CloudEvent = {
      attributes: { ...attributes, datacontenttype: "application/xml" },
      data: { kind: "text", value: '<much wow="xml"/> €' },
    };
    expect([...(dataBody(event).body ?? [])]).toEqual([
      ...new TextEncoder().encode('<much wow="xml"/> €'),
    ]);
    expect(dataBody(event).contentType).toBe("application/xml");
    expect(dataBody({ attributes, data: { kind: "text", value: "x" } }).contentType).toBe(
      "text/plain; charset=utf-8",
    );
  });

  it.each([
    ["text/plain; charset=iso-8859-1", "café", [0x63, 0x61, 0x66, 0xe9]],
    ["text/plain; charset=Latin1; format=flowed", "ÿ", [0xff]],
    ['text/csv; charset="US-ASCII"', "a,b", [0x61, 0x2c, 0x62]],
    ["text/plain; charset=utf-8", "é", [0xc3, 0xa9]],
    ["application/xml", "<é/>", [0x3c, 0xc3, 0xa9, 0x2f, 0x3e]],
  ])("keeps datacontenttype %s and writes %j in its charset", (declared, value, expected) => {
    const body = dataBody({
      attributes: { ...attributes, datacontenttype: declared },
      data: { kind: "text", value },
    });
    expect(body.contentType).toBe(declared);
    expect([...(body.body ?? [])]).toEqual(expected);
  });

  it("writes JSON data under a us-ascii or iso-8859-1 charset as ASCII, the label kept", () => {
    for (const declared of ["text/json; charset=latin1", "application/json; charset=us-ascii"]) {
      const body = dataBody({
        attributes: { ...attributes, datacontenttype: declared },
        data: { kind: "json", value: { a: "é😀" }, text: '{"a":"é😀"}' },
      });
      expect(body.contentType).toBe(declared);
      expect(text(body.body)).toBe('{"a":"\\u00e9\\ud83d\\ude00"}');
      expect(JSON.parse(text(body.body))).toEqual({ a: "é😀" });
    }
  });

  it.each([
    ["application/xml; charset=utf-16", { kind: "text", value: "<a/>" }, "<a/>"],
    ["text/plain; charset=us-ascii", { kind: "text", value: "café" }, "café"],
    ["text/json; charset=utf-16", { kind: "json", value: { a: "é" } }, '{"a":"é"}'],
  ] as const)(
    "labels %s data stored before ingest refused it as the UTF-8 it is written in",
    (declared, data, written) => {
      const body = dataBody({ attributes: { ...attributes, datacontenttype: declared }, data });
      expect(body.contentType).toBe(declared.replace(/utf-16|us-ascii/, "utf-8"));
      expect(new TextDecoder("utf-8").decode(body.body)).toBe(written);
    },
  );

  it("keeps the declared charset of binary data: its bytes are passed through as they are", () => {
    const value = new Uint8Array([0x63, 0x61, 0x66, 0xe9]); // "café" in ISO-8859-1
    const event: CloudEvent = {
      attributes: { ...attributes, datacontenttype: "text/plain; charset=iso-8859-1" },
      data: { kind: "binary", value },
    };
    expect(dataBody(event)).toEqual({ body: value, contentType: "text/plain; charset=iso-8859-1" });
  });

  it("passes binary data through untouched", () => {
    const value = new Uint8Array([0, 255, 1]);
    expect(dataBody({ attributes, data: { kind: "binary", value } })).toEqual({
      body: value,
      contentType: undefined,
    });
    const typed: CloudEvent = {
      attributes: { ...attributes, datacontenttype: "image/png" },
      data: { kind: "binary", value },
    };
    expect(dataBody(typed).body).toBe(value);
    expect(dataBody(typed).contentType).toBe("image/png");
  });
});
