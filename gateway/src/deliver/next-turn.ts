/**
 * Resolves after the event loop's next turn, so timers, I/O and requests waiting run first
 * (`setImmediate` where there is one, Node; a zero timeout elsewhere, Workers). Long work split
 * into parts awaits it between them, so no part holds the event loop longer than itself.
 *
 * @example
 * for (const part of parts) {
 *   handle(part);
 *   await nextTurn();
 * }
 */
export function nextTurn(): Promise<void> {
  return new Promise((resolve) => {
    if (typeof setImmediate === "function") setImmediate(resolve);
    else setTimeout(resolve, 0);
  });
}
