import { Unavailable } from "../errors/errors.js";
import type { Clock } from "../ports/clock.js";

/** Jobs an accept asks for, by subscription id. */
export type Incoming = ReadonlyMap<string, number>;

/**
 * Back-pressure, per subscription, for a queue whose backlog lives on disk. Jobs accepted and
 * never handed out yet ("fresh") are what publishers faster than a subscription's delivery pile
 * up; past `maxFresh` of them for one subscription, an accept with events for it waits for the
 * dispatcher to take some (its publishers slow down to the delivery rate instead of taking the
 * core from delivery), then is refused with `Unavailable` (503). Other subscriptions' publishers
 * are not held back. Jobs waiting for a retry are not counted: a backlog behind a sink that is
 * down lives on disk, as it should.
 *
 * The queue reports what happens to its jobs (`stored`, `handedOut`, `failed`, `delivered`,
 * `redriven`, `dropped`) and calls `freed` when a lease took jobs; this decides who gets in.
 *
 * @example
 * const admission = createFreshAdmission({ clock: systemClock, maxFresh: 10_000 });
 * const wait = admission.enter(incoming);
 * if (wait !== undefined) await wait;
 * // ... store the jobs, then:
 * admission.stored(incoming, jobsBySubscription);
 */
export interface FreshAdmission {
  /**
   * Lets an accept in at once (`undefined`; its jobs count against the room until `stored` or
   * `abandoned`), or a promise that resolves once it is let in, behind the accepts already
   * waiting for its subscriptions, and rejects with `Unavailable` after `maxWaitMs`.
   */
  enter(incoming: Incoming): Promise<void> | undefined;
  /**
   * An accept stored these jobs, now fresh. `incoming` is what `enter` let it in with (duplicates
   * store no job: the room they had goes to others), or `undefined` for one that was not held
   * back (a reply or receipt made while settling: it never entered).
   */
  stored(incoming: Incoming | undefined, jobsBySubscription: ReadonlyMap<string, number>): void;
  /** An accept let in stored nothing (its write failed): its room is free again. */
  abandoned(incoming: Incoming): void;
  /** A fresh job of the subscription was handed out for its first attempt. */
  handedOut(subscriptionId: string): void;
  /** Jobs left the fresh backlog (a lease took some): let in the waiting accepts that now fit. */
  freed(): void;
  /** A settled attempt of the subscription failed (see `isFailing`). */
  failed(subscriptionId: string): void;
  /** A job of the subscription was delivered: it is no longer failing. */
  delivered(subscriptionId: string): void;
  /** Dead jobs made due again: they are fresh, like new ones. */
  redriven(subscriptionId: string, count: number): void;
  /** The subscription's jobs are gone: nothing of it is counted any more. */
  dropped(subscriptionId: string): void;
  /**
   * Whether the subscription's last settled attempt failed (its sink may be down). A sink that
   * answers nothing (see `stalledAfterMs`) is not failing by this: it has settled nothing.
   */
  isFailing(subscriptionId: string): boolean;
  /** Lets every waiting accept in, and every later one at once (the queue is closing). */
  close(): void;
}

/** An accept waiting for room (see `enter`). */
interface Waiter {
  readonly incoming: Incoming;
  readonly admit: () => void;
}

/**
 * Creates the back-pressure of one queue. `fresh` is the count of fresh jobs per subscription
 * the queue already holds (those of an earlier run, read from the file at open).
 *
 * A subscription counts as down once every attempt settled for `failingAfterMs` has failed
 * (refusing, timing out, asking to wait): its fresh jobs are then no longer held against
 * publishers (a backlog behind a broken sink lives on disk, it is not a sign of a core starved by
 * ingest). Not at once: a slow sink that fails now and then (one attempt in ten, say) would
 * otherwise let every publisher in after each failure, until the next delivered job, and its
 * backlog grow far past `maxFresh`. The next delivered job clears it.
 *
 * A sink that answers nothing (it hangs until the delivery `timeout`) fails no attempt until that
 * timeout, which may be far longer than publishers wait (`maxWaitMs`): so a subscription also
 * counts as down while an attempt handed out `stalledAfterMs` ago is in flight and no attempt of
 * it has settled since. Without this, an event for such a sink and a healthy one kept the healthy
 * one's publishers waiting, then refused (503), until the hung sink's first timeout. Any settled
 * attempt (delivered or failed) ends the stall. A working sink settles attempts all the time;
 * one whose every attempt takes longer than `stalledAfterMs` is treated as down between its
 * answers (its backlog lives on disk, like a down sink's).
 */
export function createFreshAdmission(options: {
  readonly clock: Clock;
  /** Most fresh jobs per subscription before `enter` waits. */
  readonly maxFresh: number;
  /** How long `enter` waits for room before refusing (default 5 s). */
  readonly maxWaitMs?: number;
  /** How long every settled attempt must have failed before the sink counts as down. */
  readonly failingAfterMs?: number;
  /**
   * How long an attempt may be in flight with no attempt of its subscription settling before the
   * sink counts as down (default 2 s; below `maxWaitMs`, so a hung sink makes publishers wait,
   * not fail).
   */
  readonly stalledAfterMs?: number;
  /** Fresh jobs per subscription at the start. */
  readonly fresh?: Iterable<readonly [string, number]>;
}): FreshAdmission {
  const { clock, maxFresh, maxWaitMs = 5_000, failingAfterMs = 1_000 } = options;
  const { stalledAfterMs = 2_000 } = options;
  for (const [name, ms] of [
    ["failingAfterMs", failingAfterMs],
    ["stalledAfterMs", stalledAfterMs],
  ] as const) {
    if (!Number.isFinite(ms) || ms < 0) {
      throw new TypeError(`${name} must be a number of milliseconds, 0 or more`);
    }
  }
  let closed = false;
  const fresh = new Map<string, number>();
  for (const [id, n] of options.fresh ?? []) addTo(fresh, id, n);
  /** Failing subscriptions, with when the first failure of the current run of them came. */
  const failing = new Map<string, number>();
  /**
   * Subscriptions with an attempt in flight and none settled since it was handed out, with when
   * the first such attempt was handed out (see `stalledAfterMs`).
   */
  const pending = new Map<string, number>();
  const isDown = (id: string) => {
    const since = failing.get(id);
    if (since !== undefined && clock.now() - since >= failingAfterMs) return true;
    const from = pending.get(id);
    return from !== undefined && clock.now() - from >= stalledAfterMs;
  };
  /** An attempt of the subscription settled: it answers (or fails), so it is not stalled. */
  const settled = (id: string) => {
    pending.delete(id);
  };
  /**
   * Lets waiting accepts in once a subscription they wait for has stalled, unless an attempt of
   * it settles first (only called while an accept waits: nothing of this runs per event).
   */
  function watchStall(incoming: Incoming, until: number): void {
    let at = Number.POSITIVE_INFINITY;
    for (const id of incoming.keys()) {
      const from = pending.get(id);
      if (from !== undefined) at = Math.min(at, from + stalledAfterMs);
    }
    if (at >= until) return;
    const recheck = () => {
      if (closed) return;
      // A timer may fire a little early: look again until the clock says it is time.
      if (clock.now() < at) setTimeout(recheck, Math.max(1, at - clock.now())).unref?.();
      else freed();
    };
    setTimeout(recheck, Math.max(1, at - clock.now())).unref?.();
  }
  /** Accepts waiting for room, in arrival order. */
  const waiters = new Set<Waiter>();
  /**
   * Waiting accepts per subscription: a newcomer for one of them does not go in at once, but
   * through `freed`, behind those that lack room there (it may pass those that only reserve room
   * in it).
   */
  const waitingFor = new Map<string, number>();
  /** Jobs of accepts let in but not stored yet, per subscription: they count against the room. */
  const letIn = new Map<string, number>();

  /**
   * Whether `n` more jobs for one subscription may come in now: it has room for them (jobs fresh,
   * let in and not yet stored, or `reserved` by accepts waiting ahead), or has none at all (a
   * batch bigger than the limit must still get in), or its sink is down (see `failing`).
   */
  function hasRoom(id: string, n: number, reserved: number) {
    if (closed || isDown(id)) return true;
    const waiting = (fresh.get(id) ?? 0) + (letIn.get(id) ?? 0) + reserved;
    return waiting === 0 || waiting + n <= maxFresh;
  }

  /**
   * Lets in the waiting accepts that now fit, oldest first. One that does not fit holds back the
   * later ones of the subscriptions it lacks room in (a big batch is not overtaken for ever by
   * small ones), and keeps its place in the others, whose room it reserves: an accept for only
   * those goes past it while room is left beside what it needs (an event matching a full
   * subscription and another does not hold back the other's publishers). The others keep waiting,
   * with nothing allocated per waiter: this runs on every lease.
   */
  function freed(): void {
    if (waiters.size === 0) return;
    let blocked: Set<string> | undefined;
    let reserved: Map<string, number> | undefined;
    const lacks = (id: string, n: number) =>
      blocked?.has(id) === true || !hasRoom(id, n, reserved?.get(id) ?? 0);
    for (const waiter of waiters) {
      let fits = true;
      for (const [id, n] of waiter.incoming) if (lacks(id, n)) fits = false;
      if (fits) {
        waiters.delete(waiter);
        count(waitingFor, waiter.incoming, -1);
        count(letIn, waiter.incoming, 1);
        waiter.admit();
        continue;
      }
      blocked ??= new Set();
      reserved ??= new Map();
      // Its subscriptions are distinct: marking one does not change what the others lack.
      for (const [id, n] of waiter.incoming) {
        if (lacks(id, n)) blocked.add(id);
        else reserved.set(id, (reserved.get(id) ?? 0) + n);
      }
      // Every subscription anyone waits for is held back: no later waiter can fit. This is the
      // usual case (a lease makes room for the oldest waiter of one subscription), and ends the
      // walk there instead of at the end of a line of dozens of publishers.
      if (blocked.size === waitingFor.size) return;
    }
  }

  return {
    enter(incoming) {
      let queued = false;
      let fits = true;
      for (const [id, n] of incoming) {
        if (waitingFor.has(id)) queued = true;
        else if (!hasRoom(id, n, 0)) fits = false;
      }
      if (!queued && fits) {
        count(letIn, incoming, 1);
        return undefined;
      }
      const waiting = new Promise<void>((resolve, reject) => {
        const waiter: Waiter = {
          incoming,
          admit: () => {
            clearTimeout(timer);
            resolve();
          },
        };
        const timer = setTimeout(() => {
          waiters.delete(waiter);
          count(waitingFor, incoming, -1);
          reject(
            new Unavailable(
              "the delivery backlog is full: a sink is slower than its publishers",
              1,
            ),
          );
          // Its place in line is free: those behind it may fit.
          freed();
        }, maxWaitMs);
        waiters.add(waiter);
        count(waitingFor, incoming, 1);
        watchStall(incoming, clock.now() + maxWaitMs);
      });
      // Behind waiters that lack room in another subscription only: it may go past them now.
      if (queued && fits) freed();
      return waiting;
    },

    stored(incoming, jobsBySubscription) {
      // Its jobs are fresh now instead of let in (in the same step: no room is counted twice).
      if (incoming !== undefined) count(letIn, incoming, -1);
      let jobs = 0;
      for (const [id, n] of jobsBySubscription) {
        addTo(fresh, id, n);
        jobs += n;
      }
      // Duplicates store no job: the room they were let in with goes to whoever waits for it.
      if (incoming !== undefined && jobs < jobsIn(incoming)) freed();
    },

    abandoned(incoming) {
      count(letIn, incoming, -1);
      freed();
    },

    handedOut(subscriptionId) {
      addTo(fresh, subscriptionId, -1);
      if (!pending.has(subscriptionId)) pending.set(subscriptionId, clock.now());
    },

    freed,

    failed(id) {
      settled(id);
      if (failing.has(id)) return;
      const since = clock.now();
      failing.set(id, since);
      if (failingAfterMs === 0) {
        freed();
        return;
      }
      // Accepts waiting then are let in once it counts as down, unless a delivery clears it
      // first. Looked at again while not yet down by the clock (a timer may fire a little early).
      const recheck = () => {
        if (closed || failing.get(id) !== since) return;
        if (isDown(id)) freed();
        else setTimeout(recheck, Math.max(1, since + failingAfterMs - clock.now())).unref?.();
      };
      setTimeout(recheck, failingAfterMs).unref?.();
    },

    delivered(id) {
      settled(id);
      if (failing.delete(id)) freed();
    },

    redriven(subscriptionId, n) {
      addTo(fresh, subscriptionId, n);
    },

    dropped(subscriptionId) {
      failing.delete(subscriptionId);
      pending.delete(subscriptionId);
      fresh.delete(subscriptionId);
      freed();
    },

    isFailing: (id) => failing.has(id),

    close() {
      closed = true;
      freed();
    },
  };
}

/** Adds `n` to a count by subscription; a count that reaches 0 leaves the map. */
function addTo(counts: Map<string, number>, id: string, n: number): void {
  const next = (counts.get(id) ?? 0) + n;
  if (next > 0) counts.set(id, next);
  else counts.delete(id);
}

/** Adds (`sign` 1) or takes away (-1) an accept's jobs from a count by subscription. */
function count(map: Map<string, number>, incoming: Incoming, sign: 1 | -1): void {
  for (const [id, n] of incoming) addTo(map, id, sign * n);
}

/** The jobs an accept asks for, over its subscriptions. */
function jobsIn(incoming: Incoming): number {
  let n = 0;
  for (const jobs of incoming.values()) n += jobs;
  return n;
}
