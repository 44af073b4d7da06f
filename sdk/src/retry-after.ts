const MONTHS = "JanFebMarAprMayJunJulAugSepOctNovDec";
/**
 * RFC 9110 5.6.7: IMF-fixdate, then the obsolete asctime-date (after the same day names) and
 * rfc850-date, which a recipient must read. Captures: day, month, year, hour, minute, second of
 * the first; month, day, hour, minute, second, year of the second; as the first for the third.
 */
const HTTP_DATE =
  /^(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)(?:, (\d\d) ([A-Z][a-z]{2}) (\d{4}) (\d\d):(\d\d):(\d\d) GMT| ([A-Z][a-z]{2}) ([ \d]\d) (\d\d):(\d\d):(\d\d) (\d{4}))$|^(?:Mon|Tues|Wednes|Thurs|Fri|Satur|Sun)day, (\d\d)-([A-Z][a-z]{2})-(\d\d) (\d\d):(\d\d):(\d\d) GMT$/;

/** Milliseconds since the epoch of an HTTP-date (RFC 9110 5.6.7), or `undefined`. */
function httpDate(text: string, nowMs: number): number | undefined {
  const m = HTTP_DATE.exec(text);
  if (m === null) return undefined;
  // day, month, year, hour, minute, second
  const fields = m[1]
    ? m.slice(1, 7)
    : m[7]
      ? [m[8], m[7], m[12], m[9], m[10], m[11]]
      : m.slice(13);
  const [day, , shortYear, hour, minute, second] = fields.map(Number) as number[];
  const monthAt = MONTHS.indexOf(fields[1]!);
  let year = shortYear!;
  if (fields[2]!.length === 2) {
    // rfc850-date: a two-digit year more than 50 years ahead is in the past century.
    const thisYear = new Date(nowMs).getUTCFullYear();
    year += thisYear - (thisYear % 100);
    if (year > thisYear + 50) year -= 100;
  }
  if (monthAt < 0 || monthAt % 3 !== 0 || hour! > 23 || minute! > 59 || second! > 60) {
    return undefined;
  }
  const at = Date.UTC(year, monthAt / 3, day, hour, minute, second);
  // Date.UTC rolls 31 Feb over into March: such a day is not a date.
  return day! >= 1 && new Date(at).getUTCDate() === day ? at : undefined;
}

/**
 * Milliseconds to wait from a `Retry-After` header (RFC 9110 10.2.3): delay-seconds (digits
 * only) or an HTTP-date measured against `nowMs`; `undefined` when absent or anything else
 * ("1.5", "-5", a date in another format), which means the usual backoff.
 *
 * @example
 * parseRetryAfter("2", Date.now()); // 2000
 * parseRetryAfter("Sun, 06 Nov 1994 08:49:37 GMT", Date.now()); // 0 (in the past)
 */
export function parseRetryAfter(value: string | null, nowMs: number): number | undefined {
  if (value === null) return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  const at = httpDate(text, nowMs);
  return at === undefined ? undefined : Math.max(0, at - nowMs);
}
