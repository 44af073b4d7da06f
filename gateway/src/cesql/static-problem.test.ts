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

describe("staticProblem: NOT x LIKE / NOT x IN, as SQL users write them (CESQL 3.6)", () => {
  it.each([
    ["NOT subject LIKE 'tmp/%'", "LIKE", "'pattern'", "x NOT LIKE 'pattern'", "x LIKE 'pattern'"],
    [
      // SQL reads it NOT (x NOT LIKE 'p'), which is x LIKE 'p': the advice must say that.
      "NOT subject NOT LIKE 'tmp/%'",
      "NOT LIKE",
      "'pattern'",
      "x LIKE 'pattern'",
      "x NOT LIKE 'pattern'",
    ],
    ["NOT type NOT IN ('a', 'b')", "NOT IN", "(...)", "x IN (...)", "x NOT IN (...)"],
    ["EXISTS subject AND NOT type IN ('a', 'b')", "IN", "(...)", "x NOT IN (...)", "x IN (...)"],
    ["NOT size IN (1, 2)", "IN", "(...)", "x NOT IN (...)", "x IN (...)"],
  ])("%s is refused: it tests the Boolean NOT x", (expression, operator, rest, write, inner) => {
    expect(problemOf(expression)).toBe(
      `NOT binds tighter than ${operator} (CESQL 3.6): NOT x ${operator} ${rest} is (NOT x) ${operator} ${rest}, which tests the Boolean NOT x; write ${write} or NOT (${inner})`,
    );
  });

  it.each([
    "subject NOT LIKE 'tmp/%'",
    "NOT (subject LIKE 'tmp/%')",
    "type NOT IN ('a', 'b')",
    "NOT (type IN ('a', 'b'))",
    // A Boolean can match these: they mean what they say.
    "NOT flag LIKE 'true'",
    "NOT flag LIKE 'f%'",
    "NOT flag IN (TRUE, 'FALSE')",
    "NOT flag IN (other)",
  ])("%s is fine", (expression) => {
    expect(problemOf(expression)).toBeUndefined();
  });
});
