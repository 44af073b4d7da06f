import { Unavailable } from "../errors/errors.js";

const SHUTTING_DOWN = "the gateway is shutting down";

/** One publish request let in by a `PublishGate`; `leave()` it when it is answered. */
export interface Admission {
  /**
   * Resolves as `work` (authentication, reading and checking the body) does, unless the gate is
   * cut first: then it rejects at once with `Unavailable` (503, `Retry-After`), and what `work`
   * comes to is ignored, so a body that is still arriving is answered without waiting for it.
   */
  prepare<T>(work: Promise<T>): Promise<T>;
  /**
   * Marks the request as storing: from here it is waited for, never cut. Throws `Unavailable`
   * when the gate was cut before (nothing is stored then).
   */
  storing(): void;
  leave(): void;
}

/**
 * Lets publish requests (`POST /events`, `POST /webhooks/{id}`) in until shutdown, and lets those
 * already in finish: `close(ms)` refuses new ones (503), waits up to `ms` for the others, then
 * cuts those still before storing (their body is still arriving, say: 503 with `Retry-After`)
 * and waits for those storing, so nothing answered 202 is cut short and nothing cut is stored.
 * An admission costs a set entry and one promise.
 *
 * @example
 * const gate = createPublishGate();
 * const admission = gate.admit(); // throws Unavailable once closing
 * try {
 *   const events = await admission.prepare(parse(request));
 *   admission.storing();
 *   await store(events);
 * } finally {
 *   admission.leave();
 * }
 * await gate.close(10_000); // at shutdown
 */
export interface PublishGate {
  /** Lets a request in; throws `Unavailable` once `close` was called. */
  admit(): Admission;
  /** Whether requests are let in. */
  readonly open: boolean;
  /**
   * Resolves once no admitted request is left; see above. `onCut` runs when the wait is over
   * (every request done, or the deadline) and those still preparing are cut, before those
   * storing are waited for (e.g. to refuse accepts that wait for queue room).
   */
  close(deadlineMs: number, onCut?: () => void): Promise<void>;
}

export function createPublishGate(): PublishGate {
  let open = true;
  let cut = false;
  const inside = new Set<Entry>();
  let emptied: (() => void) | undefined;

  class Entry implements Admission {
    /** Set while `prepare` waits: rejects it. */
    private cancel: ((err: Unavailable) => void) | undefined;
    prepare<T>(work: Promise<T>): Promise<T> {
      if (cut) {
        work.catch(() => {});
        return Promise.reject(new Unavailable(SHUTTING_DOWN));
      }
      return new Promise<T>((resolve, reject) => {
        this.cancel = reject;
        work.then(resolve, reject);
      });
    }
    storing(): void {
      this.cancel = undefined;
      if (cut) throw new Unavailable(SHUTTING_DOWN);
    }
    leave(): void {
      this.cancel = undefined;
      if (inside.delete(this) && inside.size === 0 && emptied !== undefined) {
        const wake = emptied;
        emptied = undefined;
        wake();
      }
    }
    cutShort(): void {
      this.cancel?.(new Unavailable(SHUTTING_DOWN));
      this.cancel = undefined;
    }
  }

  function whenEmpty(): Promise<void> {
    if (inside.size === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const before = emptied;
      emptied = () => {
        before?.();
        resolve();
      };
    });
  }

  return {
    admit() {
      if (!open) throw new Unavailable(SHUTTING_DOWN);
      const entry = new Entry();
      inside.add(entry);
      return entry;
    },
    get open() {
      return open;
    },
    async close(deadlineMs, onCut) {
      open = false;
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([
        whenEmpty(),
        new Promise<void>((resolve) => {
          timer = setTimeout(resolve, deadlineMs);
        }),
      ]);
      clearTimeout(timer);
      cut = true;
      for (const entry of inside) entry.cutShort();
      onCut?.();
      // Those storing finish (a store call is bounded by the store's own timeouts).
      await whenEmpty();
    },
  };
}
