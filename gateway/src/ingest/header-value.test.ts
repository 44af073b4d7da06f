import { describe, expect, it } from "vitest";
import { decodeHeaderValue } from "./header-value.js";

const ok = (value: string) => ({ ok: true, value });

describe("decodeHeaderValue (HTTP binding 3.1.3.2)", () => {
  it("leaves plain printable ASCII alone", () => {
    expect(decodeHeaderValue("com.example.order.created")).toEqual(ok("com.example.order.created"));
  });

  it("decodes the spec's example", () => {
    expect(decodeHeaderValue("Euro%20%E2%82%AC%20%F0%9F%98%80")).toEqual(ok("Euro € 😀"));
  });

  it("accepts lower-case hex and unnecessarily encoded characters", () => {
    expect(decodeHeaderValue("%e2%82%ac%41")).toEqual(ok("€A"));
  });

  it("performs exactly one round of percent-decoding", () => {
    expect(decodeHeaderValue("%2541")).toEqual(ok("%41"));
    expect(decodeHeaderValue("100%25")).toEqual(ok("100%"));
  });

  it("unquotes an RFC 7230 quoted-string before percent-decoding", () => {
    expect(decodeHeaderValue('"hello world"')).toEqual(ok("hello world"));
    expect(decodeHeaderValue('"a \\"b\\" \\\\ c"')).toEqual(ok('a "b" \\ c'));
    expect(decodeHeaderValue('"%41"')).toEqual(ok("A"));
  });

  it("rejects malformed quoted-strings", () => {
    expect(decodeHeaderValue('"open').ok).toBe(false);
    expect(decodeHeaderValue('"a"b"').ok).toBe(false);
    expect(decodeHeaderValue('"trailing\\"').ok).toBe(false);
  });

  it("rejects broken percent-encodings", () => {
    expect(decodeHeaderValue("%").ok).toBe(false);
    expect(decodeHeaderValue("%4").ok).toBe(false);
    expect(decodeHeaderValue("%zz").ok).toBe(false);
  });

  it("rejects byte sequences that are not UTF-8, including overlong forms", () => {
    expect(decodeHeaderValue("%C0%A0").ok).toBe(false);
    expect(decodeHeaderValue("%FF").ok).toBe(false);
    expect(decodeHeaderValue("%E2%82").ok).toBe(false);
    expect(decodeHeaderValue("%ED%A0%80").ok).toBe(false); // an encoded surrogate
  });

  it("reads raw UTF-8 bytes that arrive as Latin-1 characters", () => {
    const raw = String.fromCharCode(...new TextEncoder().encode("é"));
    expect(decodeHeaderValue(raw)).toEqual(ok("é"));
    expect(decodeHeaderValue(String.fromCharCode(0xff)).ok).toBe(false);
  });
});
