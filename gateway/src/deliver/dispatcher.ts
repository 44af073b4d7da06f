import { type Clock, systemClock } from "../ports/clock.js";
import type { Logger } from "../ports/logger.js";
import { silentLogger } from "../ports/logger.js";
import { DEFAULT_MAX_BATCH_WAIT_MS, type Subscription } from "../subscriptions/subscription.js";
import type { GatewayMetrics } from "../telemetry/gateway-metrics.js";
import { safeUrl } from "../telemetry/tracing.js";
import { createAttemptPools, type RunningAttempt } from "./attempt-pools.js";
import type { Deliverer } from "./deliverer.js";
import type { DeliveryOutcome } from "./delivery-outcome.js";
import type { DeliveryJob, DeliveryQueue } from "./delivery-queue.js";
import { describeError } from "./failure-text.js";
import { nextTurn } from "./next-turn.js";
import { createRateWindow } from "./rate-window.js";
import { canRetry, retryAfterCap } from "./retry-policy.js";
import { createSettle, type Settle } from "./settle.js";
import type { SinkClient } from "./sink-client.js";
import {
  isDisposable,
  isQuiet,
  isSkipped,
  needsHandshake,
  type SinkLane,
  takeAttempt,
  updateLane,
  wakeAt,
} from "./sink-lane.js";
import { MAX_TIMER_MS } from "./timer-delay.js";
import { createWakeTimer, systemTimers, type Timers } from "./wake-timer.js";
import { createWebhookHandshake, type WebhookHandshake } from "./webhook-handshake-client.js";

/** Why a waiting lease is re-issued: the set of subscriptions to skip changed. */
const SKIP_CHANGED = Symbol("skip set changed");

export interface DispatcherOptions {
  readonly queue: DeliveryQueue;
  readonly deliverer: Deliverer;
  /** The subscription a job is for, as it is now; `undefined` once it was deleted. */
  readonly subscriptions: (id: string) => Subscription | undefined;
  /**
   * For a disabled subscription, the outcome its jobs settle with instead of being sent
   * (`disabledOutcomes`: `DISABLED_OUTCOME` after a 410); `undefined` for one that is not.
   * Default: none is.
   */
  readonly disabled?: (id: string) => DeliveryOutcome | undefined;
  readonly logger?: Logger;
  /**
   * Counts a webhook handshake the sink refused as an attempt (`herald_deliveries_total`): the
   * job spent one, as a delivery it refused would (the deliverer counts the others).
   */
  readonly metrics?: Pick<GatewayMetrics, "attempt">;
  /**
   * Delivery attempts in flight at once to sinks that answer within `slowMs`, all sinks together
   * (default 64); slower ones count apart (see `createAttemptPools`); each subscription is
   * further held to its `delivery.concurrency`.
   */
  readonly concurrency?: number;
  /**
   * How long an attempt runs before its sink counts as slow, and it moves out of the fast pool
   * (default 1 s): slow and dead sinks then no longer hold the slots of the others.
   */
  readonly slowMs?: number;
  /**
   * How long a leased job stays invisible to other leases (default 60 s). It must exceed the
   * longest time a job is held here: the longest subscription timeout, plus `maxBatchWaitMs` in
   * batch mode, plus a handshake's timeout where one is made (the gateway passes the longest
   * allowed). A job handed out again while it is held here is not attempted twice at once, but
   * another process sharing a durable queue would deliver it a second time.
   */
  readonly leaseMs?: number;
  /** What to do after each attempt (default `createSettle`). */
  readonly settle?: Settle;
  /** Rate windows, batch deadlines and handshake grants go by it (default: the system clock). */
  readonly clock?: Clock;
  /** The one wake-up timer (default `setTimeout`); tests pass fake timers with a fake clock. */
  readonly timers?: Timers;
  /**
   * Sends the webhook handshake's `OPTIONS` (http-webhook.md 4.1) for subscriptions with
   * `delivery.handshake`; without it their attempts fail (retry) with an error saying so.
   */
  readonly sinkClient?: SinkClient;
  /** `WebHook-Request-Origin`: this gateway's name towards sinks (default "herald"). */
  readonly origin?: string;
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
   * Stops leasing, sends partial batches that may go now, lets in-flight deliveries finish and
   * settle, then resolves; with `deadlineMs`, at the latest after that long. Jobs held back by a
   * subscription's concurrency or rate stay leased (handed out again when their leases expire).
   * Every call stops the same dispatcher; each waits by its own deadline.
   */
  stop(options?: StopOptions): Promise<void>;
  /**
   * Says that subscriptions changed (a reload, an API `PUT` or `DELETE`): the jobs held here go
   * to what their subscription is now, those of a removed one are dropped, and a lane paused by
   * its old sink's `Retry-After` is not held by it, without waiting for the next delivery or
   * lease to look. Does nothing before `start()` or after `stop()`.
   */
  subscriptionsChanged(): void;
  /**
   * Resolves once the queue is empty and nothing is in flight or held (tests, graceful
   * shutdown). Jobs queued before `start()` or after `stop()` keep it waiting; race it with a
   * deadline.
   */
  idle(): Promise<void>;
}

// Pause after a failed lease, doubling up to the maximum, so a broken store is not hammered.
const LEASE_ERROR_BACKOFF_MS = 100;
const LEASE_ERROR_BACKOFF_MAX_MS = 5_000;
const NO_SKIP: ReadonlySet<string> = new Set();
/**
 * Most jobs the delivery loop leases before it lets the event loop turn. A lease that finds jobs
 * due resolves at once, so while lanes fill their batches (up to `maxBatchSize` jobs each, only
 * then skipped) the loop went on in one task: 32 batch subscriptions of 1,000 waiting jobs held
 * the event loop 100 ms (memory store) to 430 ms (SQLite), no request answered meanwhile.
 */
const LEASED_PER_TURN = 256;

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
 * The delivery loop. Leased jobs go to their subscription's lane (`sink-lane.ts`); a lane starts
 * an attempt when it has a slot (`delivery.concurrency`, default `DEFAULT_SINK_CONCURRENCY`), a
 * place in its rate's window (`delivery.rate`, and the rate a webhook handshake granted) and, in batch mode, a full
 * batch or one whose first job waited `maxBatchWaitMs`; at most `concurrency` attempts run in
 * all to sinks that answer within `slowMs`; slower ones count apart (`createAttemptPools`). Lanes that cannot take more jobs are passed to `lease` as `skip`, so a
 * slow or dead sink holds only its own slots and its jobs stay in the queue while healthy sinks'
 * jobs flow; when
 * such a lane frees up (an attempt ends, a rate has room again) the waiting lease is cut short and
 * leases again without it. One timer covers every rate and batch deadline. With
 * `delivery.handshake` the first attempt to a sink first makes the webhook handshake
 * (http-webhook.md 4): refused or unreachable, the attempt's jobs settle as `retry` and the next
 * attempt asks again.
 *
 * Never loses a job to an exception: an attempt that throws despite the `Deliverer` contract, or
 * a settle that fails, is logged and its jobs left leased, so the queue hands them out again when
 * the lease expires (at-least-once); it never stops the loop. A failing `lease` is logged and
 * retried after a short, growing pause. A job handed out again while its attempt still runs here
 * is skipped with a warning, never delivered twice at once.
 *
 * @example
 * const dispatcher = createDispatcher({
 *   queue,
 *   deliverer: createHttpDeliverer({ client }),
 *   subscriptions: (id) => byId.get(id),
 *   sinkClient: client,
 *   origin: "events.example.com",
 *   logger,
 * });
 * dispatcher.start();
 * await dispatcher.idle();
 * await dispatcher.stop({ deadlineMs: 5_000 });
 */
export function createDispatcher(options: DispatcherOptions): Dispatcher {
  const { queue, deliverer, subscriptions, logger = silentLogger } = options;
  const {
    concurrency = 64,
    slowMs = 1_000,
    leaseMs = 60_000,
    clock = systemClock,
    timers = systemTimers,
  } = options;
  if (!Number.isInteger(concurrency) || concurrency < 1) {
    throw new TypeError("createDispatcher: concurrency must be a positive integer");
  }
  if (!Number.isFinite(slowMs) || slowMs <= 0) {
    throw new TypeError("createDispatcher: slowMs must be a positive number");
  }
  if (!Number.isFinite(leaseMs) || leaseMs <= 0) {
    throw new TypeError("createDispatcher: leaseMs must be a positive number");
  }
  if (typeof subscriptions !== "function") {
    throw new TypeError("createDispatcher: subscriptions must be a function");
  }
  const handshake: WebhookHandshake | undefined =
    options.sinkClient === undefined
      ? undefined
      : createWebhookHandshake({
          client: options.sinkClient,
          origin: options.origin ?? "herald",
          now: () => clock.now(),
        });
  const settle = options.settle ?? createSettle({ queue, deliverer, logger, clock });

  const stopping = new AbortController();
  const lanes = new Map<string, SinkLane>();
  /** Lanes holding jobs, running attempts or waiting for room in a rate: the only ones `pump` visits. */
  const active = new Set<SinkLane>();
  /** Ids of every job held here (waiting in a lane or in flight): a lease handing one out again is ignored. */
  const held = new Set<string>();
  /**
   * Jobs leased again while still held, by id: a retry due at once can be leased by the next
   * lease before the attempt that rescheduled it has let go of it. Such a lease (more attempts
   * than the held copy) is taken up when the held copy is released, instead of being left to
   * expire.
   */
  const returned = new Map<string, DeliveryJob>();
  const heldAttempts = new Map<string, number>();
  /** Ids of the jobs whose attempt is running. */
  const attempting = new Set<string>();
  /** Lanes warned that `leaseMs` is shorter than they may hold a job. */
  const warnedLease = new Set<string>();
  const pools = createAttemptPools(concurrency, slowMs);
  /** Completions of jobs whose subscription is gone (they count for `idle` and `stop`). */
  let chores = 0;
  let skip: ReadonlySet<string> = NO_SKIP;
  let lease:
    | {
        readonly controller: AbortController;
        readonly skip: ReadonlySet<string>;
        /** Made with the fast pool full, for slow lanes only. */
        readonly forSlow: boolean;
      }
    | undefined;
  let slotFreed: (() => void) | undefined;
  let noneRunning: (() => void) | undefined;
  let idleWaiters: (() => void)[] = [];
  let loop: Promise<void> | undefined;
  let stopped: Promise<void> | undefined;
  const wake = createWakeTimer(clock, timers, () => pump(false));
  // Only while the fast pool is full: when its oldest attempt becomes slow and may move. Armed
  // for the earliest such time and left to fire (a look too early re-arms it), not re-armed on
  // every pump: that would cost a timer per delivery at full speed.
  let slowCheckAt = Number.POSITIVE_INFINITY;
  const slowCheck = createWakeTimer(clock, timers, () => {
    slowCheckAt = Number.POSITIVE_INFINITY;
    pump(false);
    afterRunning();
  });

  /** Whether nothing runs here (attempts, completions). */
  const nothingRunning = () => pools.running() === 0 && chores === 0;

  function checkIdle(): void {
    if (!nothingRunning() || held.size > 0 || idleWaiters.length === 0) return;
    queue.size().then(
      (size) => {
        // Leased jobs count in `size`, so a lease that happened meanwhile keeps us busy.
        if (size > 0 || !nothingRunning() || held.size > 0) return;
        const waiters = idleWaiters;
        idleWaiters = [];
        for (const resolve of waiters) resolve();
      },
      (err: unknown) => logger.error("cannot read the queue size", { error: describeError(err) }),
    );
  }

  function afterRunning(): void {
    if (pools.anyRoom()) slotFreed?.();
    if (nothingRunning()) noneRunning?.();
    checkIdle();
  }

  /** Set by `subscriptionsChanged`: the next pump looks at every lane, not only those with jobs. */
  let subscriptionsDirty = false;

  /**
   * Starts every attempt the lanes can start (round robin while global slots last), then works
   * out the lanes to skip, arms the timer for the next room in a rate or batch deadline, and cuts
   * short a waiting lease that skips a lane able to take jobs again. `flush` sends partial
   * batches now.
   */

  function pump(flush: boolean): void {
    const now = clock.now();
    // Lanes holding jobs are looked at every time (a registry need not say it changed); every
    // lane only after a change was signalled (a paused lane may hold none and must hear of a
    // new sink). So a pump costs a lookup per lane with jobs waiting, not per busy lane.
    const everyLane = subscriptionsDirty;
    subscriptionsDirty = false;
    for (const lane of active) if (everyLane || lane.waiting.length > 0) refreshLane(lane);
    if (everyLane) forgetGoneLanes();
    if (!stopping.signal.aborted || flush) {
      let started = true;
      while (started && pools.anyRoom()) {
        started = false;
        for (const lane of active) {
          if (!pools.hasRoom(lane)) continue;
          const jobs = takeAttempt(lane, now, flush);
          if (jobs === undefined) continue;
          started = true;
          for (const job of jobs) attempting.add(job.id);
          // runAttempt catches everything and frees its slot itself.
          void runAttempt(lane, jobs, pools.start(lane, now));
        }
      }
    }
    // A full fast pool: attempts past `slowMs` move out of it, freeing slots for the others.
    if (pools.fastFull() && !stopping.signal.aborted) {
      const settleAt = pools.settleSlow(now);
      if (!pools.fastFull()) {
        pump(flush);
        return;
      }
      if (settleAt < slowCheckAt) {
        slowCheckAt = settleAt;
        slowCheck.at(settleAt);
      }
    }
    const next = new Set<string>();
    let wakeTime = Number.POSITIVE_INFINITY;
    for (const lane of active) {
      if (isQuiet(lane, now)) {
        active.delete(lane);
        // A slow lane is kept (its sink's next attempt must not take a fast slot to find out it
        // is still dead), and one that logged a handshake refusal, unless its subscription is
        // gone: then nothing will use it again.
        const kept = lane.slow || lane.handshakeRefusal !== undefined;
        if (isDisposable(lane, now) || (kept && isGone(lane.id))) {
          lanes.delete(lane.id);
          pools.forget(lane);
        }
        continue;
      }
      if (isSkipped(lane, now) || !pools.hasRoom(lane)) next.add(lane.id);
      const at = wakeAt(lane, now);
      // A lane ready now but not started waits for a global slot; a finishing attempt pumps.
      if (at > now) wakeTime = Math.min(wakeTime, at);
    }
    skip = next.size === 0 ? NO_SKIP : next;
    wake.at(stopping.signal.aborted ? Number.POSITIVE_INFINITY : wakeTime);
    if (lease !== undefined) {
      // A lease for the slow pool skips every fast lane: only a slow lane freed up, or room in
      // the fast pool, calls for another.
      const { forSlow } = lease;
      let again = forSlow && !pools.fastFull();
      for (const id of again ? [] : lease.skip) {
        if (!next.has(id) && (!forSlow || lanes.get(id)?.slow === true)) {
          again = true;
          break;
        }
      }
      // A reason of our own: without one, abort() builds a DOMException every time.
      if (again) lease.controller.abort(SKIP_CHANGED);
    }
  }

  /**
   * Whether the attempt may go ahead (`undefined`), else its outcome: not for a disabled
   * subscription, nor before the webhook handshake was allowed.
   */
  async function gate(
    lane: SinkLane,
    subscription: Subscription,
    attempt: number,
  ): Promise<DeliveryOutcome | undefined> {
    const disabled = options.disabled?.(subscription.id);
    if (disabled !== undefined) return disabled;
    if (!needsHandshake(lane)) return undefined;
    if (handshake === undefined) {
      return {
        kind: "retry",
        status: 0,
        error: "webhook handshake required, but the dispatcher has no sinkClient to send it",
      };
    }
    const started = performance.now();
    const result = await handshake(subscription);
    if (!result.allowed) {
      options.metrics?.attempt(
        subscription.id,
        "sink",
        canRetry(attempt - 1, subscription.delivery) ? "retry" : "dead",
        (performance.now() - started) / 1000,
      );
      if (lane.handshakeRefusal !== result.error) {
        lane.handshakeRefusal = result.error;
        logger.warn("webhook handshake refused; the deliveries are retried", {
          subscriptionId: subscription.id,
          sink: safeUrl(subscription.sink),
          status: result.status,
          error: result.error,
        });
      }
      const { status, error, retryAfterMs } = result;
      return retryAfterMs === undefined
        ? { kind: "retry", status, error }
        : { kind: "retry", status, error, retryAfterMs };
    }
    lane.handshakeRefusal = undefined;
    // The sink may have changed while the handshake ran; the grant is for the one asked.
    if (lane.subscription.sink === subscription.sink && lane.subscription.delivery.handshake) {
      const now = clock.now();
      const window = result.rate === undefined ? undefined : createRateWindow(result.rate);
      // This attempt is the first request the grant covers (4.2.2).
      window?.take(now);
      lane.handshake = { sink: subscription.sink, window };
    }
    return undefined;
  }

  /** Makes one attempt and settles its jobs, then frees its slots. Never rejects. */
  async function runAttempt(
    lane: SinkLane,
    jobs: readonly DeliveryJob[],
    running: RunningAttempt,
  ): Promise<void> {
    const first = jobs[0] as DeliveryJob;
    const subscription = lane.subscription;
    try {
      const outcome =
        (await gate(lane, subscription, first.attempts + 1)) ??
        (await deliverer.deliver(
          { id: first.id, events: jobs.map((job) => job.event), attempt: first.attempts + 1 },
          subscription,
        ));
      // The pause speaks for the sink that answered: not for a new one the subscription was
      // given while this attempt ran (a reload, an API PUT).
      if (
        outcome.kind === "retry" &&
        outcome.retryAfterMs !== undefined &&
        lane.subscription.sink === subscription.sink
      ) {
        pauseFor(lane, outcome.retryAfterMs, outcome.status);
      }
      await settle(jobs, outcome, subscription);
    } catch (err) {
      logger.error("delivery failed unexpectedly; the job is retried when its lease expires", {
        jobId: first.id,
        subscriptionId: first.subscriptionId,
        ...(jobs.length > 1 ? { jobs: jobs.length } : {}),
        error: describeError(err),
      });
    } finally {
      for (const job of jobs) release(job.id);
      for (const job of jobs) attempting.delete(job.id);
      lane.inFlight--;
      pools.finish(running, clock.now());
      retake(jobs);
      pump(false);
      afterRunning();
    }
  }

  /**
   * Holds every attempt of the lane for `retryAfterMs` (capped like a job's own wait, see
   * `retryAfterCap`): a sink's `Retry-After` asks the sender to pause, not one event to. Attempts
   * already running go on; the lane's jobs stay in the queue meanwhile (it is skipped at lease).
   */
  function pauseFor(lane: SinkLane, retryAfterMs: number, status: number): void {
    // `Retry-After: 0`, or a date already past, asks for no wait: nothing to hold, nothing to log.
    if (retryAfterMs <= 0) return;
    const until = clock.now() + Math.min(retryAfterMs, retryAfterCap(lane.subscription.delivery));
    if (until <= lane.pausedUntil) return;
    if (lane.pausedUntil <= clock.now()) {
      logger.info("the sink asked for a pause (Retry-After); holding its deliveries until then", {
        subscriptionId: lane.id,
        status,
        pauseMs: until - clock.now(),
      });
    }
    lane.pausedUntil = until;
  }

  /**
   * Brings a lane up to date with its subscription as it is now (every `pump`, before attempts
   * start): jobs are leased in bulk and may wait in their lane while a config reload or an API
   * `PUT` or `DELETE` changes the subscription, and must then go to the sink (and with the
   * settings) it has now, not the one it had when they were leased; a new sink also ends a pause
   * the old one asked for. The waiting jobs of a subscription that is gone are dropped (`drop`).
   * A lookup that fails keeps the lane as it was, as `intake` would have left it.
   */
  function refreshLane(lane: SinkLane): void {
    let current: Subscription | undefined;
    try {
      current = subscriptions(lane.id);
    } catch {
      return;
    }
    if (current === lane.subscription) return;
    if (current === undefined) {
      for (const { job } of lane.waiting.splice(0)) void drop(job);
      return;
    }
    const sinkChanged = lane.subscription.sink !== current.sink;
    updateLane(lane, current, clock.now());
    // A new sink is not judged by the old one's slowness (as in `intake`).
    if (sinkChanged && lane.slow) pools.forget(lane);
  }

  /** Jobs dropped since the last warning, by subscription (`noteDropped`). */
  const dropped = new Map<string, number>();

  /**
   * Counts a dropped job for one warning per subscription, said once the current run of drops
   * is over: a deleted subscription with thousands of jobs waiting in its lane (a low
   * `delivery.rate`) is one line, not one per job.
   */
  function noteDropped(subscriptionId: string): void {
    if (dropped.size === 0) {
      queueMicrotask(() => {
        for (const [id, jobs] of dropped) {
          logger.warn("dropping deliveries: their subscription no longer exists", {
            subscriptionId: id,
            jobs,
          });
        }
        dropped.clear();
      });
    }
    dropped.set(subscriptionId, (dropped.get(subscriptionId) ?? 0) + 1);
  }

  /** Completes a job whose subscription is gone. Never rejects. */
  async function drop(job: DeliveryJob): Promise<void> {
    chores++;
    noteDropped(job.subscriptionId);
    try {
      await queue.complete(job.id);
    } catch (err) {
      logger.error("delivery failed unexpectedly; the job is retried when its lease expires", {
        jobId: job.id,
        subscriptionId: job.subscriptionId,
        error: describeError(err),
      });
    } finally {
      release(job.id);
      returned.delete(job.id);
      chores--;
      afterRunning();
    }
  }

  function release(id: string): void {
    held.delete(id);
    heldAttempts.delete(id);
  }

  /**
   * The skip set plus every active lane that is not slow: what a lease for the slow pool leaves
   * out (a job of a quiet fast lane it may still bring waits in its lane for a fast slot).
   */
  function fastLanes(): ReadonlySet<string> {
    const out = new Set(skip);
    for (const lane of active) if (!lane.slow) out.add(lane.id);
    return out;
  }

  /**
   * Drops the quiet lanes kept for later (slow, or with a handshake refusal logged) whose
   * subscription went since they became quiet: no job of theirs comes to drop them, so they
   * stayed for good, one per deleted subscription. Runs after a change of subscriptions only.
   */
  function forgetGoneLanes(): void {
    for (const lane of lanes.values()) {
      if (active.has(lane) || !isGone(lane.id)) continue;
      lanes.delete(lane.id);
      pools.forget(lane);
    }
  }

  /** Whether the subscription `id` no longer exists (a failing lookup says it does). */
  function isGone(id: string): boolean {
    try {
      return subscriptions(id) === undefined;
    } catch {
      return false;
    }
  }

  /** Takes up the leases that came back for `jobs` while they were held (see `returned`). */
  function retake(jobs: readonly DeliveryJob[]): void {
    const again: DeliveryJob[] = [];
    for (const job of jobs) {
      const lease = returned.get(job.id);
      if (lease === undefined) continue;
      returned.delete(job.id);
      again.push(lease);
    }
    if (again.length > 0) intake(again);
  }

  function warnIfLeaseTooShort(lane: SinkLane): void {
    const { delivery } = lane.subscription;
    const wait =
      delivery.mode === "batch" ? (delivery.maxBatchWaitMs ?? DEFAULT_MAX_BATCH_WAIT_MS) : 0;
    const holdMs = wait + delivery.timeoutMs * (delivery.handshake === true ? 2 : 1);
    if (holdMs < leaseMs || warnedLease.has(lane.id)) return;
    warnedLease.add(lane.id);
    logger.warn("leaseMs is shorter than this subscription may hold a job; raise it", {
      subscriptionId: lane.id,
      leaseMs,
      holdMs,
    });
  }

  /** Files leased jobs into their lanes. */
  function intake(jobs: readonly DeliveryJob[]): void {
    const now = clock.now();
    for (const job of jobs) {
      if (held.has(job.id)) {
        // Rescheduled by the attempt still finishing here, and already due: take it up once that
        // attempt lets go of it.
        if (job.attempts > (heldAttempts.get(job.id) ?? job.attempts)) {
          returned.set(job.id, job);
          continue;
        }
        // Handed out again while held here: its lease expired (leaseMs shorter than the hold).
        // The attempt running, or the one to come, settles it; never deliver it twice at once.
        // Not a leaseMs problem when its lane was held by its sink's Retry-After (up to an hour):
        // its jobs waited past their lease by design (nothing else delivers them meanwhile).
        if (attempting.has(job.id) && !(lanes.get(job.subscriptionId)?.pausedUntil ?? 0)) {
          logger.warn("a job came back while its delivery is still running; leaseMs is too short", {
            jobId: job.id,
            subscriptionId: job.subscriptionId,
            leaseMs,
          });
        }
        continue;
      }
      held.add(job.id);
      heldAttempts.set(job.id, job.attempts);
      let subscription: Subscription | undefined;
      try {
        subscription = subscriptions(job.subscriptionId);
      } catch (err) {
        release(job.id);
        logger.error("delivery failed unexpectedly; the job is retried when its lease expires", {
          jobId: job.id,
          subscriptionId: job.subscriptionId,
          error: describeError(err),
        });
        continue;
      }
      if (subscription === undefined) {
        const gone = lanes.get(job.subscriptionId);
        if (gone !== undefined && gone.inFlight === 0 && gone.waiting.length === 0) {
          lanes.delete(gone.id);
          active.delete(gone);
          pools.forget(gone);
        }
        void drop(job);
        continue;
      }
      const before = lanes.get(subscription.id);
      const sinkChanged = before !== undefined && before.subscription.sink !== subscription.sink;
      const lane = updateLane(before, subscription, clock.now());
      // A new sink is not judged by the old one's slowness.
      if (sinkChanged && lane.slow) pools.forget(lane);
      lanes.set(lane.id, lane);
      warnIfLeaseTooShort(lane);
      lane.waiting.push({ job, at: now });
      active.add(lane);
    }
  }

  async function run(): Promise<void> {
    const signal = stopping.signal;
    let backoff = LEASE_ERROR_BACKOFF_MS;
    let controller = new AbortController();
    /** Jobs leased since the loop last let the event loop turn. */
    let leasedInTurn = 0;
    while (!signal.aborted) {
      // With the fast pool full, only slow lanes can start: lease for them, skipping the others.
      const room = pools.free();
      const free = room.fast > 0 ? room.fast : pools.anySlowLane() ? room.slow : 0;
      if (free <= 0) {
        await new Promise<void>((resolve) => {
          slotFreed = resolve;
        });
        slotFreed = undefined;
        continue;
      }
      // `pump` aborts the lease's controller to lease again with a smaller skip set: a new one
      // after that, else the same (a lease removes its listener when it ends; a controller per
      // lease cost about 1% of the gateway's CPU at thousands of leases a second).
      if (controller.signal.aborted) controller = new AbortController();
      const forSlow = room.fast <= 0;
      const current = {
        controller,
        skip: forSlow ? fastLanes() : skip,
        forSlow,
      };
      lease = current;
      let jobs: readonly DeliveryJob[];
      try {
        jobs = await queue.lease(free, leaseMs, current.controller.signal, current.skip);
        backoff = LEASE_ERROR_BACKOFF_MS;
      } catch (err) {
        logger.error("leasing deliveries failed; trying again shortly", {
          error: describeError(err),
          retryInMs: backoff,
        });
        await pause(backoff, signal);
        backoff = Math.min(backoff * 2, LEASE_ERROR_BACKOFF_MAX_MS);
        continue;
      } finally {
        lease = undefined;
      }
      intake(jobs);
      pump(false);
      leasedInTurn += jobs.length;
      if (leasedInTurn >= LEASED_PER_TURN) {
        leasedInTurn = 0;
        await nextTurn();
      }
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
        abandoned: attempting.size,
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
        lease?.controller.abort();
        slotFreed?.();
        await loop;
        // Partial batches go now rather than wait out their leases; then no attempt starts.
        pump(true);
        wake.clear();
        slowCheck.clear();
        slowCheckAt = Number.POSITIVE_INFINITY;
        // Deliveries started before the stop still settle; the last one to finish resolves this.
        if (!nothingRunning()) {
          await new Promise<void>((resolve) => {
            noneRunning = resolve;
          });
        }
        const left = held.size;
        if (left > 0) {
          logger.info("stopped with jobs held back by their sinks' limits; they stay leased", {
            jobs: left,
          });
        }
      })();
      return deadlineMs === undefined ? stopped : withDeadline(stopped, deadlineMs);
    },

    subscriptionsChanged() {
      subscriptionsDirty = true;
      if (loop !== undefined && !stopping.signal.aborted) pump(false);
    },

    idle() {
      return new Promise<void>((resolve) => {
        idleWaiters.push(resolve);
        checkIdle();
      });
    },
  };
}
