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
  it("encodes every character outside U+0021..U+007E, an unpaired surrogate as U+FFFD", () => {
    let all = "";
    for (let c = 0; c < 0x800; c++) all += String.fromCharCode(c);
    const expected = [...all]
      .map((ch) => {
        const c = ch.charCodeAt(0);
        if (c > 0x20 && c < 0x7f && ch !== '"' && ch !== "%") return ch;
        return [...new TextEncoder().encode(ch)]
          .map((b) => `%${b.toString(16).toUpperCase().padStart(2, "0")}`)
          .join("");
      })
      .join("");
    expect(encodeHeaderValue(all)).toBe(expected);
    expect(encodeHeaderValue("a\ud800b\udc00 \ud83d\ude00")).toBe(
      "a%EF%BF%BDb%EF%BF%BD%20%F0%9F%98%80",
    );
    expect(encodeHeaderValue("\udc00\ud800")).toBe("%EF%BF%BD%EF%BF%BD");
  });
  it("round-trips through decodeURIComponent", () => {
    for (const s of ["é", "日本語", "😀", "tab\tx", "~!*'()"]) {
      expect(decodeURIComponent(encodeHeaderValue(s))).toBe(s);
    }
  });
});
