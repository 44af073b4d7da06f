import { checkTimestamp } from "../event/attribute-rules.js";

/** `2015-05-17 18:08:09 UTC` and `2015-05-17 18:08:09 +0200`: GitLab's older timestamp style. */
const SPACED = /^(\d{4}-\d{2}-\d{2}) (\d{2}:\d{2}:\d{2}(?:\.\d+)?) ?(UTC|[+-]\d{2}:?\d{2})$/;

/**
 * A provider's timestamp as a CloudEvents `time` (RFC 3339), or `undefined` when the value is not
 * one: RFC 3339 text is kept as it is; GitLab's `2015-05-17 18:08:09 UTC` style and whole or
 * fractional seconds since the epoch (GitHub's `installation.updated_at` in some payloads,
 * Kinesis' `approximateArrivalTimestamp`) are rewritten in RFC 3339, UTC.
 *
 * @example
 * toTimestamp("2015-05-17 18:08:09 UTC"); // "2015-05-17T18:08:09Z"
 * toTimestamp(1545084650.987);            // "2018-12-17T22:10:50.987Z"
 */
export function toTimestamp(value: unknown): string | undefined {
  if (typeof value === "number") {
    // Rounded first: 253402300799.9999 s rounds to year 10000, which RFC 3339 cannot write.
    const ms = Math.round(value * 1000);
    if (!Number.isFinite(ms) || ms < 0 || ms >= 253_402_300_800_000) return undefined;
    return new Date(ms).toISOString();
  }
  if (typeof value !== "string") return undefined;
  if (checkTimestamp(value) === undefined) return value;
  const spaced = SPACED.exec(value);
  if (spaced === null) return undefined;
  const zone = spaced[3] === "UTC" ? "Z" : spaced[3]!.replace(/^([+-]\d{2}):?(\d{2})$/, "$1:$2");
  const text = `${spaced[1]}T${spaced[2]}${zone}`;
  return checkTimestamp(text) === undefined ? text : undefined;
}

/**
 * The first of `values` that is a timestamp (see `toTimestamp`), else the receipt time: the
 * adapter documents' "Current time", and GitHub's "if the proposed value is null, the default
 * timestamp SHOULD be used" (cloudevents/adapters/github.md).
 *
 * @example
 * eventTime([payload.completed_at, payload.started_at], receivedAt);
 */
export function eventTime(values: readonly unknown[], receivedAt: number): string {
  for (const value of values) {
    const time = toTimestamp(value);
    if (time !== undefined) return time;
  }
  return new Date(receivedAt).toISOString();
}
