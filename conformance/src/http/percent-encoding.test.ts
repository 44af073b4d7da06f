import { describe, expect, it } from "vitest";
import {
  decodeHeaderValue,
  HeaderDecodeError,
  isSpecEncoded,
  percentEncode,
} from "./percent-encoding.js";

describe("percentEncode (HTTP binding 3.1.3.2)", () => {
  it("encodes the spec's example", () => {
    expect(percentEncode("Euro € 😀")).toBe("Euro%20%E2%82%AC%20%F0%9F%98%80");
  });
  it("encodes space, double-quote, percent and controls; keeps other printable ASCII", () => {
    expect(percentEncode(' "%\n~!')).toBe("%20%22%25%0A~!");
    expect(percentEncode("/a/b?c=d&e#f")).toBe("/a/b?c=d&e#f");
  });
  it("produces spec-encoded output for any string", () => {
    for (const s of ["", "plain", 'a "b" 100% €😀', "\u0085\u00a0"]) {
      expect(isSpecEncoded(percentEncode(s))).toBe(true);
      expect(decodeHeaderValue(percentEncode(s))).toBe(s);
    }
  });
});

describe("decodeHeaderValue", () => {
  it("decodes exactly one round", () => {
    expect(decodeHeaderValue("%2541")).toBe("%41");
  });
  it("accepts lower-case hex and needless encoding", () => {
    expect(decodeHeaderValue("%e2%82%ac%41")).toBe("€A");
  });
  it("unescapes a quoted-string before percent-decoding", () => {
    expect(decodeHeaderValue('"a \\"b\\""')).toBe('a "b"');
    expect(decodeHeaderValue('"a%20b"')).toBe("a b");
  });
  it.each([["%C0%A0"], ["%FF"], ["%E2%82"], ["%zz"], ["%4"], ['"abc'], ['"a"b"']])(
    "rejects %s",
    (raw) => {
      expect(() => decodeHeaderValue(raw)).toThrow(HeaderDecodeError);
    },
  );
});

describe("isSpecEncoded", () => {
  it("rejects what a conforming sender must not produce", () => {
    expect(isSpecEncoded("a b")).toBe(false);
    expect(isSpecEncoded('"a"')).toBe(false);
    expect(isSpecEncoded("100%")).toBe(false);
    expect(isSpecEncoded("caf\u00e9")).toBe(false);
    expect(isSpecEncoded("caf%C3%A9")).toBe(true);
  });
});
