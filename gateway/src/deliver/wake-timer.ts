import type { Clock } from "../ports/clock.js";
import { timerDelay } from "./timer-delay.js";

/**
 * Timers as a port, injected beside the clock so tests move time by hand: a test's timers fire
 * when its clock is advanced, never after a real wait.
 */
export interface Timers {
  /** Calls `callback` once after `delayMs`; the function returned cancels it. */
  set(callback: () => void, delayMs: number): () => void;
}

/**
 * `setTimeout`, capped to what it can wait (a longer wait just wakes early and re-arms).
 *
 * @example
 * const cancel = systemTimers.set(() => console.log("later"), 1_000);
 * cancel();
 */
export const systemTimers: Timers = {
  set(callback, delayMs) {
    const timer = setTimeout(callback, timerDelay(delayMs));
    return () => clearTimeout(timer);
  },
};

/** One timer that is re-armed for the earliest time anyone needs. */
export interface WakeTimer {
  /** Fires `onWake` at `time` (epoch ms by the clock); `Infinity` disarms. Replaces any earlier arming. */
  at(time: number): void;
  /** Disarms. */
  clear(): void;
}

/**
 * A single re-armable timer: the dispatcher asks for the earliest moment something becomes
 * possible (a token, a batch's deadline) after each change, so one timer serves every
 * subscription. Arming it for the time it is already armed for keeps the running timer.
 *
 * @example
 * const wake = createWakeTimer(clock, systemTimers, () => pump());
 * wake.at(clock.now() + 250);
 * wake.at(Number.POSITIVE_INFINITY); // nothing to wait for
 */
export function createWakeTimer(clock: Clock, timers: Timers, onWake: () => void): WakeTimer {
  let armedFor = Number.POSITIVE_INFINITY;
  let cancel: (() => void) | undefined;

  function clear(): void {
    cancel?.();
    cancel = undefined;
    armedFor = Number.POSITIVE_INFINITY;
  }

  return {
    at(time) {
      if (time === armedFor) return;
      clear();
      if (time === Number.POSITIVE_INFINITY) return;
      armedFor = time;
      cancel = timers.set(() => {
        cancel = undefined;
        armedFor = Number.POSITIVE_INFINITY;
        onWake();
      }, time - clock.now());
    },
    clear,
  };
}
