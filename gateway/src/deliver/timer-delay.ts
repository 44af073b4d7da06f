/** The longest delay `setTimeout` waits: it fires at once for delays that do not fit in a signed 32-bit integer. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * A delay `setTimeout` waits as meant: negative is 0, beyond `MAX_TIMER_MS` is capped (a caller
 * that must wait longer wakes early and waits again).
 *
 * @example
 * setTimeout(fire, timerDelay(dueAt - Date.now()));
 */
export function timerDelay(ms: number): number {
  return Math.min(Math.max(ms, 0), MAX_TIMER_MS);
}
