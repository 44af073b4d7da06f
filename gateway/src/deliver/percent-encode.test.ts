import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { encodeHeaderValue } from "./percent-encode.js";

/**
 * A minimal decoder per HTTP binding 3.1.3.2: one round of percent-decoding, accepting lower-case
 * hex, rejecting byte sequences that are not valid UTF-8. (The ingest side brings the full one,
 * with double-quoted string unescaping.)
 */
function decodeHeaderValue(value: string): string {
  const bytes: number[] = [];
  for (let i = 0; i < value.length; i++) {
    const char = value[i] as string;
    if (char === "%") {
      const hex = value.slice(i + 1, i + 3);
      if (!/^[0-9a-fA-F]{2}$/.test(hex)) throw new Error(`bad escape at ${i}`);
      bytes.push(Number.parseInt(hex, 16));
      i += 2;
    } else {
      bytes.push(char.charCodeAt(0));
    }
  }
  return new TextDecoder("utf-8", { fatal: true }).decode(new Uint8Array(bytes));
}

describe("encodeHeaderValue", () => {
  it("encodes the spec's example (HTTP binding 3.1.3.2)", () => {
    expect(encodeHeaderValue("Euro \u20ac \u{1f600}")).toBe("Euro%20%E2%82%AC%20%F0%9F%98%80");
  });

  it("returns values that need no encoding unchanged", () => {
    const value = "https://example.com/a/b?c=d&e=f#g!$&'()*+,;=:@[]{}|\\^`~<>";
    expect(encodeHeaderValue(value)).toBe(value);
    expect(encodeHeaderValue("")).toBe("");
  });

  it.each([
    [" ", "%20"],
    ['"', "%22"],
    ["%", "%25"],
    ["%20", "%2520"],
    ["\t\r\n\0", "%09%0D%0A%00"],
    ["\u007f", "%7F"],
    ["\u0080\u009f", "%C2%80%C2%9F"],
    ["\u00e9", "%C3%A9"],
    ["\u07ff", "%DF%BF"],
    ["\u0800", "%E0%A0%80"],
    ["\uffff", "%EF%BF%BF"],
    ["\u{10000}", "%F0%90%80%80"],
    ["\u{10ffff}", "%F4%8F%BF%BF"],
    ['say "hi" 100%', "say%20%22hi%22%20100%25"],
  ])("encodes %j as %s", (value, encoded) => {
    expect(encodeHeaderValue(value)).toBe(encoded);
  });

  it("encodes a lone surrogate as U+FFFD, like TextEncoder", () => {
    expect(encodeHeaderValue("a\ud800b")).toBe("a%EF%BF%BDb");
    expect(encodeHeaderValue("\udc00")).toBe("%EF%BF%BD");
  });

  it("produces printable ASCII only, which a decoder turns back into the value", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary", maxLength: 64 }), (value) => {
        const encoded = encodeHeaderValue(value);
        expect(encoded).toMatch(/^[\x21-\x7e]*$/);
        expect(encoded).not.toMatch(/["]/);
        expect(decodeHeaderValue(encoded)).toBe(value);
      }),
      { numRuns: 1000 },
    );
  });

  it("agrees with TextEncoder byte for byte on every character it encodes", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary", minLength: 1, maxLength: 1 }), (char) => {
        const encoded = encodeHeaderValue(char);
        const code = char.charCodeAt(0);
        const safe = code >= 0x21 && code <= 0x7e && char !== '"' && char !== "%";
        const expected = safe
          ? char
          : [...new TextEncoder().encode(char)]
              .map((b) => `%${b.toString(16).toUpperCase().padStart(2, "0")}`)
              .join("");
        expect(encoded).toBe(expected);
      }),
      { numRuns: 2000 },
    );
  });
});

describe("encodeHeaderValue: repeated values", () => {
  it("gives the same encoding for a value seen before, also after many others", () => {
    const claims = '{"iss":"https://id.example.com","sub":"orders service"}';
    const first = encodeHeaderValue(claims);
    expect(first).toBe("{%22iss%22:%22https://id.example.com%22,%22sub%22:%22orders%20service%22}");
    for (let i = 0; i < 2_000; i++) {
      expect(encodeHeaderValue(`value ${i}`)).toBe(`value%20${i}`);
    }
    expect(encodeHeaderValue(claims)).toBe(first);
    const long = `${"a b".repeat(1_000)}`;
    expect(encodeHeaderValue(long)).toBe("a%20b".repeat(1_000));
  });
});
