import { cpuStopwatch } from "./one-pass.js";

/**
 * How long `work` took and the longest the event loop went without running a timer meanwhile,
 * in ms. Each is the lesser of the wall time (which counts time the machine gave to other
 * processes: a wait for a core between two chunks read as a 267 ms stall once in 10 runs on a
 * loaded machine) and the process's CPU time (which counts the garbage collector's helper
 * threads), so neither a busy machine nor a parallel GC reads as a stall.
 *
 * @example
 * const { total, longest } = await eventLoopStalls(() => queue.redrive("sub"));
 * expect(longest / total).toBeLessThan(0.4);
 */
export async function eventLoopStalls(
  work: () => Promise<unknown>,
): Promise<{ total: number; longest: number }> {
  const cpu = cpuStopwatch();
  const now = () => ({ wall: performance.now(), cpu: cpu() });
  const since = (from: { wall: number; cpu: number }, to = now()) =>
    Math.min(to.wall - from.wall, to.cpu - from.cpu);
  let last = now();
  let longest = 0;
  const gap = () => {
    const at = now();
    longest = Math.max(longest, since(last, at));
    last = at;
  };
  const timer = setInterval(gap, 1);
  // The interval's first tick, so the first gap measured is one the work made.
  await new Promise((resolve) => setTimeout(resolve, 5));
  const start = now();
  last = start;
  try {
    await work();
  } finally {
    clearInterval(timer);
  }
  gap();
  return { total: since(start), longest };
}
