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
