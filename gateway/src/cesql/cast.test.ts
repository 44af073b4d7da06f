import { describe, expect, it } from "vitest";
import { castTo, toBoolean, toInteger, toText } from "./cast.js";

describe("casts (CESQL 3.7)", () => {
  it("String -> Integer: base 10, optional sign, 32 bits, else 0 and a failure", () => {
    expect(toInteger("-2147483648")).toEqual({ value: -2147483648 });
    expect(toInteger("+0042")).toEqual({ value: 42 });
    expect(toInteger("-0")).toEqual({ value: 0 });
    for (const text of ["2147483648", "1e3", "0x10", "1.0", "", " 1", "1 ", "+", "٣"]) {
      expect(toInteger(text).value).toBe(0);
      expect(toInteger(text).failure).toMatch(/^cannot cast ".*" to Integer$/);
    }
  });

  it("String -> Integer: exactly an optional sign and base-10 digits within 32 bits", () => {
    const accepted: [string, number][] = [
      ["+1", 1],
      ["-0", 0],
      ["+0", 0],
      ["0000000000000000000012", 12],
      ["2147483647", 2147483647],
      ["-2147483648", -2147483648],
    ];
    for (const [text, value] of accepted) expect(toInteger(text)).toEqual({ value });
    const refused = [
      "  12 ",
      "\t12",
      "12\n",
      "-2147483649",
      "99999999999999999999",
      "+-1",
      "1_000",
    ];
    for (const text of refused) {
      expect(toInteger(text)).toEqual({ value: 0, failure: expect.stringContaining("to Integer") });
    }
    expect(Object.is(toInteger("-0").value, -0)).toBe(false);
  });

  it("String -> Boolean: lower case exactly true/false", () => {
    for (const text of ["TRUE", "True", "tRuE"]) {
      expect(toBoolean(text, "explicit")).toEqual({ value: true });
    }
    for (const text of [" true", "true ", "1", "0", "t", "yes", "", "truee"]) {
      expect(toBoolean(text, "explicit")).toEqual({
        value: false,
        failure: `cannot cast ${JSON.stringify(text)} to Boolean`,
      });
    }
    expect(toBoolean("FaLsE", "implicit")).toEqual({ value: false });
    expect(toBoolean("yes", "explicit")).toEqual({
      value: false,
      failure: 'cannot cast "yes" to Boolean',
    });
  });

  it("Integer -> Boolean: explicit is x != 0; implicit is a CastError with false", () => {
    expect(toBoolean(0, "explicit")).toEqual({ value: false });
    expect(toBoolean(-50, "explicit")).toEqual({ value: true });
    expect(toBoolean(1, "implicit").value).toBe(false);
    expect(toBoolean(1, "implicit").failure).toBeDefined();
  });

  it("to String and Boolean -> Integer", () => {
    expect(toText(-12)).toBe("-12");
    expect(toText(false)).toBe("false");
    expect(toInteger(true)).toEqual({ value: 1 });
    expect(castTo(false, "Integer")).toEqual({ value: 0 });
    expect(castTo(7, "String")).toEqual({ value: "7" });
  });

  it("cuts long values short in messages", () => {
    expect(toInteger("x".repeat(100)).failure).toBe(`cannot cast "${"x".repeat(40)}…" to Integer`);
  });
});
