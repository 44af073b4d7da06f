import { MalformedRequest } from "../errors/errors.js";
import type { CloudEvent } from "../event/cloud-event.js";

/** Why an attempt failed: the HTTP status (0 for network errors and timeouts) and a short text. */
export interface DeliveryFailure {
  /** HTTP status, 0 for network errors and timeouts. */
  readonly status: number;
  /** What went wrong, for people (no secrets); at most a few hundred characters. */
  readonly error: string;
  /** When the attempt failed (epoch ms). */
  readonly at: number;
}

/** One event to be delivered to one subscription. */
export interface DeliveryJob {
  /** Unique per job, assigned by the queue; stable across retries and redrives. */
  readonly id: string;
  readonly subscriptionId: string;
  readonly event: CloudEvent;
  /** Attempts already made (0 for a new or redriven job). */
  readonly attempts: number;
  /** The last failed attempt, when there was one. */
  readonly lastFailure?: DeliveryFailure;
}

/** A job kept as dead: its attempts are exhausted and no dead-letter sink took it. */
export interface DeadJob extends DeliveryJob {
  /** The failure that ended it (also `lastFailure`). */
  readonly failure: DeliveryFailure;
}

/** One accepted event and the subscriptions it matched (possibly none). */
export interface AcceptedEvent {
  readonly event: CloudEvent;
  readonly subscriptionIds: readonly string[];
}

/** How `accept` takes a call's events. */
export interface AcceptOptions {
  /**
   * The events are the gateway's own, made while settling a leased job: a sink's reply, a
   * delivery receipt (see `createSettle`). A queue with back-pressure takes them without waiting
   * for room, and the memory queue takes them after `stopAccepting` (the drain): the job they
   * come from holds a delivery slot and its room until they are in, and ends right after, so
   * waiting could wait for itself (a queue full of such jobs would never drain), and refusing
   * would leave it leased, to be delivered again, and lose them at a memory queue's drain. They
   * are bounded by the deliveries in flight times the subscriptions a reply or receipt matches
   * (and, for reply chains, `limits.maxReplyHops`). Default `false` (a publisher's events).
   */
  readonly settling?: boolean;
}

/** What `accept` stored. */
export interface Acceptance {
  /** Events stored (duplicates excluded). */
  readonly events: number;
  /** Events skipped because their `source` + `id` was accepted within the dedupe window. */
  readonly duplicates: number;
  /** Jobs created. */
  readonly jobs: number;
}

/**
 * A page of dead jobs: oldest first, `after` is the last id of the previous page. A store refuses
 * an `after` that is not one of its job ids in form (`MalformedRequest`), instead of guessing.
 * Where ids are ordered (memory, SQLite, NATS) an id marks a place even once its job has left
 * the dead set; where they are not (D1's UUIDs), an `after` naming none of the subscription's
 * dead jobs is refused the same way, never taken for the first page.
 */
export interface DeadPage {
  readonly limit: number;
  readonly after?: string;
  /**
   * Stop reading once the jobs read hold this much (`deadJobSize`, summed): the job that takes
   * the sum to `maxSize` or past is followed by at most one more (which tells the caller that
   * more follow), and no store reads further. Without it, a page of 1,000 dead events of 250 KB
   * each was read whole (~500 MB) before the answer's own size cap dropped most of it. Absent:
   * no bound but `limit`. `takeDeadPage` applies it to jobs read one at a time.
   */
  readonly maxSize?: number;
}

/**
 * About how many characters a dead job's event takes in the JSON event format: its attributes as
 * JSON and its data (text as is, bytes as base64, a JSON value as its text). Cheap (no event is
 * serialised), the same for every store, so a caller can tell where `DeadPage.maxSize` ended a
 * page.
 *
 * @example
 * deadJobSize(job); // 262_301 for an event with 256 KiB of text data
 */
export function deadJobSize(job: DeliveryJob): number {
  const { attributes, data } = job.event;
  let size = JSON.stringify(attributes).length;
  if (data === undefined) return size;
  switch (data.kind) {
    case "text":
      size += data.value.length;
      break;
    case "binary":
      size += Math.ceil(data.value.byteLength / 3) * 4;
      break;
    case "json":
      size += data.text?.length ?? JSON.stringify(data.value ?? null)?.length ?? 0;
      break;
  }
  return size;
}

/**
 * The jobs of a dead page from `jobs` (oldest first), reading no further than `DeadPage`
 * allows: at most `limit`, and no job after the one that follows the job taking the summed
 * `deadJobSize` to `maxSize`. Reads `jobs` lazily (a row iterator is closed when it stops).
 *
 * @example
 * takeDeadPage(selectDead.iterate(id, from, limit), page, toDeadJob);
 */
export function takeDeadPage<Row>(
  rows: Iterable<Row>,
  page: DeadPage,
  toJob: (row: Row) => DeadJob,
): DeadJob[] {
  const taken: DeadJob[] = [];
  const full = deadPageFull(page);
  if (page.limit < 1) return taken;
  for (const row of rows) {
    const job = toJob(row);
    taken.push(job);
    if (full(job) || taken.length >= page.limit) break;
  }
  return taken;
}

/**
 * Whether a dead page is complete after the job just taken (`takeDeadPage`, and stores that
 * read in batches): `true` for the job after the one whose size took the sum to `maxSize`.
 *
 * @example
 * const full = deadPageFull(page);
 * for (const job of jobs) { taken.push(job); if (full(job)) break; }
 */
export function deadPageFull(page: DeadPage): (job: DeliveryJob) => boolean {
  const max = page.maxSize;
  let size = 0;
  return (job) => {
    if (max === undefined) return false;
    if (size >= max) return true;
    size += deadJobSize(job);
    return false;
  };
}

/**
 * Where a dead page starts for a store whose job ids are decimal integers: after `after`, or at
 * the start. Anything else is a `MalformedRequest` (answered 400), not a silent first or empty page.
 *
 * @example
 * const from = deadPageStart(page.after); // "42" -> 42, undefined -> 0
 */
export function deadPageStart(after: string | undefined): number {
  if (after === undefined) return 0;
  const start = integerJobId(after);
  if (start === undefined) {
    throw new MalformedRequest("after must be a jobId from the previous page (its next)");
  }
  return start;
}

/**
 * A job id of a store whose ids are positive decimal integers (memory, SQLite, NATS), as a
 * number; `undefined` for any other text, which names no job there.
 *
 * @example
 * integerJobId("42"); // 42
 * integerJobId("042"); // undefined
 */
export function integerJobId(jobId: string): number | undefined {
  return /^[1-9][0-9]{0,15}$/.test(jobId) ? Number(jobId) : undefined;
}

/**
 * The store port's delivery side: accepted events and their delivery jobs, with leases (at-least-
 * once), retries, the dead set and dedupe. Every method that changes state resolves only when the
 * change is durable in that implementation.
 *
 * Implementations: `memory-queue.ts` (tests, `store: memory`), the Node adapter's SQLite queue;
 * D1/Queues and NATS later. All pass `delivery-queue.case.ts`.
 */
export interface DeliveryQueue {
  /**
   * Stores the events and one job per (event, subscription id), all or nothing, and resolves once
   * that is durable (the 202 waits for it). An event whose `source` + `id` was accepted within the
   * dedupe window (or earlier in the same call) is a duplicate: counted, not stored, no jobs. An
   * event with no subscription ids still counts for dedupe. See `AcceptOptions` for `settling`.
   */
  accept(events: readonly AcceptedEvent[], options?: AcceptOptions): Promise<Acceptance>;
  /**
   * Up to `max` jobs that are due, each leased for `leaseMs`, oldest due first; jobs of the
   * subscriptions in `skip` are left for later (a saturated sink must not hold up the others).
   * Resolves with an empty array when `signal` aborts; otherwise waits until at least one job is
   * due. A lease that expires before `complete`, `reschedule` or `bury` hands the job out again
   * with the same id and attempts. A call that ended leaves no listener on `signal`: the
   * dispatcher passes one signal to lease after lease until it aborts it.
   */
  lease(
    max: number,
    leaseMs: number,
    signal: AbortSignal,
    skip?: ReadonlySet<string>,
  ): Promise<readonly DeliveryJob[]>;
  /** The job is finished (delivered, or taken by the dead-letter sink): remove it. */
  complete(jobId: string): Promise<void>;
  /** Puts the job back, due at `dueAt` (epoch ms), with `attempts` + 1 and this failure. */
  reschedule(jobId: string, dueAt: number, failure: DeliveryFailure): Promise<void>;
  /** Keeps the job as dead, with `attempts` + 1 and this failure; `lease` never hands it out. */
  bury(jobId: string, failure: DeliveryFailure): Promise<void>;
  /** The subscription's dead jobs, oldest first. */
  dead(subscriptionId: string, page: DeadPage): Promise<readonly DeadJob[]>;
  /**
   * The most characters of JSON a page of the dead set may hold on this store's platform, when
   * below the API's own (`MAX_PAGE_CHARS`): a Worker has 128 MB of memory, and a page holds its
   * events several times over while it is written.
   */
  readonly maxDeadPageChars?: number;
  /**
   * The subscription's dead job `jobId`, as `dead` lists it; `undefined` when it is not dead in
   * that subscription (unknown, another subscription's, queued or leased, redriven, discarded)
   * and for any text that is no job id of this store, which names no job (never a refusal).
   */
  findDead(subscriptionId: string, jobId: string): Promise<DeadJob | undefined>;
  /**
   * Makes the subscription's dead jobs (all, or those in `jobIds`) due now with attempts back to
   * 0; resolves with how many.
   */
  redrive(subscriptionId: string, jobIds?: readonly string[]): Promise<number>;
  /**
   * Removes the subscription's dead jobs (all, or those in `jobIds`) for good; resolves with how
   * many. Jobs that are not dead (queued, leased, redriven since) stay. A job redriven and
   * discarded at the same moment ends one way only: a discard counts only jobs it removed that
   * no redrive put back, and a redrive counts only jobs it put back that no discard removed.
   */
  discardDead(subscriptionId: string, jobIds?: readonly string[]): Promise<number>;
  /** Removes every job of the subscription, dead ones included; resolves with how many. */
  drop(subscriptionId: string): Promise<number>;
  /**
   * Jobs not completed and not dead (queued or leased). Read at every `GET /metrics` scrape and
   * OTLP export (`herald_queue_depth`): it must not cost in proportion to the backlog.
   */
  size(): Promise<number>;
}

/**
 * The argument checks every `DeliveryQueue.lease` makes: `max` a positive integer, `leaseMs` a
 * positive number (a caller's programming mistake, so a `TypeError`).
 */
export function checkLeaseArguments(max: number, leaseMs: number): void {
  if (!Number.isInteger(max) || max < 1) {
    throw new TypeError("lease: max must be a positive integer");
  }
  if (!Number.isFinite(leaseMs) || leaseMs <= 0) {
    throw new TypeError("lease: leaseMs must be a positive number");
  }
}
