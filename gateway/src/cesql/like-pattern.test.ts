import { describe, expect, it } from "vitest";
import { compileLikePattern } from "./like-pattern.js";

describe("compileLikePattern (3.4.3)", () => {
  it.each([
    ["abc", "abc", true],
    ["abc", "abcd", false],
    ["", "", true],
    ["", "a", false],
    ["%", "", true],
    ["%%", "anything", true],
    ["a%", "a", true],
    ["%a%a%", "aa", true],
    ["%a%a%", "a", false],
    ["a%b%b", "abbb", true],
    ["a%bc%bc", "abcbc", true],
    ["a%bc%bc", "abcb", false],
    ["_", "", false],
    ["_", "😀", true],
    ["a_c", "a😀c", true],
    ["%😀", "x😀", true],
    ["a\\%", "a%", true],
    ["a\\%", "ab", false],
    ["a\\_", "a_", true],
    ["a\\_", "ab", false],
    // A backslash before anything else is a backslash (only % and _ can be escaped).
    ["a\\b", "a\\b", true],
    ["a\\\\%", "a\\%", true],
    ["a\\\\%", "a\\\\x", false],
    ["\\", "\\", true],
    ["ABC", "abc", false],
  ])("%j LIKE %j is %s", (pattern, text, expected) => {
    expect(compileLikePattern(pattern)(text)).toBe(expected);
  });

  it("does not let a segment match half of a surrogate pair", () => {
    const lowSurrogate = "😀".charAt(1);
    expect(compileLikePattern(`%${lowSurrogate}`)("😀")).toBe(false);
    expect(compileLikePattern(`%${lowSurrogate}`)(`a${lowSurrogate}`)).toBe(true);
  });

  it("stays polynomial on patterns that make backtracking matchers explode", () => {
    // A naive backtracking matcher (or the RegExp /^(.*a){n}b$/) takes exponential time here.
    const text = "a".repeat(20_000);
    const pattern = `${"%a".repeat(1_000)}%b`;
    expect(compileLikePattern(pattern)(text)).toBe(false);
    const withAnyOne = `${"%a_".repeat(1_000)}%b`;
    expect(compileLikePattern(withAnyOne)(text)).toBe(false);
    expect(compileLikePattern(`${"%a_".repeat(1_000)}%`)(text)).toBe(true);
  });
});
