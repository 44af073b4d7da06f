import { timerDelay } from "./timer-delay.js";

/**
 * How a queue's `lease` waits without polling: resolves when something calls the waiter it adds
 * to `waiters` (an accept, reschedule or redrive wakes them all), when `signal` aborts, or after
 * `delayMs` (the next due time or lease expiry; `undefined` for none). Cleans up after itself.
 *
 * @example
 * await waitForWake(waiters, signal, next === undefined ? undefined : next - clock.now());
 */
export function waitForWake(
  waiters: Set<() => void>,
  signal: AbortSignal,
  delayMs: number | undefined,
): Promise<void> {
  return new Promise<void>((resolve) => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      waiters.delete(done);
      resolve();
    };
    waiters.add(done);
    signal.addEventListener("abort", done, { once: true });
    if (delayMs !== undefined) timer = setTimeout(done, timerDelay(delayMs));
  });
}
