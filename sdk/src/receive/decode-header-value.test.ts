import { describe, expect, it } from "vitest";
import { decodeHeaderValue } from "./decode-header-value.js";

describe("decodeHeaderValue (HTTP binding 3.1.3.2)", () => {
  it("unescapes a quoted-string before percent-decoding", () => {
    expect(decodeHeaderValue('"hello world"')).toBe("hello world");
    expect(decodeHeaderValue('"a \\"b\\" \\\\ c"')).toBe('a "b" \\ c');
    expect(decodeHeaderValue('"100%25"')).toBe("100%");
    expect(decodeHeaderValue('""')).toBe("");
  });

  it("refuses a malformed quoted-string", () => {
    for (const raw of ['"open', '"a"b"', '"trailing\\"', '"']) {
      expect(decodeHeaderValue(raw)).toBeUndefined();
    }
  });

  it("one round of percent-decoding, either case of hex, UTF-8 checked", () => {
    expect(decodeHeaderValue("Euro%20%E2%82%AC%20%F0%9F%98%80")).toBe("Euro € 😀");
    expect(decodeHeaderValue("caf%c3%a9")).toBe("café");
    expect(decodeHeaderValue("%2541")).toBe("%41");
    expect(decodeHeaderValue("%41%42")).toBe("AB");
    expect(decodeHeaderValue("%C0%A0")).toBeUndefined();
    expect(decodeHeaderValue("100%")).toBeUndefined();
    expect(decodeHeaderValue("%zz")).toBeUndefined();
  });

  it("reads raw UTF-8 bytes (obs-text, handed over as Latin-1) as UTF-8", () => {
    expect(decodeHeaderValue("caf\u00c3\u00a9")).toBe("café");
    expect(decodeHeaderValue("caf\u00e9")).toBeUndefined();
  });
});
