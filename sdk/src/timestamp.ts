/**
 * RFC 3339 5.6 `date-time`, the CloudEvents Timestamp: a full date, `T`, a full time with
 * optional fractions, then `Z` or an offset; months, days, hours, minutes and seconds within
 * their ranges (second 60 for a leap second). `T` and `Z` may be lower case (RFC 3339 5.6 NOTE),
 * as the gateway takes them. Captures: year, month, day, hour, minute, second, the offset's sign,
 * hours and minutes.
 */
const RFC3339 =
  /^(\d{4})-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])T([01]\d|2[0-3]):([0-5]\d):([0-5]\d|60)(?:\.\d+)?(?:Z|([+-])([01]\d|2[0-3]):([0-5]\d))$/i;

/**
 * Whether `value` is an RFC 3339 timestamp, the type of `time` (CloudEvents 1.0.2: "MUST adhere
 * to the format specified in RFC 3339"), checked as the gateway checks one, so that neither
 * takes what the other refuses: the day exists in its month (02-29 in leap years only), and a
 * second 60 is a leap second, 23:59:60 UTC however its offset writes it (RFC 3339 5.7).
 *
 * @example
 * isTimestamp("2025-01-31T12:00:00Z"); // true
 * isTimestamp("1990-12-31T15:59:60-08:00"); // true: 23:59:60 UTC
 * isTimestamp("2025-01-31 12:00:00"); // false
 * isTimestamp("2025-02-29T12:00:00Z"); // false
 */
export function isTimestamp(value: unknown): value is string {
  const m = typeof value === "string" && RFC3339.exec(value);
  if (!m) return false;
  const [, year, month, day, hour, minute, second, , offH, offM] = m.map(Number) as number[];
  return (
    // Day 0 of the next month is the last of this one. Date.UTC reads years 0-99 as 19xx, and
    // the Gregorian calendar repeats every 400 years: the year is moved into 2000-2399.
    day! <= new Date(Date.UTC((year! % 400) + 2000, month!, 0)).getUTCDate() &&
    // UTC minute 1439 (23:59) is the only one with a second 60: minutes + 1 - offset is 0 mod 1440.
    (second! < 60 ||
      (hour! * 60 + minute! + 1441 - (m[7] ? Number(m[7] + (offH! * 60 + offM!)) : 0)) % 1440 === 0)
  );
}
