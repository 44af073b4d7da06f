import { describe, expect, it } from "vitest";
import { isTimestamp } from "./timestamp.js";

describe("isTimestamp", () => {
  it.each([
    "2018-04-05T17:31:00Z",
    "2018-04-05T17:31:00.123456789Z",
    "2018-04-05T19:31:00+02:00",
    "2018-04-05T12:31:00.5-05:00",
    "2018-04-05T17:31:00-00:00", // RFC 3339 4.3: UTC, local offset unknown
    "2018-04-05t17:31:00z", // RFC 3339 5.6 NOTE: T and Z may be lower case
    "0000-01-01T00:00:00Z",
    "9999-12-31T23:59:59.999Z",
    "2024-02-29T00:00:00Z", // leap year
    "2000-02-29T00:00:00Z", // divisible by 400
    "0000-02-29T00:00:00Z", // year 0 is a leap year (divisible by 400), not 1900
    "1990-12-31T23:59:60Z", // RFC 3339 5.7: a leap second
    "1990-12-31T15:59:60-08:00", // the same leap second in local time
    "1991-01-01T05:29:60+05:30", // and east of UTC, the next day
    "2018-04-05T17:31:00+23:59",
  ])("takes %j", (value) => {
    expect(isTimestamp(value)).toBe(true);
  });

  it.each([
    "",
    "yesterday",
    "2018-04-05",
    "2018-04-05 17:31:00Z", // a space for T (RFC 3339 5.6 NOTE allows it; the gateway does not)
    "2018-04-05T17:31:00", // no offset
    "2018-04-05T17:31Z", // no seconds
    "2018-04-05T17:31:00.Z", // a point without fraction digits
    "2018-04-05T17:31:00+0200",
    "2018-04-05T17:31:00+02",
    "18-04-05T17:31:00Z",
    "+02018-04-05T17:31:00Z",
    "2018-13-05T17:31:00Z",
    "2018-00-05T17:31:00Z",
    "2018-04-00T17:31:00Z",
    "2018-04-31T17:31:00Z", // April has 30 days
    "2023-02-29T00:00:00Z", // no leap year
    "1900-02-29T00:00:00Z", // divisible by 100, not by 400
    "2018-04-05T24:00:00Z",
    "2018-04-05T17:60:00Z",
    "2018-04-05T17:31:61Z",
    "2018-04-05T12:00:60Z", // second 60 outside 23:59 UTC
    "1990-12-31T23:59:60+01:00", // 22:59:60 UTC
    "2018-04-05T17:31:00+24:00",
    "2018-04-05T17:31:00+02:60",
    "2018-04-05T17:31:00Z\n",
    "２０１８-04-05T17:31:00Z", // full-width digits
  ])("refuses %j", (value) => {
    expect(isTimestamp(value)).toBe(false);
  });

  it("refuses what is not a string", () => {
    for (const value of [undefined, null, 0, new Date(0), ["2018-04-05T17:31:00Z"]]) {
      expect(isTimestamp(value)).toBe(false);
    }
  });
});
