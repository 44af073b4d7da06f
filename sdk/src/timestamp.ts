/**
 * RFC 3339 5.6 `date-time`, the CloudEvents Timestamp: a full date, `T`, a full time with
 * optional fractions, then `Z` or an offset; months, days, hours, minutes and seconds within
 * their ranges (second 60 for a leap second). Whether the day exists in its month (02-30) is
 * left to the gateway, which checks the calendar.
 */
const RFC3339 =
  /^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])T([01]\d|2[0-3]):[0-5]\d:([0-5]\d|60)(\.\d+)?(Z|[+-]([01]\d|2[0-3]):[0-5]\d)$/i;

/**
 * Whether `value` is an RFC 3339 timestamp, the type of `time` (CloudEvents 1.0.2: "MUST adhere
 * to the format specified in RFC 3339").
 *
 * @example
 * isTimestamp("2025-01-31T12:00:00Z"); // true
 * isTimestamp("2025-01-31 12:00:00"); // false
 */
export function isTimestamp(value: unknown): value is string {
  return typeof value === "string" && RFC3339.test(value);
}
