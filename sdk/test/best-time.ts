/**
 * The best of `rounds` timings of `run`, in ms: the one least disturbed by other processes, so
 * that a ratio of two such timings compares like with like on a loaded machine (a bound in
 * milliseconds would not hold there).
 *
 * @example
 * expect(bestTime(() => decodeBase64(big))).toBeLessThan(bestTime(() => atob(big)) * 6 + 5);
 */
export function bestTime(run: () => unknown, rounds = 3): number {
  let best = Number.POSITIVE_INFINITY;
  for (let round = 0; round < rounds; round++) {
    const started = performance.now();
    run();
    best = Math.min(best, performance.now() - started);
  }
  return best;
}
