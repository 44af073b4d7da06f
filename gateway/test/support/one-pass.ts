/**
 * How long one plain pass over `text` takes here and now (the best of five): a cost bound in
 * such passes holds on a slow or loaded machine, where a bound in milliseconds would not.
 *
 * @example
 * const pass = onePass(big);
 * const started = performance.now();
 * work(big);
 * expect((performance.now() - started) / pass).toBeLessThan(150);
 */
export function onePass(text: string): number {
  let best = Number.POSITIVE_INFINITY;
  for (let round = 0; round < 5; round++) {
    const started = performance.now();
    let sum = 0;
    for (let i = 0; i < text.length; i++) sum += text.charCodeAt(i);
    if (sum < 0) throw new Error("unreachable");
    best = Math.min(best, performance.now() - started);
  }
  return Math.max(best, 0.05);
}
