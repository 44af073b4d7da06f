import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { AttributeValue, CloudEvent } from "../event/cloud-event.js";
import { CESQL_LIMITS } from "./cesql-limits.js";
import { CesqlParseError } from "./cesql-parse-error.js";
import { compileCesql } from "./compile-cesql.js";

const KINDS = [
  "math",
  "cast",
  "missingFunction",
  "functionEvaluation",
  "missingAttribute",
  "generic",
];

const event: CloudEvent = {
  attributes: {
    specversion: "1.0",
    id: "1",
    source: "/s",
    type: "t",
    subject: "uploads/a.png",
    size: "2048",
    n: 7,
    flag: true,
    constructor: "x",
  } satisfies Record<string, AttributeValue>,
};

/** Compiles and evaluates; the only exception allowed is a CesqlParseError with a sane position. */
function check(expression: string): void {
  let compiled: ReturnType<typeof compileCesql>;
  try {
    compiled = compileCesql(expression);
  } catch (error) {
    expect(error).toBeInstanceOf(CesqlParseError);
    const { offset, line, column } = (error as CesqlParseError).position;
    expect(offset).toBeGreaterThanOrEqual(0);
    expect(offset).toBeLessThanOrEqual(Math.max(expression.length, CESQL_LIMITS.maxLength));
    expect(line).toBeGreaterThanOrEqual(1);
    expect(column).toBeGreaterThanOrEqual(1);
    return;
  }
  const { value, error } = compiled.evaluate(event);
  expect(["string", "number", "boolean"]).toContain(typeof value);
  if (typeof value === "number") {
    expect(Number.isInteger(value) && value >= -(2 ** 31) && value < 2 ** 31).toBe(true);
  }
  if (error !== undefined) expect(KINDS).toContain(error.kind);
  expect(compiled.matches(event)).toBe(value === true && error === undefined);
}

const TOKENS = [
  "(",
  ")",
  ",",
  "'a%'",
  '"b_"',
  "'\\''",
  "''",
  "0",
  "1",
  "-1",
  "2147483647",
  "-2147483648",
  "TRUE",
  "false",
  "AND",
  "or",
  "XOR",
  "NOT",
  "LIKE",
  "IN",
  "EXISTS",
  "=",
  "!=",
  "<>",
  "<",
  "<=",
  ">",
  ">=",
  "+",
  "-",
  "*",
  "/",
  "%",
  "subject",
  "size",
  "n",
  "flag",
  "missing",
  "constructor",
  "INT",
  "BOOL",
  "STRING",
  "LENGTH",
  "CONCAT",
  "CONCAT_WS",
  "LOWER",
  "UPPER",
  "TRIM",
  "LEFT",
  "RIGHT",
  "SUBSTRING",
  "ABS",
  "NOPE",
  "my_ext",
  "\n",
  "!",
  "\\",
];

describe("compileCesql never throws anything but CesqlParseError, and always terminates", () => {
  it("on random strings", () => {
    fc.assert(fc.property(fc.string({ maxLength: 120 }), check), { numRuns: 2000 });
  });

  it("on random strings over CESQL's own characters", () => {
    const unit = fc.constantFrom(..."()',\"%_\\ -+*/<>=!aAnN01eTtRrUuSsIiLlKkEeXxOoDd".split(""));
    fc.assert(fc.property(fc.string({ unit, maxLength: 200 }), check), { numRuns: 2000 });
  });

  it("on random token sequences", () => {
    const tokens = fc.array(fc.constantFrom(...TOKENS), { maxLength: 40 });
    fc.assert(
      fc.property(tokens, (list) => check(list.join(" "))),
      { numRuns: 3000 },
    );
  });

  it("on deep and long inputs near the limits", () => {
    const deep = fc.record({
      open: fc.integer({ min: 0, max: 200 }),
      close: fc.integer({ min: 0, max: 200 }),
      prefix: fc.constantFrom("", "NOT ", "-", "ABS(", "1 IN ("),
      repeat: fc.integer({ min: 0, max: 100 }),
    });
    fc.assert(
      fc.property(deep, ({ open, close, prefix, repeat }) =>
        check(`${prefix.repeat(repeat)}${"(".repeat(open)}1${")".repeat(close)}`),
      ),
      { numRuns: 300 },
    );
    check(`'${"a".repeat(CESQL_LIMITS.maxLength * 4)}'`);
    check("TRUE OR ".repeat(600));
  });
});
