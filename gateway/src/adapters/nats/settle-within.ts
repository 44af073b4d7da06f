/**
 * Waits for `work`, at most `ms`, and leaves no timer behind: for a close that must not hang on
 * a server that does not answer.
 *
 * @example
 * await settleWithin(nc.flush().catch(() => {}), 2_000);
 */
export async function settleWithin(work: Promise<unknown>, ms: number): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  await Promise.race([work, new Promise((resolve) => (timer = setTimeout(resolve, ms)))]);
  clearTimeout(timer);
}
