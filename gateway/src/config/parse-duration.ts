const NUMBER = String.raw`(\d+(?:[.,]\d+)?)`;
/** `250ms`, `5s`, `1.5m`, `1h`: a number and one unit, nothing else. */
const SHORT = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/;
/**
 * ISO 8601 duration restricted to units of fixed length: days, hours, minutes, seconds (years,
 * months and weeks depend on a calendar, so `P1M` means nothing for a timeout).
 */
const ISO = new RegExp(`^P(?:${NUMBER}D)?(?:T(?:${NUMBER}H)?(?:${NUMBER}M)?(?:${NUMBER}S)?)?$`);

const MS_PER: Readonly<Record<string, bigint>> = {
  ms: 1n,
  s: 1_000n,
  m: 60_000n,
  h: 3_600_000n,
  D: 86_400_000n,
  H: 3_600_000n,
  M: 60_000n,
  S: 1_000n,
};

/**
 * Parses a duration into whole milliseconds: `250ms`, `5s`, `1m`, `1h` (a decimal number is fine:
 * `1.5s`) or an ISO 8601 duration such as `PT5S`, `PT0.5S`, `PT1M30S`, `P1DT2H`. Returns
 * `undefined` for anything else, including negative values, calendar units (`P1M`, `P1Y`, `P1W`)
 * and durations that are not a whole number of milliseconds (`PT0.0005S`).
 *
 * @example
 * parseDuration("250ms"); // 250
 * parseDuration("PT1M30S"); // 90000
 * parseDuration("5"); // undefined: a unit is required
 */
export function parseDuration(text: string): number | undefined {
  const short = SHORT.exec(text);
  if (short) return toNumber(scale(short[1] ?? "", MS_PER[short[2] ?? ""] ?? 0n));
  const iso = ISO.exec(text);
  // "PT" with no time component after it is not a duration.
  if (!iso || text.endsWith("T")) return undefined;
  const parts = [
    [iso[1], "D"],
    [iso[2], "H"],
    [iso[3], "M"],
    [iso[4], "S"],
  ].filter((part): part is [string, string] => part[0] !== undefined);
  if (parts.length === 0) return undefined;
  // ISO 8601 (4.4.3.2) allows a decimal fraction on the lowest-order component only.
  if (parts.slice(0, -1).some(([value]) => /[.,]/.test(value))) return undefined;
  let total = 0n;
  for (const [value, unit] of parts) {
    const ms = scale(value, MS_PER[unit] ?? 0n);
    if (ms === undefined) return undefined;
    total += ms;
  }
  return toNumber(total);
}

/** `value` (decimal text) times `unit`, exactly, or `undefined` when not a whole number. */
function scale(value: string, unit: bigint): bigint | undefined {
  // Decimal arithmetic on integers: 1.1 * 1000 must be 1100, not 1100.0000000000002.
  const [whole = "", fraction = ""] = value.split(/[.,]/);
  const divisor = 10n ** BigInt(fraction.length);
  const scaled = BigInt(whole + fraction) * unit;
  return scaled % divisor === 0n ? scaled / divisor : undefined;
}

function toNumber(ms: bigint | undefined): number | undefined {
  return ms === undefined || ms > BigInt(Number.MAX_SAFE_INTEGER) ? undefined : Number(ms);
}
