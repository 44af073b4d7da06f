const MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"];

// The three HTTP-date forms a recipient must accept (RFC 9110 section 5.6.7).
const TIME = "(?<hour>\\d{2}):(?<minute>\\d{2}):(?<second>\\d{2})";
const IMF_FIXDATE = new RegExp(
  `^[a-z]{3}, (?<day>\\d{2}) (?<month>[a-z]{3}) (?<year>\\d{4}) ${TIME} GMT$`,
  "i",
);
const RFC_850 = new RegExp(
  `^[a-z]{6,9}, (?<day>\\d{2})-(?<month>[a-z]{3})-(?<year>\\d{2}) ${TIME} GMT$`,
  "i",
);
const ASCTIME = new RegExp(
  `^[a-z]{3} (?<month>[a-z]{3}) (?<day>[ \\d]\\d) ${TIME} (?<year>\\d{4})$`,
  "i",
);

type DateField = "day" | "month" | "year" | "hour" | "minute" | "second";

/**
 * Epoch milliseconds of an HTTP-date in any of its three forms (RFC 9110 section 5.6.7), or
 * `undefined` when the text is none or names no real time. `now` places two-digit years.
 *
 * @example
 * parseHttpDate("Sun, 06 Nov 1994 08:49:37 GMT", Date.now()); // 784111777000
 */
export function parseHttpDate(value: string, now: number): number | undefined {
  const fields = (IMF_FIXDATE.exec(value) ?? RFC_850.exec(value) ?? ASCTIME.exec(value))?.groups;
  if (fields === undefined) return undefined;
  // Every form has all six named groups.
  const { day, month, year, hour, minute, second } = fields as Record<DateField, string>;
  const monthIndex = MONTHS.indexOf(month.toLowerCase());
  if (monthIndex === -1 || Number(hour) > 23 || Number(minute) > 59 || Number(second) > 60) {
    return undefined;
  }
  let fullYear = Number(year);
  if (year.length === 2) {
    // A two-digit year that would be more than 50 years in the future is in the past century.
    const thisYear = new Date(now).getUTCFullYear();
    fullYear += Math.floor(thisYear / 100) * 100;
    if (fullYear > thisYear + 50) fullYear -= 100;
  }
  const time = Date.UTC(
    fullYear,
    monthIndex,
    Number(day),
    Number(hour),
    Number(minute),
    Number(second),
  );
  // Date.UTC rolls 31 Feb over into March; a day that does not survive is no date.
  return new Date(time).getUTCDate() === Number(day) ? time : undefined;
}

/**
 * How long a sink asked us to wait, from its `Retry-After` header (RFC 9110 section 10.2.3):
 * `delay-seconds` (`120`) or an `HTTP-date` (`Wed, 21 Oct 2015 07:28:00 GMT`), the latter
 * measured from `now` (the injected clock) and never negative. `undefined` when the header is
 * absent or malformed, so a bad header never blocks a retry.
 *
 * @example
 * parseRetryAfter("120", clock.now()); // 120_000
 * parseRetryAfter("Wed, 21 Oct 2015 07:28:00 GMT", Date.UTC(2015, 9, 21, 7, 27, 0)); // 60_000
 */
export function parseRetryAfter(value: string | null, now: number): number | undefined {
  if (value === null) return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const date = parseHttpDate(trimmed, now);
  return date === undefined ? undefined : Math.max(0, date - now);
}
