import { describe, expect, it } from "vitest";
import { parseCesql } from "./parse-cesql.js";
import { staticProblem } from "./static-problem.js";

const problemOf = (expression: string) => staticProblem(parseCesql(expression));

describe("staticProblem: the draft type tests IS_INT and IS_BOOL", () => {
  it.each([
    ["IS_INT(size)", "IS_INT", "INT"],
    ["is_bool(flag) AND EXISTS flag", "IS_BOOL", "BOOL"],
  ])("%s is refused as unknown, naming the cast that replaces it", (expression, name, cast) => {
    expect(problemOf(expression)).toBe(
      `unknown function ${name} with 1 argument (${name} was dropped before CESQL v1.0.0: write ${cast}(x) where the value is used; an event whose x does not cast does not pass)`,
    );
  });

  it("other unknown functions keep the short message", () => {
    expect(problemOf("IS_STRING(type)")).toBe("unknown function IS_STRING with 1 argument");
    expect(problemOf("INT(size) > 5")).toBeUndefined();
  });
});

describe("staticProblem: an expression that reads no attribute has one value for every event", () => {
  it.each([
    [`'type' = 'com.example'`, "it is false for every event", "type"],
    [`"subject" LIKE 'uploads/%'`, "it is false for every event", "subject"],
    ["1 / 0 = 0", "it fails for every event (division by zero)", undefined],
    ["INT('abc') > 1", `it fails for every event (cannot cast "abc" to Integer)`, undefined],
    ["TRUE AND FALSE", "it is false for every event", undefined],
  ])("%s never matches: refused", (expression, outcome, quoted) => {
    const hint =
      quoted === undefined
        ? ""
        : `; "${quoted}" is a string literal there, not the attribute: write attribute names without quotes`;
    expect(problemOf(expression)).toBe(
      `it never matches: it reads no attribute, and ${outcome}${hint}`,
    );
  });

  it("a constant that is true, a bare FALSE, and anything reading the event are left alone", () => {
    for (const expression of [
      "TRUE",
      "FALSE",
      "1 + 1 = 2",
      "'a' LIKE 'a%'",
      "type = 'com.example'",
      "EXISTS subject OR 1 / 0 = 0",
      "NOT EXISTS subject",
    ]) {
      expect(problemOf(expression), expression).toBeUndefined();
    }
  });
});
