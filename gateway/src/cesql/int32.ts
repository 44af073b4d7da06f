/** The _Integer_ range (CESQL 3.1): a signed, 32-bit, two's-complement integer. */
export const INT32_MIN = -2_147_483_648;
export const INT32_MAX = 2_147_483_647;

/**
 * Clamps an exact (or out-of-range) result into the _Integer_ range. CESQL only defines overflow
 * for `ABS(-2147483648)`: "returns 2147483647 as well as a MathError" (3.5.2), i.e. the nearest
 * value in range. Herald does the same for `+`, `-`, `*`, `/` and unary `-`; the caller reports the
 * _MathError_ when `overflowed` is true.
 *
 * @example
 * clampInt32(2_147_483_648); // { value: 2147483647, overflowed: true }
 * clampInt32(-0); // { value: 0, overflowed: false }
 */
export function clampInt32(exact: number): { value: number; overflowed: boolean } {
  if (exact > INT32_MAX) return { value: INT32_MAX, overflowed: true };
  if (exact < INT32_MIN) return { value: INT32_MIN, overflowed: true };
  // `+ 0` turns JavaScript's -0 (e.g. from `-4 % 2` or `0 * -1`) into 0.
  return { value: exact + 0, overflowed: false };
}

const DECIMAL = /^[+-]?[0-9]+$/;

/**
 * Reads a base-10 32-bit integer with an optional sign, as `String -> Integer` does (3.7);
 * `undefined` when the text is not one or does not fit.
 *
 * @example
 * parseInt32("+007"); // 7
 * parseInt32("2147483648"); // undefined
 * parseInt32(" 1"); // undefined
 */
export function parseInt32(text: string): number | undefined {
  if (!DECIMAL.test(text)) return undefined;
  // Long digit strings are out of range anyway; Number() would lose their precision, not their size.
  const value = Number(text);
  return value >= INT32_MIN && value <= INT32_MAX ? value + 0 : undefined;
}
