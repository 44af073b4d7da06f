import { describe, expect, it, vi } from "vitest";
import { bestTime, onePass } from "../../test/support/one-pass.js";
import type { AttributeValue, CloudEvent } from "../event/cloud-event.js";
import { CESQL_LIMITS } from "./cesql-limits.js";
import { CesqlParseError } from "./cesql-parse-error.js";
import { compileCesql } from "./compile-cesql.js";

function event(extra: Readonly<Record<string, AttributeValue>> = {}): CloudEvent {
  return { attributes: { specversion: "1.0", id: "1", source: "/s", type: "t", ...extra } };
}

function run(expression: string, extra: Readonly<Record<string, AttributeValue>> = {}) {
  const { value, error } = compileCesql(expression).evaluate(event(extra));
  return error === undefined ? { value } : { value, error: error.kind };
}

describe("compileCesql: filter verdict (CESQL 1.2)", () => {
  it("passes only for Boolean true without an error", () => {
    expect(compileCesql("TRUE").matches(event())).toBe(true);
    expect(compileCesql("'true'").matches(event())).toBe(false);
    expect(compileCesql("1").matches(event())).toBe(false);
    // `NOT 10` is true, with a CastError: not a pass.
    expect(run("NOT 10")).toEqual({ value: true, error: "cast" });
    expect(compileCesql("NOT 10").matches(event())).toBe(false);
    expect(compileCesql("ABS(-2147483648) > 0").matches(event())).toBe(false);
  });

  it("compiles once and can be evaluated many times, against different events", () => {
    const expression = compileCesql("subject LIKE 'uploads/%' AND INT(size) > 1000");
    expect(expression.source).toBe("subject LIKE 'uploads/%' AND INT(size) > 1000");
    expect(expression.matches(event({ subject: "uploads/a.png", size: "2048" }))).toBe(true);
    expect(expression.matches(event({ subject: "uploads/a.png", size: 10 }))).toBe(false);
    expect(expression.matches(event({ subject: "tmp/a.png", size: "2048" }))).toBe(false);
    expect(expression.evaluate(event({ subject: "uploads/a.png" }))).toEqual({
      value: false,
      error: { kind: "missingAttribute", message: "the event has no attribute size" },
    });
  });

  it("throws CesqlParseError, a TypeError, for an invalid expression", () => {
    expect(() => compileCesql("a LIKE")).toThrowError(CesqlParseError);
    expect(() => compileCesql("a LIKE")).toThrowError(TypeError);
  });
});

describe("compileCesql: attributes (3.2)", () => {
  it("uses own properties only: constructor and __proto__ are ordinary names", () => {
    expect(run("EXISTS constructor")).toEqual({ value: false });
    expect(run("constructor = 'x'")).toEqual({ value: false, error: "missingAttribute" });
    expect(run("constructor = 'x'", { constructor: "x" })).toEqual({ value: true });
    expect(run("EXISTS tostring")).toEqual({ value: false });
  });

  it("maps JSON types: 32-bit integers and booleans keep their type, the rest is a String", () => {
    expect(run("myint", { myint: 10 })).toEqual({ value: 10 });
    expect(run("mybool", { mybool: false })).toEqual({ value: false });
    expect(run("myint", { myint: 1.5 })).toEqual({ value: "1.5" });
    expect(run("myint", { myint: 2 ** 40 })).toEqual({ value: "1099511627776" });
    expect(run("myint + 1", { myint: "41" })).toEqual({ value: 42 });
    // A binary-mode header string compares like the JSON integer would.
    expect(run("myint = 10", { myint: "10" })).toEqual({ value: true });
    expect(run("myint = 10", { myint: 10 })).toEqual({ value: true });
  });
});

describe("compileCesql: integers (3.1) overflow into a MathError, clamped", () => {
  it.each([
    ["2147483647 + 1", 2147483647],
    ["-2147483648 - 1", -2147483648],
    ["65536 * 65536", 2147483647],
    ["-65536 * 65536", -2147483648],
    ["-2147483648 / -1", 2147483647],
    ["-(-2147483648)", 2147483647],
  ])("%s is %i and a MathError", (expression, value) => {
    expect(run(expression)).toEqual({ value, error: "math" });
  });

  it("has no negative zero and truncates towards zero", () => {
    expect(Object.is(run("-4 % 2").value, 0)).toBe(true);
    expect(Object.is(run("0 * -1").value, 0)).toBe(true);
    expect(Object.is(run("-0").value, 0)).toBe(true);
    expect(run("-2147483648 % -1")).toEqual({ value: 0 });
    expect(run("-7 / 2")).toEqual({ value: -3 });
    expect(run("-7 % 3")).toEqual({ value: -1 });
    expect(run("7 % -3")).toEqual({ value: 1 });
  });

  it("an overflow or a cast error inside a larger expression makes that expression's zero", () => {
    expect(run("5 / 0 + 1")).toEqual({ value: 0, error: "math" });
    expect(run("65536 * 65536 - 1")).toEqual({ value: 0, error: "math" });
    expect(run("'abc' + 1")).toEqual({ value: 1, error: "cast" });
    expect(run("'abc' + 1 + 1")).toEqual({ value: 0, error: "cast" });
    expect(run("1 + 'abc' = 1")).toEqual({ value: false, error: "cast" });
  });
});

describe("compileCesql: logic (3.4.2)", () => {
  it("evaluates AND, OR and XOR left to right, one precedence (3.6): a OR b AND c is (a OR b) AND c", () => {
    expect(run("FALSE AND TRUE OR TRUE")).toEqual({ value: true });
    expect(run("FALSE AND (TRUE OR TRUE)")).toEqual({ value: false });
    expect(run("TRUE OR TRUE AND FALSE")).toEqual({ value: false });
    expect(run("TRUE OR (TRUE AND FALSE)")).toEqual({ value: true });
    expect(run("TRUE XOR TRUE XOR TRUE")).toEqual({ value: true });
    expect(run("TRUE XOR FALSE AND FALSE")).toEqual({ value: false });
    expect(run("TRUE AND TRUE XOR TRUE")).toEqual({ value: false });
    expect(run("FALSE OR TRUE XOR TRUE AND TRUE")).toEqual({ value: false });
    expect(run("FALSE XOR FALSE OR TRUE AND TRUE")).toEqual({ value: true });
  });

  it("gives a chain the value and error of the same expression parenthesised to the left", () => {
    const values = ["TRUE", "FALSE", "'true'", "'no'", "10", "missing"];
    const operators = ["AND", "OR", "XOR"];
    for (const a of values)
      for (const b of values)
        for (const c of values)
          for (const x of operators)
            for (const y of operators) {
              expect(run(`${a} ${x} ${b} ${y} ${c}`), `${a} ${x} ${b} ${y} ${c}`).toEqual(
                run(`(${a} ${x} ${b}) ${y} ${c}`),
              );
            }
  });

  it("short-circuits AND and OR: the right side is not evaluated", () => {
    expect(run("FALSE AND missing")).toEqual({ value: false });
    expect(run("TRUE OR missing")).toEqual({ value: true });
    expect(run("FALSE AND 1 / 0 = 1 AND missing")).toEqual({ value: false });
    expect(run("TRUE OR missing AND TRUE")).toEqual({ value: true });
    expect(run("FALSE AND missing OR TRUE")).toEqual({ value: true });
    expect(run("TRUE XOR missing")).toEqual({ value: false, error: "missingAttribute" });
  });

  it("casts operands to Boolean; an Integer operand is a CastError (TCK `NOT 10`)", () => {
    expect(run("'TRUE' AND 'false'")).toEqual({ value: false });
    expect(run("10 OR TRUE")).toEqual({ value: true, error: "cast" });
    expect(run("TRUE AND 10")).toEqual({ value: false, error: "cast" });
    expect(run("'yes' OR missing")).toEqual({ value: false, error: "cast" });
  });

  it("evaluates a long flat chain without deep recursion", () => {
    const chain = Array.from({ length: 250 }, (_, i) => `myint = ${i}`).join(" OR ");
    expect(run(chain, { myint: 249 })).toEqual({ value: true });
    expect(run(chain, { myint: 250 })).toEqual({ value: false });
  });
});

describe("compileCesql: comparison and IN (3.4.2, 3.4.5)", () => {
  it("casts the left operand of = to the right operand's type", () => {
    expect(run("TRUE = 'true'")).toEqual({ value: true });
    expect(run("1 = TRUE")).toEqual({ value: false, error: "cast" });
    expect(run("TRUE = 1")).toEqual({ value: true });
    expect(run("'abc' = 1")).toEqual({ value: false, error: "cast" });
    expect(run("'a' < 'b'")).toEqual({ value: false, error: "cast" });
    expect(run("1 < 2 = TRUE")).toEqual({ value: true });
  });

  it("evaluates every element: an element's error is false, even for NOT IN", () => {
    expect(run("1 IN (1, missing)")).toEqual({ value: false, error: "missingAttribute" });
    expect(run("1 IN (2, missing)")).toEqual({ value: false, error: "missingAttribute" });
    expect(run("1 NOT IN (2, missing)")).toEqual({ value: false, error: "missingAttribute" });
    expect(run("1 IN ('x', '1')")).toEqual({ value: true, error: "cast" });
    expect(run("1 NOT IN ('x', 2)")).toEqual({ value: true, error: "cast" });
  });

  it("gives the same value and error whatever the order of the set (3.1: unordered)", () => {
    // Stopping at the first equal element passed `1 IN (1, 'x')` and failed `1 IN ('x', 1)`.
    for (const [a, b] of [
      ["1", "'x'"],
      ["1", "1 / 0"],
      ["1", "missing"],
      ["'1'", "ABS(-2147483648)"],
    ]) {
      const forward = run(`1 IN (${a}, ${b})`);
      expect(forward.error).toBeDefined();
      expect(run(`1 IN (${b}, ${a})`)).toEqual(forward);
      expect(compileCesql(`1 IN (${a}, ${b})`).matches(event())).toBe(false);
    }
    expect(run("subject IN ('a', 'b', 'c')", { subject: "a" })).toEqual({ value: true });
    expect(run("subject NOT IN ('a', 'b', 'c')", { subject: "c" })).toEqual({ value: false });
  });
});

describe("compileCesql: functions (3.5)", () => {
  it("resolves by name (any case) and arity; a missing one is false and a MissingFunctionError", () => {
    expect(run("concat('a', 1, TRUE)")).toEqual({ value: "a1true" });
    expect(run("Substring('abcdef', 2, 2)")).toEqual({ value: "bc" });
    expect(run("SUBSTRING('abc')")).toEqual({ value: false, error: "missingFunction" });
    expect(run("IS_BOOL('true')")).toEqual({ value: false, error: "missingFunction" });
    expect(compileCesql("NOPE(missing)").evaluate(event()).error).toEqual({
      kind: "missingFunction",
      message: "no function NOPE taking 1 argument",
    });
  });

  it("an argument's error returns the function's zero value", () => {
    expect(run("LENGTH(missing)")).toEqual({ value: 0, error: "missingAttribute" });
    expect(run("UPPER(missing)")).toEqual({ value: "", error: "missingAttribute" });
    expect(run("LEFT('abc', 'x')")).toEqual({ value: "", error: "cast" });
  });

  it("counts characters as code points", () => {
    expect(run("LENGTH('😀a')")).toEqual({ value: 2 });
    expect(run("LEFT('😀ab', 1)")).toEqual({ value: "😀" });
    expect(run("RIGHT('a😀', 1)")).toEqual({ value: "😀" });
    expect(run("SUBSTRING('x😀yz', 2, 2)")).toEqual({ value: "😀y" });
    expect(run("SUBSTRING('x😀yz', -1)")).toEqual({ value: "z" });
    expect(run("RIGHT('abc', 0)")).toEqual({ value: "" });
  });

  it("TRIM removes Unicode White_Space only", () => {
    expect(run("TRIM(x)", { x: "\u0085\u3000 a b\t\n" })).toEqual({ value: "a b" });
    expect(run("TRIM(x)", { x: "\ufeffa\u0000" })).toEqual({ value: "\ufeffa\u0000" });
  });

  it("casting functions follow 3.7", () => {
    expect(run("INT('+7')")).toEqual({ value: 7 });
    expect(run("INT(' 7')")).toEqual({ value: 0, error: "cast" });
    expect(run("INT('2147483648')")).toEqual({ value: 0, error: "cast" });
    expect(run("BOOL('TrUe')")).toEqual({ value: true });
    expect(run("STRING(-0)")).toEqual({ value: "0" });
  });
});

describe("compileCesql: string size limit (CESQL_LIMITS.maxStringLength)", () => {
  const big = "a".repeat(300_000);

  it("refuses a CONCAT or CONCAT_WS result over the limit, before joining it", () => {
    expect(CESQL_LIMITS.maxStringLength).toBe(1_048_576);
    expect(run("CONCAT(id, id, id, id)", { id: big })).toEqual({
      value: "",
      error: "functionEvaluation",
    });
    expect(run("CONCAT_WS('-', id, id, id, id)", { id: big })).toEqual({
      value: "",
      error: "functionEvaluation",
    });
    const { error } = compileCesql("LENGTH(CONCAT(id, id, id, id)) > 0").evaluate(
      event({ id: big }),
    );
    expect(error?.message).toBe(
      "CONCAT: the result would be 1200000 characters; the limit is 1048576",
    );
  });

  it("joins up to the limit", () => {
    expect(run("LENGTH(CONCAT(id, id, id))", { id: big })).toEqual({ value: 900_000 });
    const exact = "b".repeat(CESQL_LIMITS.maxStringLength / 2);
    expect(run("LENGTH(CONCAT(id, id))", { id: exact })).toEqual({ value: 1_048_576 });
    // The delimiter counts: one more character is over.
    expect(run("LENGTH(CONCAT_WS('/', id, id))", { id: exact })).toEqual({
      value: 0,
      error: "functionEvaluation",
    });
  });

  it("keeps a filter of a large attribute repeated from taking the process down", () => {
    // 1300 copies of a 200 KB id would be 260 million characters; V8 aborted the process.
    const expression = compileCesql(`CONCAT(${Array(1300).fill("id").join(",")}) LIKE '%_b'`);
    expect(expression.matches(event({ id: "a".repeat(200_000) }))).toBe(false);
  });
});

describe("compileCesql: cost of string functions on a large attribute", () => {
  // A 250 KB attribute fits in an event, and a filter as long as allowed can call a string
  // function on it some 200 times. Each call used to build an array of every code point: two
  // seconds of a blocked event loop for every event of the subscription's type.
  const big = "a".repeat(250_000);

  it.each([
    "LENGTH(big) > 0",
    "LEFT(big, 1) = 'a'",
    "RIGHT(big, 1) = 'a'",
    "SUBSTRING(big, 2) <> ''",
    "big LIKE '%_a'",
  ])(
    "%s, as many times as the length limit allows, costs a few passes over the text, not one per call",
    (call) => {
      const times = Math.floor((CESQL_LIMITS.maxLength + 5) / (call.length + 5));
      const expression = compileCesql(Array(times).fill(call).join(" AND "));
      const pass = onePass(big);
      const took = bestTime(() => expect(expression.matches(event({ big }))).toBe(true));
      // An array of the code points per call was thousands of passes (2 s here).
      expect(took / pass).toBeLessThan(150);
    },
  );

  it("runs a function call written many times once per evaluation (CESQL 1, referential transparency)", () => {
    // Each LOWER copies the attribute: 180 of them on a 250 KB subject held the event loop for
    // two seconds per event, and no other publisher was answered meanwhile.
    let reads = 0;
    const withSubject = (subject: string): CloudEvent => {
      const attributes: Record<string, AttributeValue> = { ...event().attributes };
      Object.defineProperty(attributes, "subject", {
        enumerable: true,
        get: () => {
          reads += 1;
          return subject;
        },
      });
      return { attributes };
    };
    const term = "LOWER(subject) = 'x'";
    const times = Math.floor(CESQL_LIMITS.maxLength / (term.length + 4)) - 1;
    const expression = compileCesql(
      `${Array(times).fill(term).join(" OR ")} OR LOWER(SUBJECT) = 'b'`,
    );
    expect(expression.matches(withSubject("B"))).toBe(true);
    expect(reads).toBe(1);
    // Nothing is kept from one evaluation to the next.
    reads = 0;
    expect(expression.matches(withSubject("C"))).toBe(false);
    expect(reads).toBe(1);
    expect(expression.matches(withSubject("X"))).toBe(true);
    // A set is the same: `x IN (f(a), f(a), ...)` computes f(a) once.
    reads = 0;
    const set = compileCesql(`'b' IN (${Array(100).fill("LOWER(subject)").join(", ")})`);
    expect(set.matches(withSubject("B"))).toBe(true);
    expect(reads).toBe(1);
  });

  it("still reports the error of a repeated call, and never keeps its value", () => {
    const expression = compileCesql("LEFT(subject, n) = 'a' OR LEFT(subject, n) = 'ab'");
    expect(expression.evaluate(event({ subject: "abc", n: -1 }))).toEqual({
      value: false,
      error: { kind: "functionEvaluation", message: "LEFT: length -1 is negative" },
    });
    expect(expression.evaluate(event({ subject: "abc", n: 2 }))).toEqual({ value: true });
    expect(expression.evaluate(event({ subject: "abc", n: 1 }))).toEqual({ value: true });
    expect(expression.evaluate(event({ subject: "xbc", n: 1 }))).toEqual({ value: false });
  });

  it("LIKE with `_` on a text of emoji, as many times as the length limit allows, reads its code points once", () => {
    // With surrogates in the text, `_` needs it as code points: an array of them per LIKE was
    // three seconds for one event under a filter of 200 such LIKEs.
    const emoji = "😀".repeat(125_000);
    const call = "big LIKE '%_😀%'";
    const times = Math.floor((CESQL_LIMITS.maxLength + 5) / (call.length + 5));
    const expression = compileCesql(Array(times).fill(call).join(" AND "));
    const pass = onePass(emoji);
    const took = bestTime(() => expect(expression.matches(event({ big: emoji }))).toBe(true));
    // Once is some 70 passes here (the array of code points is most of it); per LIKE, 10,000.
    expect(took / pass).toBeLessThan(500);
  });

  it.each([
    "LENGTH(big) > 0",
    "SUBSTRING(big, 2) <> ''",
    "LEFT(big, 1000) <> ''",
    "SUBSTRING(big, -1000, 1) = '😀'",
  ])("%s on a text of emoji, as many times as the length limit allows, walks it once", (call) => {
    // With surrogates in the text, each call walked the whole text: 200 LENGTHs of a 250 KB
    // attribute of emoji were half a second of a blocked event loop for every event. The walk
    // reads UTF-16 units, so their count tells the passes apart without a clock.
    const emoji = "😀".repeat(1000);
    const times = Math.floor((CESQL_LIMITS.maxLength + 5) / (call.length + 5));
    const expression = compileCesql(Array(times).fill(call).join(" AND "));
    const reads = vi.spyOn(String.prototype, "charCodeAt");
    try {
      expect(expression.matches(event({ big: emoji }))).toBe(true);
      // Once is 2 reads per unit; a walk per call was some 400.
      expect(reads.mock.calls.length / emoji.length).toBeLessThan(10);
    } finally {
      reads.mockRestore();
    }
  });

  it("counts code points the same in a long text, whose character starts are kept", () => {
    // Over 256 units with surrogates, positions come from the kept starts instead of a walk.
    const text = `😀${"b".repeat(300)}\uD800x\uDC00\uDBFF\uDFFF${"😀".repeat(200)}c`;
    const chars = Array.from(text); // code points; a lone surrogate is one, as in CESQL here
    const n = chars.length;
    expect(run("LENGTH(t)", { t: text })).toEqual({ value: n });
    for (const k of [0, 1, 2, 301, 302, 303, 304, 305, n - 1, n]) {
      expect(run(`LEFT(t, ${k})`, { t: text })).toEqual({ value: chars.slice(0, k).join("") });
      expect(run(`RIGHT(t, ${k})`, { t: text })).toEqual({ value: chars.slice(n - k).join("") });
      if (k === 0) continue;
      expect(run(`SUBSTRING(t, ${k})`, { t: text })).toEqual({
        value: chars.slice(k - 1).join(""),
      });
      expect(run(`SUBSTRING(t, -${k}, 3)`, { t: text })).toEqual({
        value: chars.slice(n - k, n - k + 3).join(""),
      });
    }
  });

  it("counts characters as code points, with or without surrogates in the text", () => {
    const text = `😀${"b".repeat(10)}\uD800x`;
    expect(run("LENGTH(t)", { t: text })).toEqual({ value: 13 });
    expect(run("LEFT(t, 2)", { t: text })).toEqual({ value: "😀b" });
    expect(run("RIGHT(t, 2)", { t: text })).toEqual({ value: "\uD800x" });
    expect(run("SUBSTRING(t, 11, 2)", { t: text })).toEqual({ value: "b\uD800" });
    expect(run("SUBSTRING(t, -13, 1)", { t: text })).toEqual({ value: "😀" });
    expect(run("SUBSTRING(t, 14)", { t: text })).toEqual({
      value: "",
      error: "functionEvaluation",
    });
  });
});
