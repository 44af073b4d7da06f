import {
  DEFAULT_MAX_BATCH_SIZE,
  DEFAULT_MAX_BATCH_WAIT_MS,
  DEFAULT_SINK_CONCURRENCY,
  type DeliveryRate,
  type Subscription,
} from "../subscriptions/subscription.js";
import type { DeliveryJob } from "./delivery-queue.js";
import { createRateWindow, type RateWindow } from "./rate-window.js";

/** A leased job waiting in its lane, and when it arrived there (a batch's wait starts then). */
interface Waiting {
  readonly job: DeliveryJob;
  readonly at: number;
}

/**
 * One subscription's side of the dispatcher: the leased jobs waiting for an attempt, the
 * attempts in flight to its sink, its rate window and its webhook handshake. Plain state; the
 * functions below read and change it, the dispatcher decides when.
 */
export interface SinkLane {
  readonly id: string;
  /** The subscription as last seen (API updates and reloads change it). */
  subscription: Subscription;
  readonly waiting: Waiting[];
  /** Attempts in flight to this sink. */
  inFlight: number;
  /**
   * Whether the sink is slow: an attempt ran longer than the dispatcher's `slowMs` and none has
   * ended sooner since. Its attempts count in the slow pool (see `createAttemptPools`).
   */
  slow: boolean;
  /** `delivery.rate` as a sliding window, rebuilt when the rate changes. */
  rate: { readonly rate: DeliveryRate; readonly window: RateWindow } | undefined;
  /**
   * The sink that allowed delivery by the webhook handshake (http-webhook.md 4.2) and the rate it
   * granted; `undefined` until then, and again when the sink changes.
   */
  handshake: { readonly sink: string; readonly window: RateWindow | undefined } | undefined;
  /**
   * The last webhook handshake refusal logged (its text), until a handshake is allowed: the
   * same refusal again is not logged again (each attempt asks, so the log would get a line per
   * attempt; each job's end still has its own line).
   */
  handshakeRefusal: string | undefined;
  /**
   * No attempt starts before this time (clock ms; 0: none set): the sink answered `Retry-After`
   * (429, 503, ...), which speaks for the sink, not for one event, so the subscription's other
   * jobs wait too instead of each spending an attempt on a sink that asked for a pause.
   */
  pausedUntil: number;
}

const sameRate = (a: DeliveryRate, b: DeliveryRate) => a.count === b.count && a.perMs === b.perMs;

/**
 * A lane for `subscription`, or `lane` brought up to date with it at `now`: a new rate starts a
 * new window holding the old one's starts (none for a new sink); a new sink, or no handshake any
 * more, forgets the handshake (and a logged refusal of it).
 *
 * @example
 * lane = updateLane(lanes.get(job.subscriptionId), subscription, clock.now());
 */
export function updateLane(
  lane: SinkLane | undefined,
  subscription: Subscription,
  now: number,
): SinkLane {
  const { rate } = subscription.delivery;
  const current = lane ?? {
    id: subscription.id,
    subscription,
    waiting: [],
    inFlight: 0,
    slow: false,
    rate: undefined,
    handshake: undefined,
    handshakeRefusal: undefined,
    pausedUntil: 0,
  };
  const sameSink = current.subscription.sink === subscription.sink;
  // A pause was asked for (a refusal logged) by the old sink; a new one has not said anything.
  if (!sameSink) {
    current.pausedUntil = 0;
    current.handshakeRefusal = undefined;
  }
  current.subscription = subscription;
  if (rate === undefined) current.rate = undefined;
  else if (current.rate === undefined || !sameRate(current.rate.rate, rate)) {
    // The sink already got the old window's starts: the new rate counts them (a new sink has
    // got none).
    const earlier = current.rate !== undefined && sameSink ? current.rate.window.starts(now) : [];
    current.rate = { rate, window: createRateWindow(rate, earlier) };
  }
  if (subscription.delivery.handshake !== true || current.handshake?.sink !== subscription.sink) {
    current.handshake = undefined;
  }
  // No handshake asked for, no refusal to remember (it would keep the lane from going).
  if (subscription.delivery.handshake !== true) current.handshakeRefusal = undefined;
  return current;
}

/** Attempts in flight to this sink at most (`delivery.concurrency`). */
export function laneLimit(lane: SinkLane): number {
  return lane.subscription.delivery.concurrency ?? DEFAULT_SINK_CONCURRENCY;
}

/** Jobs in one attempt: 1, or up to `maxBatchSize` in batch mode. */
export function batchSize(lane: SinkLane): number {
  const { delivery } = lane.subscription;
  return delivery.mode === "batch" ? (delivery.maxBatchSize ?? DEFAULT_MAX_BATCH_SIZE) : 1;
}

/** Whether the next attempt has to make the webhook handshake first (http-webhook.md 4.1). */
export function needsHandshake(lane: SinkLane): boolean {
  return lane.subscription.delivery.handshake === true && lane.handshake === undefined;
}

/**
 * The earliest time the lane may start an attempt: `now` when it can, the time a rate's window has
 * room again when a rate holds it back, the end of a pause the sink asked for (`pausedUntil`), `Infinity` while it has `delivery.concurrency` attempts in flight or
 * an attempt in flight is still making the handshake (the others wait for its answer and rate).
 */
export function readyAt(lane: SinkLane, now: number): number {
  if (lane.inFlight >= laneLimit(lane)) return Number.POSITIVE_INFINITY;
  if (lane.inFlight > 0 && needsHandshake(lane)) return Number.POSITIVE_INFINITY;
  let at = Math.max(now, lane.pausedUntil);
  if (lane.rate !== undefined) at = Math.max(at, lane.rate.window.nextAt(now));
  const granted = lane.handshake?.window;
  if (granted !== undefined) at = Math.max(at, granted.nextAt(now));
  return at;
}

/**
 * Whether the queue should leave this subscription's jobs for later: it cannot start an attempt
 * now, or it already holds a whole attempt's worth of jobs. This is what keeps a slow or dead
 * sink from filling the dispatcher (issue 5, isolation).
 */
export function isSkipped(lane: SinkLane, now: number): boolean {
  return lane.waiting.length >= batchSize(lane) || readyAt(lane, now) > now;
}

/**
 * The jobs of the attempt the lane can start now, or `undefined`: none waiting, no slot or room in a rate
 * yet, or (batch mode) a batch neither full nor past `maxBatchWaitMs` since its first job, unless
 * `flush`. Starting counts in each rate window and counts the attempt in flight.
 *
 * @example
 * const jobs = takeAttempt(lane, clock.now(), false);
 * if (jobs !== undefined) void run(lane, jobs);
 */
export function takeAttempt(
  lane: SinkLane,
  now: number,
  flush: boolean,
): DeliveryJob[] | undefined {
  const first = lane.waiting[0];
  if (first === undefined || readyAt(lane, now) > now) return undefined;
  const size = batchSize(lane);
  if (lane.waiting.length < size && !flush && first.at + maxBatchWait(lane) > now) return undefined;
  lane.rate?.window.take(now);
  lane.handshake?.window?.take(now);
  lane.inFlight++;
  return lane.waiting.splice(0, size).map((waiting) => waiting.job);
}

/**
 * When the lane next needs a look without anything else happening: its rate's next room, or its
 * partial batch's deadline; `Infinity` when only a finishing attempt can change anything.
 */
export function wakeAt(lane: SinkLane, now: number): number {
  const ready = readyAt(lane, now);
  let at = ready > now ? ready : Number.POSITIVE_INFINITY;
  const first = lane.waiting[0];
  if (first !== undefined && lane.waiting.length < batchSize(lane)) {
    at = Math.min(at, Math.max(first.at + maxBatchWait(lane), ready));
  }
  return at;
}

/** Whether the lane holds nothing and waits for nothing: it needs no look until a job comes. */
export function isQuiet(lane: SinkLane, now: number): boolean {
  return lane.waiting.length === 0 && lane.inFlight === 0 && readyAt(lane, now) <= now;
}

/**
 * Whether forgetting the lane loses nothing: quiet, rate windows empty, no handshake (or handshake
 * refusal: the next retry's would be logged again) to remember, not known to be slow (a dead
 * sink's next retry must not take a fast slot again to find out).
 */
export function isDisposable(lane: SinkLane, now: number): boolean {
  return (
    isQuiet(lane, now) &&
    !lane.slow &&
    lane.handshake === undefined &&
    lane.handshakeRefusal === undefined &&
    (lane.rate === undefined || lane.rate.window.idle(now))
  );
}

function maxBatchWait(lane: SinkLane): number {
  const { delivery } = lane.subscription;
  return delivery.mode === "batch" ? (delivery.maxBatchWaitMs ?? DEFAULT_MAX_BATCH_WAIT_MS) : 0;
}
