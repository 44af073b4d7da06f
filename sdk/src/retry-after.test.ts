import { describe, expect, it } from "vitest";
import { parseRetryAfter } from "./retry-after.js";

const now = Date.UTC(1994, 10, 6, 8, 49, 30);

describe("parseRetryAfter", () => {
  it("reads delay-seconds", () => {
    expect(parseRetryAfter("0", now)).toBe(0);
    expect(parseRetryAfter("2", now)).toBe(2000);
    expect(parseRetryAfter(" 120 ", now)).toBe(120_000);
  });

  it("reads an HTTP-date in its three formats (RFC 9110 5.6.7), relative to now", () => {
    expect(parseRetryAfter("Sun, 06 Nov 1994 08:49:37 GMT", now)).toBe(7000);
    expect(parseRetryAfter("Sunday, 06-Nov-94 08:49:37 GMT", now)).toBe(7000);
    expect(parseRetryAfter("Sun Nov  6 08:49:37 1994", now)).toBe(7000);
    // A date in the past means now.
    expect(parseRetryAfter("Sat, 05 Nov 1994 08:49:37 GMT", now)).toBe(0);
  });

  it("takes nothing else: the usual backoff applies", () => {
    for (const value of [
      null,
      "",
      "1.5",
      "-5",
      "+5",
      "1e3",
      "0x10",
      "5 s",
      "soon",
      "2025-01-01",
      "2025-01-01T00:00:00Z",
      "06 Nov 1994 08:49:37 GMT",
      "Sun, 06 Nov 1994 08:49:37 PST",
      "sun, 06 nov 1994 08:49:37 gmt",
      "Sun, 31 Feb 1994 08:49:37 GMT",
      "Sun, 06 Nov 1994 24:00:00 GMT",
      "Sun, 06 Foo 1994 08:49:37 GMT",
      "Sun, 06 anF 1994 08:49:37 GMT",
    ]) {
      expect(parseRetryAfter(value, now), String(value)).toBeUndefined();
    }
  });
});
