import { describe, expect, it } from "vitest";
import { parseHttpDate, parseRetryAfter } from "./retry-after.js";

const now = Date.UTC(2015, 9, 21, 7, 27, 0); // Wed, 21 Oct 2015 07:27:00 GMT

describe("parseRetryAfter", () => {
  it("reads delay-seconds", () => {
    expect(parseRetryAfter("120", now)).toBe(120_000);
    expect(parseRetryAfter("0", now)).toBe(0);
    expect(parseRetryAfter(" 5 ", now)).toBe(5_000);
  });

  it("reads an HTTP-date relative to the clock", () => {
    expect(parseRetryAfter("Wed, 21 Oct 2015 07:28:00 GMT", now)).toBe(60_000);
  });

  it("never returns a negative delay for a date in the past", () => {
    expect(parseRetryAfter("Wed, 21 Oct 2015 07:00:00 GMT", now)).toBe(0);
  });

  it.each([null, "", "-1", "1.5", "soon", "2015-10-21T07:28:00Z", "Wed, 21 Oct 2015 07:28:00"])(
    "ignores %j",
    (value) => {
      expect(parseRetryAfter(value, now)).toBeUndefined();
    },
  );
});

describe("parseHttpDate (RFC 9110 section 5.6.7)", () => {
  const expected = Date.UTC(1994, 10, 6, 8, 49, 37);

  it("accepts the three forms", () => {
    expect(parseHttpDate("Sun, 06 Nov 1994 08:49:37 GMT", now)).toBe(expected);
    expect(parseHttpDate("Sunday, 06-Nov-94 08:49:37 GMT", Date.UTC(2020, 0, 1))).toBe(expected);
    expect(parseHttpDate("Sun Nov  6 08:49:37 1994", now)).toBe(expected);
  });

  it("puts a two-digit year within 50 years of now", () => {
    expect(parseHttpDate("Monday, 01-Jan-30 00:00:00 GMT", Date.UTC(2025, 0, 1))).toBe(
      Date.UTC(2030, 0, 1),
    );
    expect(parseHttpDate("Monday, 01-Jan-99 00:00:00 GMT", Date.UTC(2025, 0, 1))).toBe(
      Date.UTC(1999, 0, 1),
    );
  });

  it.each([
    "Sun, 31 Feb 1994 08:49:37 GMT",
    "Sun, 06 Foo 1994 08:49:37 GMT",
    "Sun, 06 Nov 1994 24:00:00 GMT",
    "Sun, 06 Nov 1994 08:60:00 GMT",
    "Sun, 06 Nov 1994 08:49:37 UTC",
    "06 Nov 1994 08:49:37 GMT",
  ])("rejects %j", (value) => {
    expect(parseHttpDate(value, now)).toBeUndefined();
  });
});
