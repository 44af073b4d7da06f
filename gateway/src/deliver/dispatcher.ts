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
   * How long a leased job stays invisible to other leases (default 60 s). It must exceed the
   * longest subscription timeout (the gateway passes that plus 60 s): a delivery still running
   * when its lease expires is handed out again. This dispatcher skips a job it is still delivering,
   * but another process sharing a durable queue would deliver it a second time.
   */
  readonly leaseMs?: number;
  /** What to do after each attempt (default `createSettle`: complete, warn on failures). */
  readonly settle?: Settle;
}

/** How `Dispatcher.stop` ends. */
export interface StopOptions {
  /**
   * Most milliseconds to wait for in-flight deliveries (default: no limit). Past it `stop`
   * resolves anyway: deliveries still running are abandoned, their jobs stay leased in the queue
   * (a durable queue hands them out again when the lease expires) and a warning counts them.
   */
  readonly deadlineMs?: number;
}

/** Moves jobs from the queue to the deliverer. */
export interface Dispatcher {
  /** Starts leasing and delivering. Calling it again does nothing. */
  start(): void;
  /**
   * Stops leasing, lets in-flight deliveries finish and settle, then resolves; with `deadlineMs`,
   * at the latest after that long. Every call stops the same dispatcher; each waits by its own
   * deadline.
   */
  stop(options?: StopOptions): Promise<void>;
  /**
   * Resolves once the queue is empty and nothing is in flight (tests, graceful shutdown). Jobs
   * queued before `start()` or after `stop()` keep it waiting; race it with a deadline.
   */
  idle(): Promise<void>;
}

// Pause after a failed lease, doubling up to the maximum, so a broken store is not hammered.
const LEASE_ERROR_BACKOFF_MS = 100;
const LEASE_ERROR_BACKOFF_MAX_MS = 5_000;
// setTimeout fires at once for delays that do not fit in a signed 32-bit integer.
const MAX_TIMER_MS = 2 ** 31 - 1;

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
 * `lease` is logged and retried after a short, growing pause. A job handed out again while its
 * delivery still runs here (a lease shorter than the delivery) is skipped with a warning, never
 * delivered twice at once; `leaseMs` must exceed the longest delivery timeout.
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
 * await dispatcher.stop({ deadlineMs: 5_000 });
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
  /**
   * Ids of the jobs being delivered; `size` is the number in flight. Ids, not promises: a finished
   * delivery leaves nothing behind. It stops a job whose lease expired mid-delivery from being
   * delivered a second time alongside the first attempt.
   */
  const inFlight = new Set<string>();
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
      inFlight.delete(job.id);
      slotFreed?.();
      if (inFlight.size === 0) {
        noneInFlight?.();
        checkIdle();
      }
    }
  }

  function checkIdle(): void {
    if (inFlight.size > 0 || idleWaiters.length === 0) return;
    queue.size().then(
      (size) => {
        // Leased jobs count in `size`, so a lease that happened meanwhile keeps us busy.
        if (size > 0 || inFlight.size > 0) return;
        const waiters = idleWaiters;
        idleWaiters = [];
        for (const resolve of waiters) resolve();
      },
      (err: unknown) => logger.error("cannot read the queue size", { error: describeError(err) }),
    );
  }

  function dispatch(job: DeliveryJob): void {
    if (inFlight.has(job.id)) {
      // Its lease expired while the first attempt runs (leaseMs shorter than the delivery). That
      // attempt settles the job; leave this lease to expire rather than deliver twice at once.
      logger.warn("a job came back while its delivery is still running; leaseMs is too short", {
        jobId: job.id,
        subscriptionId: job.subscriptionId,
        leaseMs,
      });
      return;
    }
    inFlight.add(job.id);
    // deliverJob catches everything and frees the slot itself.
    void deliverJob(job);
  }

  async function run(): Promise<void> {
    const signal = stopping.signal;
    let backoff = LEASE_ERROR_BACKOFF_MS;
    while (!signal.aborted) {
      const free = concurrency - inFlight.size;
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

  /** Waits for `stopped`, but no longer than `deadlineMs`; then abandons what is in flight. */
  async function withDeadline(stopped: Promise<void>, deadlineMs: number): Promise<void> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const finished = await Promise.race([
      stopped.then(() => true),
      new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(false), Math.min(deadlineMs, MAX_TIMER_MS));
      }),
    ]);
    clearTimeout(timer);
    if (!finished) {
      logger.warn("stopped before in-flight deliveries finished; their jobs stay leased", {
        abandoned: inFlight.size,
        deadlineMs,
      });
    }
  }

  return {
    start() {
      if (stopped !== undefined) throw new TypeError("dispatcher: start() after stop()");
      loop ??= run();
    },

    stop(stopOptions: StopOptions = {}) {
      const { deadlineMs } = stopOptions;
      if (deadlineMs !== undefined && !(Number.isFinite(deadlineMs) && deadlineMs >= 0)) {
        return Promise.reject(
          new TypeError("dispatcher.stop: deadlineMs must be a non-negative number"),
        );
      }
      stopped ??= (async () => {
        stopping.abort();
        slotFreed?.();
        await loop;
        // Deliveries started before the stop still settle; the last one to finish resolves this.
        if (inFlight.size > 0) {
          await new Promise<void>((resolve) => {
            noneInFlight = resolve;
          });
        }
      })();
      return deadlineMs === undefined ? stopped : withDeadline(stopped, deadlineMs);
    },

    idle() {
      return new Promise<void>((resolve) => {
        idleWaiters.push(resolve);
        checkIdle();
      });
    },
  };
}
