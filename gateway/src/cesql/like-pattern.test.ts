import { describe, expect, it } from "vitest";
import { bestTime, onePass } from "../../test/support/one-pass.js";
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

describe("compileLikePattern: cost of `_` in a middle segment", () => {
  it("does not try a long segment at every position of a long text", () => {
    // Tried at each of 250,000 positions, this 4001-character segment took over a second; its
    // `_`s only ask for room, and the rest is found in one pass.
    const text = "a".repeat(250_000);
    const pass = onePass(text);
    const took = bestTime(() => {
      expect(compileLikePattern(`%${"_".repeat(4_000)}x%`)(text)).toBe(false);
      expect(compileLikePattern(`%${"_".repeat(4_000)}x%`)(`${text}x`)).toBe(true);
    });
    // Trying the segment at every position was thousands of passes (1.4 s here).
    expect(took / pass).toBeLessThan(150);
    expect(compileLikePattern(`%${"_".repeat(4_000)}x%`)(`${"a".repeat(3_999)}x`)).toBe(false);
    expect(compileLikePattern(`%x${"_".repeat(4_000)}%`)(`ax${"a".repeat(3_999)}`)).toBe(false);
    expect(compileLikePattern(`%x${"_".repeat(4_000)}%`)(`ax${"a".repeat(4_000)}`)).toBe(true);
    // Every other character fixed: the segment is looked for in one pass over the text.
    expect(compileLikePattern(`%${"a_".repeat(2_000)}x%`)(text.slice(0, 20_000))).toBe(false);
  });

  it.each([
    // Segments longer than one 32-bit word of state, found at the far end or not at all.
    [`%${"_a".repeat(40)}b%`, `${"b".repeat(500)}${"xa".repeat(40)}b`, true],
    [`%${"_a".repeat(40)}b%`, `${"b".repeat(500)}${"xa".repeat(39)}b`, false],
    [`x%${"_".repeat(33)}%${"_".repeat(33)}%y`, `x${"z".repeat(66)}y`, true],
    [`x%${"_".repeat(33)}%${"_".repeat(33)}%y`, `x${"z".repeat(65)}y`, false],
    // Characters that occur once or twice in a long segment (their positions kept as a list).
    [
      "%abcdefghijklmnopqrstuvwxyz0123456789_ABC%",
      "-abcdefghijklmnopqrstuvwxyz0123456789!ABC-",
      true,
    ],
    [
      "%abcdefghijklmnopqrstuvwxyz0123456789_ABC%",
      "-abcdefghijklmnopqrstuvwxyz012345678!ABC-",
      false,
    ],
    ["%abcabcabcabcabcabcabcabcabcabcab_c%", "xxabcabcabcabcabcabcabcabcabcabcabzcx", true],
    // With surrogate pairs in the text, `_` is one code point.
    ["%😀_😀%", "a😀b😀c", true],
    ["%😀__%", "😀😀", false],
    ["%é_%", "aébc", true],
  ])("%j LIKE %j is %s", (pattern, text, expected) => {
    expect(compileLikePattern(pattern)(text)).toBe(expected);
  });
});
