/** Starts `work` with the rest of this turn's (see `createTurnBatch`); settles as it does. */
export type TurnBatch = <T>(work: () => Promise<T>) => Promise<T>;

/**
 * Runs the work asked for during one turn of the event loop together, in one callback at the end
 * of that turn (`setImmediate`), in the order asked. The NATS client writes what a callback
 * published in one go when the callback's microtasks run; without this, every request handled
 * and every delivery answered is its own callback and its publish or ack its own socket write.
 * Sent this way, the publishes of a burst of requests and the acks of a burst of answers share
 * writes (a loopback write costs tens of µs: the whole TCP path runs in it). The work starts a
 * moment later, never later than the turn it was asked in.
 *
 * @example
 * const inTurn = createTurnBatch();
 * const ack = await inTurn(() => js.publish(subject, data));
 */
export function createTurnBatch(): TurnBatch {
  let waiting: (() => void)[] = [];

  function runAll(): void {
    const batch = waiting;
    waiting = [];
    for (const start of batch) start();
  }

  return function inTurn<T>(work: () => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      if (waiting.length === 0) setImmediate(runAll);
      waiting.push(() => {
        try {
          work().then(resolve, reject);
        } catch (err) {
          reject(err);
        }
      });
    });
  };
}
