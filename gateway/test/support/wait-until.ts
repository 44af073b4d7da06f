/**
 * Resolves once `done()` holds, looking every `everyMs`; rejects after `timeoutMs` naming `what`.
 * For conditions outside the test's control (a NATS server noticing a pause, a process
 * restarting); `vi.waitFor` suits assertions.
 *
 * @example
 * await waitUntil(() => !store.connected(), { what: "the store to notice" });
 */
export async function waitUntil(
  done: () => boolean | Promise<boolean>,
  { timeoutMs = 20_000, everyMs = 100, what = "the condition" } = {},
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await done())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}
