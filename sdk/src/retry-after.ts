/**
 * Milliseconds to wait from a `Retry-After` header (RFC 9110 10.2.3): delay-seconds or an
 * HTTP-date measured against `nowMs`; `undefined` when absent or unreadable.
 *
 * @example
 * parseRetryAfter("2", Date.now()); // 2000
 */
export function parseRetryAfter(value: string | null, nowMs: number): number | undefined {
  if (value === null) return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  const at = Date.parse(text);
  return Number.isNaN(at) ? undefined : Math.max(0, at - nowMs);
}
