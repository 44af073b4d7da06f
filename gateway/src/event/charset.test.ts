import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  asciiJson,
  charsetParameter,
  decodeText,
  encodeText,
  knownCharset,
  unencodable,
} from "./charset.js";

describe("knownCharset", () => {
  it.each([
    [undefined, "utf-8"],
    ["UTF-8", "utf-8"],
    ["utf8", "utf-8"],
    ["US-ASCII", "us-ascii"],
    ["ascii", "us-ascii"],
    ["ISO-8859-1", "iso-8859-1"],
    ["iso_8859-1", "iso-8859-1"],
    ["Latin1", "iso-8859-1"],
    ["utf-16", undefined],
    ["windows-1252", undefined],
    ["", undefined],
  ])("%j -> %j", (label, expected) => {
    expect(knownCharset(label)).toBe(expected);
  });
});

describe("charsetParameter", () => {
  it("finds the charset value, unquoted and lower-cased, but not inside another value", () => {
    expect(charsetParameter('text/plain; charset="ISO-8859-1"')?.name).toBe("iso-8859-1");
    expect(charsetParameter("text/plain;format=flowed;Charset=UTF-8")?.name).toBe("utf-8");
    expect(charsetParameter('text/plain; x="a;charset=latin1"')).toBeUndefined();
    expect(charsetParameter("text/plain")).toBeUndefined();
  });
});

describe("unencodable", () => {
  it("names the first character the charset cannot hold", () => {
    expect(unencodable("café", "us-ascii")).toBe("é (U+00E9)");
    expect(unencodable("café", "iso-8859-1")).toBeUndefined();
    expect(unencodable("10 €", "iso-8859-1")).toBe("€ (U+20AC)");
    expect(unencodable("😀", "iso-8859-1")).toBe("\ud83d (U+D83D)");
    expect(unencodable("€ 😀", "utf-8")).toBeUndefined();
    expect(unencodable("a\ud800b", "utf-8")).toBe("an unpaired surrogate (U+D800)");
    expect(unencodable("a\udc00", "utf-8")).toBe("an unpaired surrogate (U+DC00)");
  });
});

describe("encodeText and decodeText", () => {
  it("write and read ISO-8859-1 and US-ASCII byte for byte", () => {
    expect([...encodeText("café\u0000ÿ", "iso-8859-1")!]).toEqual([
      0x63, 0x61, 0x66, 0xe9, 0x00, 0xff,
    ]);
    expect(encodeText("café", "us-ascii")).toBeUndefined();
    expect(encodeText("10 €", "iso-8859-1")).toBeUndefined();
    expect(decodeText(Uint8Array.of(0x63, 0x61, 0x66, 0xe9), "iso-8859-1")).toBe("café");
    // ISO-8859-1, not windows-1252 (what TextDecoder calls iso-8859-1): 0x80 is U+0080.
    expect(decodeText(Uint8Array.of(0x80), "iso-8859-1")).toBe("\u0080");
    expect(decodeText(Uint8Array.of(0x63, 0xe9), "us-ascii")).toBeUndefined();
    expect(decodeText(Uint8Array.of(0x63, 0x7f), "us-ascii")).toBe("c\u007f");
  });

  it("write UTF-8 for well-formed text only, and read strict UTF-8", () => {
    expect([...encodeText("é", "utf-8")!]).toEqual([0xc3, 0xa9]);
    expect(encodeText("\ud800", "utf-8")).toBeUndefined();
    expect(decodeText(Uint8Array.of(0xc3, 0xa9), "utf-8")).toBe("é");
    expect(decodeText(Uint8Array.of(0xc0, 0xa0), "utf-8")).toBeUndefined();
  });

  it("round-trip any ISO-8859-1 bytes, larger than one chunk too", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 70_000 }), (bytes) => {
        const text = decodeText(bytes, "iso-8859-1")!;
        expect(encodeText(text, "iso-8859-1")).toEqual(bytes);
      }),
      { numRuns: 30 },
    );
  });
});

describe("asciiJson", () => {
  it("escapes every non-ASCII character, astral ones as surrogate pairs", () => {
    expect(asciiJson('{"a":"é😀"}')).toBe('{"a":"\\u00e9\\ud83d\\ude00"}');
    expect(asciiJson('{"a":1}')).toBe('{"a":1}');
  });

  it("keeps the JSON value for any JSON", () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const text = JSON.stringify(value);
        const ascii = asciiJson(text);
        expect(ascii).toMatch(/^[\x20-\x7e]*$/);
        expect(JSON.parse(ascii)).toEqual(JSON.parse(text));
      }),
    );
  });
});
