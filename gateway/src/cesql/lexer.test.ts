import { describe, expect, it } from "vitest";
import { tokenize } from "./lexer.js";

const kinds = (expression: string) => tokenize(expression).map((t) => `${t.kind}:${t.text}`);

describe("tokenize (CESQLLexer.g4)", () => {
  it("upper-cases keywords and booleans, keeps names as written", () => {
    expect(kinds("not MyExt Like 'a' and true")).toEqual([
      "keyword:NOT",
      "name:MyExt",
      "keyword:LIKE",
      "string:a",
      "keyword:AND",
      "boolean:TRUE",
      "end:",
    ]);
  });

  it("takes the longest operator and skips only space, tab, CR and LF", () => {
    expect(kinds("a<>b<=c>=d!=e<f>g\t\r\n")).toEqual([
      "name:a",
      "operator:<>",
      "name:b",
      "operator:<=",
      "name:c",
      "operator:>=",
      "name:d",
      "operator:!=",
      "name:e",
      "operator:<",
      "name:f",
      "operator:>",
      "name:g",
      "end:",
    ]);
  });

  it("keeps a sign as its own token; the parser folds it into an adjacent integer", () => {
    expect(kinds("-12")).toEqual(["operator:-", "integer:12", "end:"]);
  });

  it("records where each token starts and ends", () => {
    expect(tokenize("ab ( 'x'").map(({ start, end }) => [start, end])).toEqual([
      [0, 2],
      [3, 4],
      [5, 8],
      [8, 8],
    ]);
  });

  it("accepts function names with underscores and refuses other words with them", () => {
    expect(kinds("CONCAT_WS")).toEqual(["name:CONCAT_WS", "end:"]);
    expect(() => tokenize("_a")).toThrowError("invalid CESQL at 1:1: invalid name _a");
    expect(() => tokenize("a1_b")).toThrowError("invalid CESQL at 1:1: invalid name a1_b");
  });
});
