import type { Logger } from "../ports/logger.js";
import { silentLogger } from "../ports/logger.js";
import type { Subscription } from "../subscriptions/subscription.js";
import type { Deliverer } from "./deliverer.js";
import type { DeliveryJob, DeliveryQueue } from "./delivery-queue.js";
import { describeError } from "./failure-text.js";
import { createSettle, type Settle } from "./settle.js";

export interface DispatcherOptions {
  readonly queue: DeliveryQueue;
  readonly deliverer: Deliverer;
  /** The subscription a job is for, as it is now; `undefined` once it was deleted. */
  readonly subscriptions: (id: string) => Subscription | undefined;
  readonly logger?: Logger;
  /** Deliveries in flight at once (default 64). */
  readonly concurrency?: number;
  /**
   * How long a leased job stays invisible to other leases (default 60 s). Keep it longer than the
   * longest delivery timeout, or a slow delivery is handed out a second time.
   */
  readonly leaseMs?: number;
  /** What to do after each attempt (default `createSettle`: complete, warn on failures). */
  readonly settle?: Settle;
}

/** Moves jobs from the queue to the deliverer. */
export interface Dispatcher {
  /** Starts leasing and delivering. Calling it again does nothing. */
  start(): void;
  /** Stops leasing, lets in-flight deliveries finish and settle, then resolves. */
  stop(): Promise<void>;
  /**
   * Resolves once the queue is empty and nothing is in flight (tests, graceful shutdown). Jobs
   * queued before `start()` or after `stop()` keep it waiting; race it with a deadline.
   */
  idle(): Promise<void>;
}

// Pause after a failed lease, doubling up to the maximum, so a broken store is not hammered.
const LEASE_ERROR_BACKOFF_MS = 100;
const LEASE_ERROR_BACKOFF_MAX_MS = 5_000;

/** Resolves after `ms`, or at once when `signal` aborts. */
function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
  });
}

/**
 * The delivery loop: leases as many jobs as there are free slots (up to `concurrency`), delivers
 * each concurrently and settles it with the `settle` policy. A delivery that throws despite the
 * `Deliverer` contract, or a settle that fails, is logged and its job left leased, so the queue
 * hands it out again when the lease expires (at-least-once); it never stops the loop. A failing
 * `lease` is logged and retried after a short, growing pause.
 *
 * @example
 * const dispatcher = createDispatcher({
 *   queue,
 *   deliverer: createHttpDeliverer({ client: createNodeSinkClient() }),
 *   subscriptions: (id) => byId.get(id),
 *   logger,
 * });
 * dispatcher.start();
 * await dispatcher.idle();
 * await dispatcher.stop();
 */
export function createDispatcher(options: DispatcherOptions): Dispatcher {
  const { queue, deliverer, subscriptions, logger = silentLogger } = options;
  const { concurrency = 64, leaseMs = 60_000 } = options;
  if (!Number.isInteger(concurrency) || concurrency < 1) {
    throw new TypeError("createDispatcher: concurrency must be a positive integer");
  }
  if (!Number.isFinite(leaseMs) || leaseMs <= 0) {
    throw new TypeError("createDispatcher: leaseMs must be a positive number");
  }
  if (typeof subscriptions !== "function") {
    throw new TypeError("createDispatcher: subscriptions must be a function");
  }
  const settle = options.settle ?? createSettle({ queue, logger });

  const stopping = new AbortController();
  // A count, not a set of promises: a delivery keeps no bookkeeping object alive.
  let inFlight = 0;
  let slotFreed: (() => void) | undefined;
  let noneInFlight: (() => void) | undefined;
  let idleWaiters: (() => void)[] = [];
  let loop: Promise<void> | undefined;
  let stopped: Promise<void> | undefined;

  /** Delivers and settles one job, then frees its slot. Never rejects. */
  async function deliverJob(job: DeliveryJob): Promise<void> {
    try {
      const subscription = subscriptions(job.subscriptionId);
      if (subscription === undefined) {
        logger.warn("dropping a delivery: its subscription no longer exists", {
          jobId: job.id,
          subscriptionId: job.subscriptionId,
        });
        await queue.complete(job.id);
        return;
      }
      const outcome = await deliverer.deliver(job.event, subscription);
      await settle(job, outcome, subscription);
    } catch (err) {
      logger.error("delivery failed unexpectedly; the job is retried when its lease expires", {
        jobId: job.id,
        subscriptionId: job.subscriptionId,
        error: describeError(err),
      });
    } finally {
      inFlight--;
      slotFreed?.();
      if (inFlight === 0) {
        noneInFlight?.();
        checkIdle();
      }
    }
  }

  function checkIdle(): void {
    if (inFlight > 0 || idleWaiters.length === 0) return;
    queue.size().then(
      (size) => {
        // Leased jobs count in `size`, so a lease that happened meanwhile keeps us busy.
        if (size > 0 || inFlight > 0) return;
        const waiters = idleWaiters;
        idleWaiters = [];
        for (const resolve of waiters) resolve();
      },
      (err: unknown) => logger.error("cannot read the queue size", { error: describeError(err) }),
    );
  }

  function dispatch(job: DeliveryJob): void {
    inFlight++;
    // deliverJob catches everything and frees the slot itself.
    void deliverJob(job);
  }

  async function run(): Promise<void> {
    const signal = stopping.signal;
    let backoff = LEASE_ERROR_BACKOFF_MS;
    while (!signal.aborted) {
      const free = concurrency - inFlight;
      if (free === 0) {
        await new Promise<void>((resolve) => {
          slotFreed = resolve;
        });
        slotFreed = undefined;
        continue;
      }
      let jobs: readonly DeliveryJob[];
      try {
        jobs = await queue.lease(free, leaseMs, signal);
        backoff = LEASE_ERROR_BACKOFF_MS;
      } catch (err) {
        logger.error("leasing deliveries failed; trying again shortly", {
          error: describeError(err),
          retryInMs: backoff,
        });
        await pause(backoff, signal);
        backoff = Math.min(backoff * 2, LEASE_ERROR_BACKOFF_MAX_MS);
        continue;
      }
      for (const job of jobs) dispatch(job);
    }
  }

  return {
    start() {
      if (stopped !== undefined) throw new TypeError("dispatcher: start() after stop()");
      loop ??= run();
    },

    stop() {
      stopped ??= (async () => {
        stopping.abort();
        slotFreed?.();
        await loop;
        // Deliveries started before the stop still settle; the last one to finish resolves this.
        if (inFlight > 0) {
          await new Promise<void>((resolve) => {
            noneInFlight = resolve;
          });
        }
      })();
      return stopped;
    },

    idle() {
      return new Promise<void>((resolve) => {
        idleWaiters.push(resolve);
        checkIdle();
      });
    },
  };
}
