import { describe, expect, it } from "vitest";
import { forbiddenInString } from "./cloudevents-string.js";

describe("forbiddenInString", () => {
  it.each([
    ["a\u0000b", "a control character (U+0000)"],
    ["line1\nline2", "a control character (U+000A)"],
    ["tab\there", "a control character (U+0009)"],
    ["del\u007f", "a control character (U+007F)"],
    ["next\u0085line", "a control character (U+0085)"],
    ["\ufdd0", "a noncharacter (U+FDD0)"],
    ["x\uffff", "a noncharacter (U+FFFF)"],
    ["\u{1fffe}", "a noncharacter (U+1FFFE)"],
    ["\u{10ffff}", "a noncharacter (U+10FFFF)"],
  ])("finds what a String cannot hold in %j", (text, said) => {
    expect(forbiddenInString(text)).toBe(said);
  });

  it.each([
    "",
    "com.example.t",
    "café",
    "😀",
    "\u00a0",
    "\ufdcf",
    "\ufdf0",
    "\u{1fffd}",
    "\u{103fe}",
    "\udffe",
  ])("takes %j", (text) => {
    expect(forbiddenInString(text)).toBeUndefined();
  });
});
