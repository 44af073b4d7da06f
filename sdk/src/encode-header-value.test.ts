import { describe, expect, it } from "vitest";
import { encodeHeaderValue } from "./encode-header-value.js";

describe("encodeHeaderValue (HTTP binding 3.1.3.2)", () => {
  it("encodes the spec's example", () => {
    expect(encodeHeaderValue("Euro € 😀")).toBe("Euro%20%E2%82%AC%20%F0%9F%98%80");
  });
  it("encodes space, double-quote, percent and controls, and nothing else", () => {
    expect(encodeHeaderValue('a "b" 100%\n')).toBe("a%20%22b%22%20100%25%0A");
    expect(encodeHeaderValue("/orders/42?x=1#y")).toBe("/orders/42?x=1#y");
  });
  it("round-trips through decodeURIComponent", () => {
    for (const s of ["é", "日本語", "😀", "tab\tx", "~!*'()"]) {
      expect(decodeURIComponent(encodeHeaderValue(s))).toBe(s);
    }
  });
});
