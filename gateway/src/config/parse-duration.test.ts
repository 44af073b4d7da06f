import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { parseDuration } from "./parse-duration.js";

describe("parseDuration", () => {
  test.each([
    ["250ms", 250],
    ["0ms", 0],
    ["5s", 5_000],
    ["1.5s", 1_500],
    ["1.1s", 1_100],
    ["1m", 60_000],
    ["1h", 3_600_000],
    ["PT5S", 5_000],
    ["PT0.5S", 500],
    ["PT0,5S", 500],
    ["PT1M30S", 90_000],
    ["PT2H", 7_200_000],
    ["PT1H1M1.001S", 3_661_001],
    ["P1D", 86_400_000],
    ["P1DT1S", 86_401_000],
    ["PT0S", 0],
  ])("%s is %d ms", (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  test.each([
    ["", "empty"],
    ["5", "no unit"],
    ["5 s", "space before the unit"],
    [" 5s", "leading space"],
    ["5S", "upper-case short unit"],
    ["-5s", "negative"],
    ["5d", "unknown short unit"],
    ["1.s", "dangling decimal point"],
    [".5s", "no leading digit"],
    ["0.5ms", "not a whole millisecond"],
    ["PT0.0005S", "not a whole millisecond"],
    ["P", "no component"],
    ["PT", "no time component"],
    ["P1DT", "T without a time component"],
    ["P1M", "calendar month"],
    ["P1Y", "calendar year"],
    ["P1W", "week"],
    ["PT1.5M30S", "fraction on a component that is not the last"],
    ["pt5s", "lower-case ISO designators"],
    ["PT5S ", "trailing space"],
    ["5s5ms", "two short units"],
    ["99999999999999999999h", "beyond Number.MAX_SAFE_INTEGER"],
  ])("rejects %j (%s)", (text) => {
    expect(parseDuration(text)).toBeUndefined();
  });

  test("short and ISO forms agree on whole seconds", () => {
    fc.assert(
      fc.property(fc.nat({ max: 1_000_000 }), (seconds) => {
        expect(parseDuration(`${seconds}s`)).toBe(seconds * 1_000);
        expect(parseDuration(`PT${seconds}S`)).toBe(seconds * 1_000);
        expect(parseDuration(`${seconds * 1_000}ms`)).toBe(seconds * 1_000);
      }),
    );
  });

  test("ISO components add up", () => {
    fc.assert(
      fc.property(fc.nat(30), fc.nat(23), fc.nat(59), fc.nat(59), fc.nat(999), (d, h, m, s, ms) => {
        const fraction = String(ms).padStart(3, "0");
        const expected = (((d * 24 + h) * 60 + m) * 60 + s) * 1_000 + ms;
        expect(parseDuration(`P${d}DT${h}H${m}M${s}.${fraction}S`)).toBe(expected);
      }),
    );
  });
});
