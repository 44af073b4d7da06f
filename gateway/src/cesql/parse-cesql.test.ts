import { describe, expect, it } from "vitest";
import { CESQL_LIMITS } from "./cesql-limits.js";
import { CesqlParseError } from "./cesql-parse-error.js";
import { parseCesql } from "./parse-cesql.js";

function parseError(expression: string): CesqlParseError {
  try {
    parseCesql(expression);
  } catch (error) {
    if (error instanceof CesqlParseError) return error;
    throw error;
  }
  throw new Error(`expected ${JSON.stringify(expression)} not to parse`);
}

const attribute = (name: string) => ({ kind: "attribute", name });
const literal = (value: string | number | boolean) => ({ kind: "literal", value });

describe("parseCesql: precedence and associativity (3.6, CESQLParser.g4)", () => {
  it("prefix NOT binds tighter than comparisons: NOT a = b is (NOT a) = b", () => {
    expect(parseCesql("NOT a = b")).toEqual({
      kind: "comparison",
      operands: [{ kind: "not", operand: attribute("a") }, attribute("b")],
      operators: ["="],
    });
  });

  it("AND, OR and XOR share one level: a AND b OR c is one chain", () => {
    // One flat chain; compile-logic evaluates it left to right (3.6).
    expect(parseCesql("a AND b OR c")).toEqual({
      kind: "logic",
      operands: [attribute("a"), attribute("b"), attribute("c")],
      operators: ["AND", "OR"],
    });
  });

  it("LIKE and IN bind tighter than arithmetic, arithmetic tighter than comparison", () => {
    expect(parseCesql("a + b LIKE 'x' = c IN (1)")).toEqual({
      kind: "comparison",
      operands: [
        {
          kind: "arithmetic",
          operands: [
            attribute("a"),
            { kind: "like", operand: attribute("b"), pattern: "x", negated: false },
          ],
          operators: ["+"],
        },
        { kind: "in", operand: attribute("c"), set: [literal(1)], negated: false },
      ],
      operators: ["="],
    });
  });

  it("postfix LIKE / IN apply left to right and take NOT", () => {
    expect(parseCesql("a NOT IN (1, 2) NOT LIKE 'f%'")).toEqual({
      kind: "like",
      operand: {
        kind: "in",
        operand: attribute("a"),
        set: [literal(1), literal(2)],
        negated: true,
      },
      pattern: "f%",
      negated: true,
    });
  });

  it("keywords, names and functions are case-insensitive; attributes are lower-cased", () => {
    expect(parseCesql("exists SUBJECT")).toEqual({ kind: "exists", name: "subject" });
    expect(parseCesql("Int(MyExt1)")).toEqual({
      kind: "call",
      name: "INT",
      args: [attribute("myext1")],
    });
    expect(parseCesql("concat_ws(',')")).toEqual({
      kind: "call",
      name: "CONCAT_WS",
      args: [literal(",")],
    });
  });

  it("names may start with digits; an all-digit word is an integer", () => {
    expect(parseCesql("1abc")).toEqual(attribute("1abc"));
    expect(parseCesql("007")).toEqual(literal(7));
  });
});

describe("parseCesql: integer literals (2.2)", () => {
  it("a sign right before the digits is part of the literal", () => {
    expect(parseCesql("-2147483648")).toEqual(literal(-2147483648));
    expect(parseCesql("+5")).toEqual(literal(5));
    expect(parseCesql("4-1")).toEqual({
      kind: "arithmetic",
      operands: [literal(4), literal(1)],
      operators: ["-"],
    });
    expect(parseCesql("- 5")).toEqual({ kind: "negate", operand: literal(5) });
    expect(parseCesql("--10")).toEqual({ kind: "negate", operand: literal(-10) });
  });

  it("must fit in 32 bits", () => {
    expect(parseError("2147483648").message).toBe(
      "invalid CESQL at 1:1: integer 2147483648 is outside the 32-bit range",
    );
    expect(parseError("1 + - 2147483648").position).toEqual({ offset: 6, line: 1, column: 7 });
    expect(parseError("-2147483649").reason).toBe(
      "integer -2147483649 is outside the 32-bit range",
    );
  });
});

describe("parseCesql: string literals (2.2, CESQLLexer.g4)", () => {
  it.each([
    [`'it''s'`, "it's"],
    [`"say ""hi"""`, 'say "hi"'],
    [`'a\\'b'`, "a'b"],
    [`"a\\"b"`, 'a"b'],
    [`"a\\'b"`, "a\\'b"],
    [`'100\\%'`, "100\\%"],
    [`'a\\\\'`, "a\\\\"],
    [`'line\nbreak'`, "line\nbreak"],
    [`''`, ""],
  ])("%s is %j", (source, value) => {
    expect(parseCesql(source)).toEqual(literal(value));
  });
});

describe("parseCesql: errors carry a position", () => {
  it.each([
    ["ABC(", 4, "expected an expression, found end of expression"],
    ["x LIKE 123", 7, "LIKE needs a string literal pattern, found integer 123"],
    ["(a = 1", 6, "expected ')' to close '(' at 1:1, found end of expression"],
    ["a b", 2, "expected an operator or end of expression, found name b"],
    ["a ! b", 2, "unexpected character '!' (did you mean '!='?)"],
    ["a = 'abc", 4, "unterminated string literal (no closing ')"],
    ["a = 'abc\\'", 4, "unterminated string literal (no closing ')"],
    ["my_attr = 1", 8, "expected '(' after function name my_attr, found '='"],
    ["abc1(2)", 0, "invalid function name abc1: only letters and '_'"],
    [
      "1_a",
      0,
      "invalid name 1_a: attribute names are letters and digits, function names letters and '_'",
    ],
    ["EXISTS 1", 7, "expected an attribute name after EXISTS, found integer 1"],
    ["a IN ()", 6, "expected an expression, found ')'"],
    ["a IN 1", 5, "expected '(' after IN, found integer 1"],
    ["a NOT b", 6, "expected LIKE or IN after NOT, found name b"],
    ["", 0, "expected an expression, found end of expression"],
    ["a = $", 4, "unexpected character '$' (U+0024)"],
    ["a\u00a0= 1", 1, "unexpected character U+00A0"],
    ["a + + 1", 4, "expected an expression, found '+'"],
    ["TRUE AND", 8, "expected an expression, found end of expression"],
  ])("%j at offset %i: %s", (expression, offset, reason) => {
    const error = parseError(expression);
    expect(error).toBeInstanceOf(TypeError);
    expect(error.kind).toBe("parse");
    expect(error.position.offset).toBe(offset);
    expect(error.reason).toBe(reason);
    expect(error.message).toBe(`invalid CESQL at 1:${offset + 1}: ${reason}`);
  });

  it("counts lines and columns across \\n, \\r\\n and \\r", () => {
    expect(parseError("TRUE AND\n  (x = 1").position).toEqual({ offset: 17, line: 2, column: 9 });
    expect(parseError("a = 1 OR\r\nb =").position).toEqual({ offset: 13, line: 2, column: 4 });
    expect(parseError("a\r\rb").position).toEqual({ offset: 3, line: 3, column: 1 });
  });
});

describe("parseCesql: limits", () => {
  it(`refuses more than ${CESQL_LIMITS.maxLength} characters, at the first one too many`, () => {
    const ok = `'${"a".repeat(CESQL_LIMITS.maxLength - 2)}'`;
    expect(parseCesql(ok)).toEqual(literal("a".repeat(CESQL_LIMITS.maxLength - 2)));
    const error = parseError(`${ok} `);
    expect(error.position).toEqual({ offset: 4096, line: 1, column: 4097 });
    expect(error.reason).toBe("expression is longer than 4096 characters");
  });

  it(`refuses nesting deeper than ${CESQL_LIMITS.maxDepth}, at the opening token`, () => {
    const nest = (depth: number) => `${"(".repeat(depth)}1${")".repeat(depth)}`;
    expect(parseCesql(nest(CESQL_LIMITS.maxDepth))).toEqual(literal(1));
    const error = parseError(nest(CESQL_LIMITS.maxDepth + 1));
    expect(error.position.offset).toBe(CESQL_LIMITS.maxDepth);
    expect(error.reason).toBe("expression is nested deeper than 64 levels");

    expect(() => parseCesql(`${"NOT ".repeat(64)}TRUE`)).not.toThrow();
    expect(parseError(`${"NOT ".repeat(65)}TRUE`).position.offset).toBe(256);
    expect(parseError(`${"ABS(".repeat(65)}1${")".repeat(65)}`).position.offset).toBe(259);
    expect(parseError(`${"1 IN (".repeat(65)}1${")".repeat(65)}`).position.offset).toBe(389);
  });

  it("long flat chains are not nesting: they stay one node", () => {
    const terms = Array.from({ length: 300 }, (_, i) => `a = ${i}`);
    const node = parseCesql(terms.join(" OR "));
    expect(node.kind).toBe("logic");
    expect(node.kind === "logic" && node.operands.length).toBe(300);
  });
});
