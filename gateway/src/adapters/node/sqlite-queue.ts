import type { Database } from "better-sqlite3";
import {
  type AcceptedEvent,
  checkLeaseArguments,
  type DeadJob,
  type DeliveryFailure,
  type DeliveryJob,
  type DeliveryQueue,
  deadPageStart,
  integerJobId,
  takeDeadPage,
} from "../../deliver/delivery-queue.js";
import { createFreshAdmission } from "../../deliver/fresh-admission.js";
import { waitForWake } from "../../deliver/wait-for-wake.js";
import type { Clock } from "../../ports/clock.js";
import { dedupeKey } from "../../store/dedupe-window.js";
import { decodeEventParts, encodeEventParts } from "../../store/event-codec.js";
import { before, type FreshJob, FreshJobs } from "./sqlite-fresh-jobs.js";
import type { GroupCommit } from "./sqlite-group-commit.js";

interface JobRow {
  readonly id: number;
  readonly subscription_id: string;
  readonly attempts: number;
  readonly failure: string | null;
  readonly body: string;
  readonly data: Buffer | null;
}

/** The least a job whose reschedule could not be written stays with its holder (`heldUntil`). */
const HELD_AFTER_FAILED_WRITE_MS = 1_000;

/** A due job as the lease first reads it: its key and order, not its event. */
interface DueRow {
  readonly id: number;
  readonly subscription_id: string;
  readonly attempts: number;
  readonly due_at: number;
}

/** What a due job's event and last failure are read from, once it is handed out. */
interface PayloadRow {
  readonly failure: string | null;
  readonly body: string;
  readonly data: Buffer | null;
}

/** Expired dedupe keys pruned per accept group: at least this, plus two per key inserted. */
const PRUNE_MIN = 100;
/** Drops remembered to tell an accept stored after its subscription's drop (see `drop`). */
const DROPS_REMEMBERED = 64;
/**
 * Dead jobs one transaction of a redrive or discard of a whole dead set takes: the rest wait for
 * the next group, so accepts and deliveries go on between them. One statement for them all held
 * the event loop for as long as it ran: 100 ms to redrive 50,000 dead jobs and 170 ms to delete
 * them, growing with the set (it has no bound but the disk).
 */
const DEAD_CHUNK = 1_000;
/**
 * Jobs accepted here that wait in memory, unindexed (see `FreshJobs`), at most about this many,
 * over all subscriptions; further ones are written as indexed due rows. Enough for one
 * subscription's default backlog of fresh jobs (`maxFresh`, 10,000); a waiting job costs about
 * 350 bytes of resident memory at peak (the `backlog` bench: 170 MB without any, 175-176 MB
 * with 16,384, 196 MB with 65,536).
 */
const FRESH_MAX_JOBS = 16_384;
/**
 * Encoded events of those kept in memory, at most this many jobs and this many bytes: a job
 * handed out soon after it was accepted is not read back from the file. Enough for one
 * subscription's default backlog of fresh jobs (`maxFresh`) of events of a few hundred bytes.
 */
const FRESH_MAX_EVENT_JOBS = 16_384;
const FRESH_MAX_EVENT_BYTES = 8 * 1024 * 1024;

/** A lease held in this process; `memory` names the job's subscription when it came from memory. */
interface Lease {
  readonly until: number;
  readonly memory: string | undefined;
  /** The job's subscription. */
  readonly subscription: string;
}

/** Before every row in due order (`due_at` > 0, ids from 1): a read from the first due row. */
const NO_ROW = { due: 0, id: 0 };

/** The skip set of a lease that skips nothing: one set, so `FreshJobs` sees it unchanged. */
const NO_SKIP: ReadonlySet<string> = new Set();

/** Due order: `due_at`, then `id`. */
const byDueOrder = (a: DueRow, b: DueRow) => a.due_at - b.due_at || a.id - b.id;

/** Job ids are the table's integer keys as decimal strings; anything else names no job. */
const rowId = integerJobId;

/** A BLOB as read (a `Buffer`) as the plain `Uint8Array` events carry, without a copy. */
const bytesOf = (blob: Buffer | null): Uint8Array | null =>
  blob === null ? null : new Uint8Array(blob.buffer, blob.byteOffset, blob.byteLength);

/** Bytes to bind: better-sqlite3 binds a `Buffer` (a view of the same memory, no copy). */
const blobOf = (bytes: Uint8Array | null): Buffer | null =>
  bytes === null ? null : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);

function toJob(row: JobRow): DeliveryJob {
  const job: DeliveryJob = {
    id: String(row.id),
    subscriptionId: row.subscription_id,
    event: decodeEventParts(row.body, bytesOf(row.data)),
    attempts: row.attempts,
  };
  return row.failure === null
    ? job
    : { ...job, lastFailure: JSON.parse(row.failure) as DeliveryFailure };
}

/** A dead job's row as the dead page and `findDead` give it (a dead row always has its failure). */
function toDeadJob(row: JobRow): DeadJob {
  const job = toJob(row);
  return { ...job, failure: job.lastFailure } as DeadJob;
}

/**
 * The dedupe window the keys' `expires_at` are written under in this file (each key's accept time
 * plus it), recorded by the first run that needs it: later runs keep writing under it, whatever
 * their own window, and compare with a shifted clock instead (a key of window `windowMs` has
 * expired once `expires_at <= now + recorded - windowMs`). So a window shortened (or set to `0s`,
 * dedupe off) in the config ends, after the restart, for the keys already stored as well, and a
 * longer one lasts longer for them too (keys already pruned stay gone), without rewriting a single
 * key: rewriting them (an UPDATE of every key and its index entry) took 20 s per million keys at
 * start, and a WAL the size of the table. A file that never recorded a window (schema 4 or older)
 * has its keys taken as written under `windowMs`.
 *
 * @example
 * // A file first written with 24h: 86_400_000; its keys expire 23h sooner.
 * dedupeFrame(db, 3_600_000);
 */
export function dedupeFrame(db: Database, windowMs: number): number {
  const recorded = db
    .prepare<[], { value: number }>("SELECT value FROM settings WHERE name = 'dedupe_window_ms'")
    .get()?.value;
  if (recorded !== undefined) return recorded;
  db.prepare("INSERT INTO settings (name, value) VALUES ('dedupe_window_ms', ?)").run(windowMs);
  return windowMs;
}

/**
 * The `DeliveryQueue` port on SQLite (see `sqlite-schema.ts` for the tables). Writes go through
 * the group commit, so they resolve once durable. Leases are kept in memory, not written: the
 * file has one owner, and a lease only matters while its holder lives (after a crash every job is
 * due again, which at-least-once allows).
 *
 * Two kinds of due jobs. A job accepted here is written with due time 0, outside the partial
 * due-time indexes, and waits in memory (`FreshJobs`) until it is handed out: the common path of
 * accept, lease and complete writes and reads no index at all. Every other due job (a retry, a
 * redrive, a job of an earlier run, a job accepted while too many wait in memory) is an indexed
 * row, read in due order; `indexedNext` (no indexed job is due before it) spares that read while
 * none can be due, and `heldTo` (every due row up to it is leased) lets it start past the rows
 * already leased, so a lease reads about as many rows as it hands out. A lease merges both in due
 * order.
 *
 * `lease` waits without polling: accept, reschedule and redrive wake it, and one timer covers the
 * next due time or lease expiry. With a `skip` set, each other subscription that may have an
 * indexed row due (`indexedNextOf`) is read through `jobs_subscription_due`: the skipped ones' due
 * rows (a paused or rate-held sink's backlog) are never passed over. Back-pressure:
 * `createFreshAdmission`.
 *
 * @example
 * const queue = createSqliteQueue(db, group, { clock: systemClock, dedupeWindowMs: 86_400_000 });
 */
export function createSqliteQueue(
  db: Database,
  group: GroupCommit,
  options: {
    readonly clock: Clock;
    readonly dedupeWindowMs: number;
    /** Most fresh jobs (accepted, never handed out) per subscription before `accept` waits. */
    readonly maxFresh?: number;
    /** How long `accept` waits for room before refusing with `Unavailable` (default 5 s). */
    readonly maxWaitMs?: number;
    /**
     * How long every settled attempt of a subscription must have failed before its publishers
     * are no longer held back (default 1 s; see `createFreshAdmission`).
     */
    readonly failingAfterMs?: number;
    /**
     * How long an attempt may be in flight with none of its subscription settling before its
     * publishers are no longer held back (default 2 s; see `createFreshAdmission`).
     */
    readonly stalledAfterMs?: number;
    /** Most jobs waiting in memory, unindexed (default `FRESH_MAX_JOBS`). */
    readonly memoryJobs?: number;
  },
): DeliveryQueue & { close(): void } {
  const { clock, dedupeWindowMs, maxFresh = 10_000, maxWaitMs = 5_000 } = options;
  const { failingAfterMs = 1_000 } = options;
  if (!Number.isFinite(failingAfterMs) || failingAfterMs < 0) {
    throw new TypeError(
      "createSqliteQueue: failingAfterMs must be a number of milliseconds, 0 or more",
    );
  }
  const memoryJobs = options.memoryJobs ?? FRESH_MAX_JOBS;
  if (!Number.isSafeInteger(memoryJobs) || memoryJobs < 0) {
    throw new TypeError("createSqliteQueue: memoryJobs must be a whole number, 0 or more");
  }
  let closed = false;
  // Jobs of due time 0 belong to the memory of a process that is gone: due now, as indexed rows.
  db.prepare("UPDATE jobs SET due_at = ? WHERE due_at = 0").run(Math.max(1, clock.now()));
  // Keys are written under the file's window (`frame`) and read with the clock moved by `shift`.
  const frame = dedupeFrame(db, dedupeWindowMs);
  const shift = frame - dedupeWindowMs;
  const claimKey = db.prepare(
    `INSERT INTO dedupe (key, expires_at) VALUES (?, ?)
     ON CONFLICT (key) DO UPDATE SET expires_at = excluded.expires_at WHERE dedupe.expires_at <= ?`,
  );
  const pruneKeys = db.prepare(
    `DELETE FROM dedupe WHERE key IN
       (SELECT key FROM dedupe WHERE expires_at <= ? ORDER BY expires_at LIMIT ?)`,
  );
  const earliestExpiry = db.prepare<[], { at: number | null }>(
    "SELECT MIN(expires_at) AS at FROM dedupe",
  );
  /**
   * No key expires before this (in the file's frame, like `expires_at`: compared with
   * `now + shift`): pruning runs only once one may have (a prune that finds nothing
   * still costs a statement), then looks again. Every key stored is counted in. A group that
   * fails after a prune rolls the prune back, which may leave this too late: expired keys then
   * stay a while longer, which only costs space (an expired key never blocks a claim).
   */
  let nextExpiry = earliestExpiry.get()?.at ?? Number.POSITIVE_INFINITY;
  const insertEvent = db.prepare("INSERT INTO events (body, data, refs) VALUES (?, ?, ?)");
  const insertJob = db.prepare(
    "INSERT INTO jobs (event_id, subscription_id, due_at) VALUES (?, ?, ?)",
  );
  // Indexed due rows are read in two steps: their keys first (index order, no event), then the
  // event of each one handed out. Rows held by a lease are still due in the file; a read starts
  // past the ones known held (`heldTo`) and stops once it has enough free rows (see
  // `collectDue`): first the rows of `heldTo`'s due time after its id, then those due later. Two
  // statements, as the index seeks to `due_at = ? AND id > ?` but not to `(due_at, id) > (?, ?)`
  // (it scanned every row of that due time, and an accept's rows share one). `due_at > 0` in
  // every read lets SQLite use the partial indexes (and leaves the jobs waiting in memory out).
  const selectDueAt = db.prepare<[number, number, string], DueRow>(
    `SELECT id, subscription_id, attempts, due_at FROM jobs
      WHERE due_at > 0 AND due_at = ? AND id > ?
        AND subscription_id NOT IN (SELECT value FROM json_each(?))
      ORDER BY id`,
  );
  const selectDue = db.prepare<[number, number, string], DueRow>(
    `SELECT id, subscription_id, attempts, due_at FROM jobs
      WHERE due_at > 0 AND due_at > ? AND due_at <= ?
        AND subscription_id NOT IN (SELECT value FROM json_each(?))
      ORDER BY due_at, id`,
  );
  const selectDueOfAt = db.prepare<[string, number, number], DueRow>(
    `SELECT id, subscription_id, attempts, due_at FROM jobs
      WHERE subscription_id = ? AND due_at > 0 AND due_at = ? AND id > ?
      ORDER BY id`,
  );
  const selectDueOf = db.prepare<[string, number, number], DueRow>(
    `SELECT id, subscription_id, attempts, due_at FROM jobs
      WHERE subscription_id = ? AND due_at > 0 AND due_at > ? AND due_at <= ?
      ORDER BY due_at, id`,
  );
  const selectPayload = db.prepare<[number], PayloadRow>(
    `SELECT j.failure, e.body, e.data FROM jobs j JOIN events e ON e.id = j.event_id
      WHERE j.id = ?`,
  );
  /** The event of a job from memory, as long as it still waits there (due time 0). */
  const selectFreshPayload = db.prepare<[number], PayloadRow>(
    `SELECT j.failure, e.body, e.data FROM jobs j JOIN events e ON e.id = j.event_id
      WHERE j.id = ? AND j.due_at = 0`,
  );
  const nextDueOf = db.prepare<[string, number], { due_at: number | null }>(
    "SELECT MIN(due_at) AS due_at FROM jobs WHERE subscription_id = ? AND due_at > 0 AND due_at > ?",
  );
  const subscriptionsWithJobs = db.prepare<[], { subscription_id: string }>(
    "SELECT DISTINCT subscription_id FROM jobs",
  );
  /**
   * Subscriptions that have (or had) jobs here: the candidates of a lease that skips some. Filled
   * from the file at open, grown on accept and redrive, read from the file again after a drop; a
   * stale entry only costs one empty index probe per lease.
   */
  const withJobs = new Set<string>();
  const refreshWithJobs = () => {
    const rows = subscriptionsWithJobs.all();
    withJobs.clear();
    for (const row of rows) withJobs.add(row.subscription_id);
  };
  refreshWithJobs();
  /**
   * The latest subscriptions dropped (at most DROPS_REMEMBERED, oldest first), and whether an
   * accept put one of them back in `withJobs`: it matched the subscription just before its
   * DELETE and was stored after it. The dispatcher completes such jobs one by one, which takes no
   * id out, so the next drop reads `withJobs` from the file again (see `drop`).
   */
  const droppedLately = new Set<string>();
  let withJobsStale = false;
  const addWithJobs = (subscriptionId: string) => {
    if (withJobs.has(subscriptionId)) return;
    withJobs.add(subscriptionId);
    if (droppedLately.has(subscriptionId)) withJobsStale = true;
  };
  const nextDue = db.prepare<[number, string], { due_at: number }>(
    `SELECT due_at FROM jobs
      WHERE due_at > 0 AND due_at > ? AND subscription_id NOT IN (SELECT value FROM json_each(?))
      ORDER BY due_at LIMIT 1`,
  );
  const earliestDue = db.prepare<[], { due_at: number | null }>(
    "SELECT MIN(due_at) AS due_at FROM jobs WHERE due_at > 0",
  );
  /** A subscription's earliest indexed row, due or not (`jobs_subscription_due`, one probe). */
  const earliestDueOf = db.prepare<[string], { due_at: number | null }>(
    "SELECT MIN(due_at) AS due_at FROM jobs WHERE subscription_id = ? AND due_at > 0",
  );
  // `due_at` says whether the row was live (a stale holder may complete a job buried since).
  const deleteJob = db.prepare<
    [number],
    { event_id: number; subscription_id: string; due_at: number | null }
  >("DELETE FROM jobs WHERE id = ? RETURNING event_id, subscription_id, due_at");
  const deleteJobs = db.prepare<
    [string],
    { id: number; event_id: number; subscription_id: string; due_at: number | null }
  >(
    `DELETE FROM jobs WHERE id IN (SELECT value FROM json_each(?))
      RETURNING id, event_id, subscription_id, due_at`,
  );
  const release = db.prepare<[number], { refs: number }>(
    "UPDATE events SET refs = refs - 1 WHERE id = ? RETURNING refs",
  );
  const deleteEvent = db.prepare("DELETE FROM events WHERE id = ?");
  const deleteLastRef = db.prepare("DELETE FROM events WHERE id = ? AND refs <= 1");
  const retry = db.prepare<[number, string, number], { subscription_id: string }>(
    `UPDATE jobs SET due_at = ?, attempts = attempts + 1, failure = ?
      WHERE id = ? AND due_at IS NOT NULL RETURNING subscription_id`,
  );
  const kill = db.prepare<[number, string, number], { subscription_id: string }>(
    `UPDATE jobs SET due_at = NULL, dead_at = ?, attempts = attempts + 1, failure = ?
      WHERE id = ? AND due_at IS NOT NULL RETURNING subscription_id`,
  );
  const selectDead = db.prepare<[string, number, number], JobRow>(
    `SELECT j.id, j.subscription_id, j.attempts, j.failure, e.body, e.data
       FROM jobs j JOIN events e ON e.id = j.event_id
      WHERE j.subscription_id = ? AND j.due_at IS NULL AND j.id > ?
      ORDER BY j.id LIMIT ?`,
  );
  const selectOneDead = db.prepare<[number, string], JobRow>(
    `SELECT j.id, j.subscription_id, j.attempts, j.failure, e.body, e.data
       FROM jobs j JOIN events e ON e.id = j.event_id
      WHERE j.id = ? AND j.subscription_id = ? AND j.due_at IS NULL`,
  );
  /** The newest dead job of a subscription: where a redrive or discard of them all ends. */
  const lastDead = db.prepare<[string], { id: number | null }>(
    "SELECT MAX(id) AS id FROM jobs WHERE subscription_id = ? AND due_at IS NULL",
  );
  /** The dead jobs of a subscription with an id in (from, to], oldest first, `DEAD_CHUNK` at most. */
  const deadChunk = `SELECT id FROM jobs WHERE subscription_id = ? AND due_at IS NULL AND id > ? AND id <= ?
      ORDER BY id LIMIT ${DEAD_CHUNK}`;
  const reviveChunk = db.prepare<[number, string, number, number], { id: number }>(
    `UPDATE jobs SET due_at = ?, attempts = 0, failure = NULL, dead_at = NULL
      WHERE id IN (${deadChunk}) RETURNING id`,
  );
  const reviveOne = db.prepare(
    `UPDATE jobs SET due_at = ?, attempts = 0, failure = NULL, dead_at = NULL
      WHERE id = ? AND subscription_id = ? AND due_at IS NULL`,
  );
  // Dead jobs only (`due_at IS NULL`, the partial index `jobs_dead`): never a queued or leased one.
  const discardChunk = db.prepare<[string, number, number], { id: number; event_id: number }>(
    `DELETE FROM jobs WHERE id IN (${deadChunk}) RETURNING id, event_id`,
  );
  const discardOne = db.prepare<[number, string], { event_id: number }>(
    "DELETE FROM jobs WHERE id = ? AND subscription_id = ? AND due_at IS NULL RETURNING event_id",
  );
  /** The newest job in the file: where a drop ends (see `drop`). */
  const lastJob = db.prepare<[], { id: number | null }>("SELECT MAX(id) AS id FROM jobs");
  type DroppedRow = { id: number; event_id: number; due_at: number | null };
  // A drop goes `DEAD_CHUNK` jobs per transaction, through an index each: jobs waiting in memory
  // (due time 0, in no index) by the ids memory and the leases hold, ...
  const dropFreshChunk = db.prepare<[string, string], DroppedRow>(
    `DELETE FROM jobs WHERE id IN (SELECT value FROM json_each(?))
      AND subscription_id = ? AND due_at = 0 RETURNING id, event_id, due_at`,
  );
  // ... the indexed due ones (`jobs_subscription_due`) up to the drop's end, ...
  const dropDueChunk = db.prepare<[string, number], DroppedRow>(
    `DELETE FROM jobs WHERE id IN (SELECT id FROM jobs WHERE subscription_id = ? AND due_at > 0
      AND id <= ? LIMIT ${DEAD_CHUNK}) RETURNING id, event_id, due_at`,
  );
  // ... then the dead ones (`jobs_dead`).
  const dropDeadChunk = db.prepare<[string, number, number], DroppedRow>(
    `DELETE FROM jobs WHERE id IN (${deadChunk}) RETURNING id, event_id, due_at`,
  );
  const waiters = new Set<() => void>();
  const wake = () => {
    for (const waiter of waiters) waiter();
  };
  /** Jobs accepted here and waiting in memory, unindexed. */
  const memory = new FreshJobs({
    maxJobs: memoryJobs,
    maxEventJobs: FRESH_MAX_EVENT_JOBS,
    maxEventBytes: FRESH_MAX_EVENT_BYTES,
  });
  /**
   * Every due indexed row up to this place in due order (`due`, then `id`) is held by a live
   * lease, but those of the subscriptions in `skip` (a lease skipping all of them, or more, may
   * start its read past it). Reads start here, not at the first due row: the rows leased
   * for a sink's batch (up to `maxBatchSize` times its `concurrency`) are the first due ones, and
   * reading past them again at every lease cost time growing with their number per lease, so with
   * the square of the batch size per batch. Forgotten when a row may be due before it again: a
   * lease expired, a row made due at or before its due time.
   */
  let heldTo: { due: number; id: number; skip: ReadonlySet<string> } | undefined;
  /**
   * No indexed row is due before this (held rows excepted: their lease expiry lowers it again).
   * Lowered by whatever makes an indexed row due (reschedule, redrive, an accept past the memory
   * limit, an expired lease of an indexed row); raised only by a read that saw every due row (of
   * the subscriptions it did not skip; a skipped one's earliest row counts as it is).
   */
  let indexedNext = earliestDue.get()?.due_at ?? Number.POSITIVE_INFINITY;
  /**
   * `newRows`: the rows made due are new ones (an accept), whose ids are past every row's
   * (AUTOINCREMENT), so at `heldTo`'s own due time they still come after it.
   */
  const indexedDueBy = (at: number, newRows = false) => {
    if (at < indexedNext) indexedNext = at;
    if (heldTo !== undefined && (at < heldTo.due || (at === heldTo.due && !newRows))) {
      heldTo = undefined;
    }
  };
  /**
   * Per subscription, as `indexedNext` is for all: none of its indexed rows is due before this
   * (held rows excepted); none known, it may have one due now. Raised by a read of its due rows
   * (from `heldTo` on: those before it are held) that found none, lowered by whatever makes one
   * of its rows due (`subscriptionDueBy`). A lease that skips some subscriptions reads the others'
   * rows one by one (`jobs_subscription_due`), and only those that may have one due.
   */
  const indexedNextOf = new Map<string, number>();
  const subscriptionDueBy = (subscriptionId: string, at: number) => {
    const bound = indexedNextOf.get(subscriptionId);
    if (bound !== undefined && at < bound) indexedNextOf.set(subscriptionId, at);
  };
  /**
   * Live jobs in the file, what `size` answers (`GET /metrics` asks at every scrape): counted at
   * open, then moved by every write that makes or ends a live job (accept, complete, bury,
   * redrive, drop; a reschedule and a discard of dead jobs leave it), by the rows that write
   * reports, and only once the group commit holding it has committed (its `committed`
   * callback): a group rolled back, or a work that threw, moves nothing. Counting the table
   * instead took 50 ms at 300,000 jobs and 110-320 ms at 900,000, with the event loop blocked.
   * Counted once here: every job but the dead (the table's count, less the partial index of dead
   * jobs; 150 ms at 900,000 jobs, half the time of the scan `countFresh` makes anyway).
   */
  let live =
    db
      .prepare<[], { n: number }>(
        `SELECT (SELECT COUNT(*) FROM jobs) - (SELECT COUNT(*) FROM jobs WHERE due_at IS NULL) AS n`,
      )
      .get()?.n ?? 0;
  const storedJobs = (stored: { readonly acceptance: { readonly jobs: number } }) => {
    live += stored.acceptance.jobs;
  };
  const completedJobs = (done: { readonly live: number }) => {
    live -= done.live;
  };
  const buriedJob = (row: unknown) => {
    if (row !== undefined) live--;
  };
  const redrivenJobs = (redriven: { readonly count: number }) => {
    live += redriven.count;
  };
  const droppedJobs = (rows: readonly { readonly due_at: number | null }[]) => {
    for (const row of rows) if (row.due_at !== null) live--;
  };
  /**
   * Back-pressure, per subscription (see `createFreshAdmission`): counted from the file at open,
   * kept up to date by every accept, hand-out and settle. Replies and receipts (`settling`
   * accepts) are not held back (see `AcceptOptions`).
   */
  const countFresh = db.prepare<[], { subscription_id: string; n: number }>(
    `SELECT subscription_id, COUNT(*) AS n FROM jobs
      WHERE attempts = 0 AND due_at IS NOT NULL GROUP BY subscription_id`,
  );
  const admission = createFreshAdmission({
    clock,
    maxFresh,
    maxWaitMs,
    failingAfterMs,
    ...(options.stalledAfterMs === undefined ? {} : { stalledAfterMs: options.stalledAfterMs }),
    fresh: countFresh.all().map((row) => [row.subscription_id, row.n] as const),
  });

  /** One job fewer for the event; the event goes with its last job. */
  /**
   * Makes dead jobs of the subscription due again in one transaction: `revive` returns the rows
   * it changed (or how many). Resolves with how many and the rows, once committed.
   */
  async function redriveWork(
    subscriptionId: string,
    revive: (now: number) => readonly { readonly id: number }[] | number,
  ): Promise<{ count: number; ids: readonly { readonly id: number }[] }> {
    const { count, ids, now } = await group.run(() => {
      const now = Math.max(1, clock.now());
      withJobs.add(subscriptionId);
      const revived = revive(now);
      return typeof revived === "number"
        ? { count: revived, ids: [], now }
        : { count: revived.length, ids: revived, now };
    }, redrivenJobs);
    admission.redriven(subscriptionId, count);
    if (count > 0) {
      indexedDueBy(now);
      subscriptionDueBy(subscriptionId, now);
      wake();
    }
    return { count, ids };
  }

  /**
   * A redrive or discard of a subscription's whole dead set, `DEAD_CHUNK` jobs per transaction
   * (oldest first), each chunk awaited before the next so that accepts and deliveries go on
   * between them; the jobs dead when it began are its end (`lastDead`), so jobs dying meanwhile
   * cannot keep it going. Each job ends one way: a chunk takes only jobs still dead. Resolves
   * with how many jobs the chunks took.
   */
  async function eachDeadChunk(
    subscriptionId: string,
    chunk: (
      from: number,
      to: number,
    ) => Promise<{ count: number; ids: readonly { readonly id: number }[] }>,
  ): Promise<number> {
    const to = lastDead.get(subscriptionId)?.id ?? 0;
    let total = 0;
    for (let from = 0; from < to; ) {
      const { count, ids } = await chunk(from, to);
      total += count;
      if (ids.length < DEAD_CHUNK) break;
      for (const { id } of ids) if (id > from) from = id;
    }
    return total;
  }

  function releaseEvent(eventId: number): void {
    // Most events have one job: delete at once, and count down only when others remain.
    if (deleteLastRef.run(eventId).changes > 0) return;
    const row = release.get(eventId);
    if (row !== undefined && row.refs <= 0) deleteEvent.run(eventId);
  }

  /** A job written to wait in memory, added there once its accept is committed. */
  interface NewJob {
    readonly id: number;
    readonly subscriptionId: string;
    readonly parts: { readonly text: string; readonly bytes: Uint8Array | null };
  }

  function store(events: readonly AcceptedEvent[]) {
    const now = clock.now();
    let stored = 0;
    let duplicates = 0;
    let jobs = 0;
    let indexed = false;
    const jobsBySubscription = new Map<string, number>();
    const newJobs: NewJob[] = [];
    for (const { event, subscriptionIds } of events) {
      const key = dedupeKey(String(event.attributes.source), String(event.attributes.id));
      if (claimKey.run(key, now + frame, now + shift).changes === 0) {
        duplicates++;
        continue;
      }
      stored++;
      if (now + frame < nextExpiry) nextExpiry = now + frame;
      if (subscriptionIds.length === 0) continue;
      const parts = encodeEventParts(event);
      const eventId = insertEvent.run(
        parts.text,
        blobOf(parts.bytes),
        subscriptionIds.length,
      ).lastInsertRowid;
      for (const subscriptionId of subscriptionIds) {
        // In memory while there is room there; else an indexed row, due now.
        const inMemory = memory.hasRoomFor(newJobs.length);
        const due = inMemory ? 0 : Math.max(1, now);
        const id = Number(insertJob.run(eventId, subscriptionId, due).lastInsertRowid);
        if (inMemory) newJobs.push({ id, subscriptionId, parts });
        else {
          indexed = true;
          subscriptionDueBy(subscriptionId, due);
        }
        jobsBySubscription.set(subscriptionId, (jobsBySubscription.get(subscriptionId) ?? 0) + 1);
        addWithJobs(subscriptionId);
      }
      jobs += subscriptionIds.length;
    }
    // Bounded work per accept that keeps pace with the keys it adds.
    if (nextExpiry <= now + shift) {
      pruneKeys.run(now + shift, PRUNE_MIN + 2 * stored);
      nextExpiry = earliestExpiry.get()?.at ?? Number.POSITIVE_INFINITY;
    }
    return {
      acceptance: { events: stored, duplicates, jobs },
      jobsBySubscription,
      newJobs,
      indexedAt: indexed ? Math.max(1, now) : undefined,
      now,
    };
  }

  /**
   * The subscriptions to look at one by one (those not skipped that may have an indexed row due
   * by `at`, see `indexedNextOf`), or `undefined` to use one query over all (nothing skipped).
   * One query with the skipped ones filtered out walked past every due row of theirs, every lease
   * that could not start past them (`heldTo`): a sink paused by `Retry-After` or held by its
   * `delivery.rate` with 40,000 jobs due made each lease of the others take 22 ms, not 0.1 ms.
   */
  function candidates(skip: ReadonlySet<string>, at: number): string[] | undefined {
    if (skip.size === 0) return undefined;
    const each: string[] = [];
    for (const id of withJobs) {
      if (!skip.has(id) && (indexedNextOf.get(id) ?? 0) <= at) each.push(id);
    }
    return each;
  }

  /**
   * The due rows past `from` in due order: those of its due time after its id (`sameDue`, none
   * when `from` is before every row), then those due later, up to `now` (`later`).
   */
  function* dueFrom(
    from: { readonly due: number; readonly id: number },
    now: number,
    sameDue: () => IterableIterator<DueRow>,
    later: () => IterableIterator<DueRow>,
  ): Generator<DueRow> {
    if (from.due > 0 && from.due <= now) yield* sameDue();
    yield* later();
  }

  /**
   * Rows in due order from `rows` until `max` of them are free (no lease): the held ones are kept
   * too, for `advanceHeldTo`. `exhausted` when every due row was read.
   */
  function collectDue(
    rows: IterableIterator<DueRow>,
    max: number,
  ): { read: DueRow[]; exhausted: boolean } {
    const read: DueRow[] = [];
    let free = 0;
    for (const row of rows) {
      read.push(row);
      // Breaking out of the loop ends the statement (`return` on its iterator).
      if (!leases.has(row.id) && ++free >= max) return { read, exhausted: false };
    }
    return { read, exhausted: true };
  }

  /**
   * The due rows past `from` (outside `skip`) in due order, until `max` of them are free.
   * `bound`: the last row whose place is known to come before every row not read (per
   * subscription, each read stops on its own); `undefined` when the rows read are all up to the
   * last one.
   */
  function dueRows(
    max: number,
    skip: ReadonlySet<string>,
    skipJson: string,
    now: number,
    from: { readonly due: number; readonly id: number },
  ): { read: DueRow[]; exhausted: boolean; bound: DueRow | undefined } {
    const each = candidates(skip, now);
    if (each === undefined) {
      const { read, exhausted } = collectDue(
        dueFrom(
          from,
          now,
          () => selectDueAt.iterate(from.due, from.id, skipJson),
          () => selectDue.iterate(from.due, now, skipJson),
        ),
        max,
      );
      return { read, exhausted, bound: undefined };
    }
    let read: DueRow[] = [];
    let exhausted = true;
    let bound: DueRow | undefined;
    for (const id of each) {
      const one = collectDue(
        dueFrom(
          from,
          now,
          () => selectDueOfAt.iterate(id, from.due, from.id),
          () => selectDueOf.iterate(id, from.due, now),
        ),
        max,
      );
      // None due past `from` (those before it are held): none is due before its next row.
      if (one.read.length === 0) {
        indexedNextOf.set(id, nextDueOf.get(id, now)?.due_at ?? Number.POSITIVE_INFINITY);
        continue;
      }
      read = read.length === 0 ? one.read : read.concat(one.read);
      const last = one.read.at(-1);
      if (!one.exhausted && last !== undefined) {
        exhausted = false;
        if (bound === undefined || byDueOrder(last, bound) < 0) bound = last;
      }
    }
    read.sort(byDueOrder);
    return { read, exhausted, bound };
  }

  /** Where `heldTo` may start a read that skips `skip`: the first row when it may not. */
  function heldFrom(skip: ReadonlySet<string>): { readonly due: number; readonly id: number } {
    if (heldTo === undefined) return NO_ROW;
    for (const id of heldTo.skip) if (!skip.has(id)) return NO_ROW;
    return heldTo;
  }

  /**
   * After a take: moves `heldTo` over the rows read, in due order, while each is held by a live
   * lease (those just handed out included), up to `bound`.
   */
  function advanceHeldTo(
    read: readonly DueRow[],
    bound: DueRow | undefined,
    skip: ReadonlySet<string>,
    now: number,
  ): void {
    let last: DueRow | undefined;
    for (const row of read) {
      if (bound !== undefined && byDueOrder(row, bound) > 0) break;
      const lease = leases.get(row.id);
      if (lease === undefined || lease.until <= now) break;
      last = row;
    }
    if (last !== undefined) heldTo = { due: last.due_at, id: last.id, skip: new Set(skip) };
  }

  function nextDueAfter(since: number, skip: ReadonlySet<string>, skipJson: string) {
    if (skip.size === 0) return nextDue.get(since, skipJson)?.due_at;
    let next: number | undefined;
    for (const id of withJobs) {
      if (skip.has(id)) continue;
      // A bound past `since` is soon enough to wake at: the read then says more.
      const bound = indexedNextOf.get(id) ?? 0;
      const due = bound > since ? bound : nextDueOf.get(id, since)?.due_at;
      if (due !== null && due !== undefined && (next === undefined || due < next)) next = due;
    }
    return next === Number.POSITIVE_INFINITY ? undefined : next;
  }

  /**
   * Leases live in this process, not in the file: the file has one owner (`openSqliteStore`
   * takes it exclusively), and a lease only matters while its holder lives, so after a crash or
   * restart every job is due anyway. Keeping them here saves a write transaction per lease. A job
   * is held until `complete`, `reschedule`, `bury` or `drop`, or until its lease expires.
   */
  const leases = new Map<number, Lease>();
  /** No lease that `returnExpired` has not dealt with ends before this. */
  let leasesEndFrom = Number.POSITIVE_INFINITY;

  /**
   * Deals with leases expired by `now`: a job from memory goes back there, due from its lease's
   * expiry; an indexed row is due in the file anyway, so the next read must look. Runs only
   * once a lease may have expired.
   */
  function returnExpired(now: number): void {
    if (leasesEndFrom > now) return;
    let next = Number.POSITIVE_INFINITY;
    for (const [id, lease] of leases) {
      if (lease.until > now) {
        if (lease.until < next) next = lease.until;
      } else if (lease.memory !== undefined) {
        leases.delete(id);
        memory.putBack(id, lease.memory, lease.until);
      } else {
        // Its row, due all along, is free again wherever it is in due order.
        heldTo = undefined;
        indexedDueBy(lease.until);
        subscriptionDueBy(lease.subscription, lease.until);
      }
    }
    leasesEndFrom = next;
  }

  function hold(
    id: number,
    until: number,
    fromMemory: string | undefined,
    subscription: string,
  ): void {
    leases.set(id, { until, memory: fromMemory, subscription });
    if (until < leasesEndFrom) leasesEndFrom = until;
  }

  /** Due indexed rows not held by a live lease, in due order, once an indexed row may be due. */
  function freeIndexedRows(
    max: number,
    skip: ReadonlySet<string>,
    skipJson: string,
    now: number,
  ): {
    rows: { row: DueRow; due: number; expired: boolean }[];
    complete: boolean;
    read: readonly DueRow[];
    bound: DueRow | undefined;
  } {
    // Nothing read, so nothing learnt: `indexedNext` stays (no index probe per lease).
    if (indexedNext > now) return { rows: [], complete: false, read: [], bound: undefined };
    // Held rows are still due in the file: the read starts past those known held.
    const { read, exhausted, bound } = dueRows(max, skip, skipJson, now, heldFrom(skip));
    const rows: { row: DueRow; due: number; expired: boolean }[] = [];
    let reordered = false;
    for (const row of read) {
      const lease = leases.get(row.id);
      if (lease === undefined) rows.push({ row, due: row.due_at, expired: false });
      else if (lease.until <= now) {
        // An expired lease's job is due from that expiry on: it takes its turn after the jobs
        // that were due before it. Rows come in `due_at` order, so only these can move.
        rows.push({ row, due: Math.max(row.due_at, lease.until), expired: true });
        reordered = true;
      }
    }
    if (reordered) rows.sort((a, b) => a.due - b.due || a.row.id - b.row.id);
    return { rows, complete: exhausted, read, bound };
  }

  function take(
    max: number,
    leaseMs: number,
    skip: ReadonlySet<string>,
    skipJson: string,
    now: number,
  ) {
    returnExpired(now);
    const { rows, complete, read, bound } = freeIndexedRows(max, skip, skipJson, now);
    const jobs: DeliveryJob[] = [];
    let next = 0;
    while (jobs.length < max) {
      const head = memory.earliest(skip);
      const indexed = rows[next];
      if (indexed !== undefined && (head === undefined || before(toOrder(indexed), head))) {
        next++;
        const job = handOut(indexed.row);
        if (job === undefined) continue;
        // Its first hand-out takes a job out of the fresh backlog; an expired lease's does not.
        if (!indexed.expired && indexed.row.attempts === 0)
          admission.handedOut(indexed.row.subscription_id);
        hold(indexed.row.id, now + leaseMs, undefined, indexed.row.subscription_id);
        jobs.push(job);
      } else if (head !== undefined) {
        memory.shift(head.subscriptionId);
        const job = handOutFresh(head);
        if (job === undefined) continue;
        if (!head.returned) admission.handedOut(head.subscriptionId);
        hold(head.id, now + leaseMs, head.subscriptionId, head.subscriptionId);
        jobs.push(job);
      } else break;
    }
    advanceHeldTo(read, bound, skip, now);
    // Every due indexed row outside `skip` was seen and handed out: none is due before the next
    // one, or before the earliest row of a skipped subscription.
    if (complete && next === rows.length) {
      // The skipped subscriptions' rows were not read: their earliest, due or not, counts too.
      let earliest = nextDueAfter(now, skip, skipJson) ?? Number.POSITIVE_INFINITY;
      for (const id of skip) {
        const due = earliestDueOf.get(id)?.due_at;
        if (due !== null && due !== undefined && due < earliest) earliest = due;
      }
      indexedNext = earliest;
    }
    return jobs;
  }

  /** An indexed row's job, read from the file; `undefined` when the row is gone. */
  function handOut(row: DueRow): DeliveryJob | undefined {
    const payload = selectPayload.get(row.id);
    if (payload === undefined) return undefined;
    return toJob({
      ...payload,
      id: row.id,
      subscription_id: row.subscription_id,
      attempts: row.attempts,
    });
  }

  /**
   * The job of one from memory: its event as kept, else read from the file. `undefined` when it
   * is no longer due time 0 there (a job back from an expired lease that its holder settled).
   */
  function handOutFresh(job: FreshJob): DeliveryJob | undefined {
    let event = job.event;
    if (event === undefined) {
      const row = selectFreshPayload.get(job.id);
      if (row === undefined) return undefined;
      event = { text: row.body, bytes: bytesOf(row.data) };
    }
    return {
      id: String(job.id),
      subscriptionId: job.subscriptionId,
      event: decodeEventParts(event.text, event.bytes),
      attempts: 0,
    };
  }

  /**
   * Waits for an accept, reschedule or redrive, or for the next job due after `since` (the time
   * the last `take` looked): a job that came due between that look and now fires at once, instead
   * of being missed because it is no longer "later" than now.
   */
  function waitForChange(
    signal: AbortSignal,
    skip: ReadonlySet<string>,
    skipJson: string,
    since: number,
  ): Promise<void> {
    const now = clock.now();
    // While an indexed row may be due (held or skipped ones), the file says when the next is.
    const due = indexedNext > since ? indexedNext : nextDueAfter(since, skip, skipJson);
    const next = due === undefined ? leasesEndFrom : Math.min(due, leasesEndFrom);
    return waitForWake(waiters, signal, Number.isFinite(next) ? next - now : undefined);
  }

  /**
   * The completes asked for until the next group commit runs: deleted together, in one
   * statement and one work of the group, rather than one of each per job.
   */
  let completing: { readonly ids: number[]; readonly done: Promise<Completed> } | undefined;

  /** Deletes the jobs of `ids`: the subscription of each one that was there, and how many lived. */
  function completeAll(ids: readonly number[]): Completed {
    // Completes from now on go to the next group.
    completing = undefined;
    const done = new Map<number, string>();
    let wereLive = 0;
    if (ids.length === 1) {
      const id = ids[0] as number;
      const row = deleteJob.get(id);
      if (row !== undefined) {
        releaseEvent(row.event_id);
        done.set(id, row.subscription_id);
        if (row.due_at !== null) wereLive++;
      }
      return { done, live: wereLive };
    }
    for (const row of deleteJobs.all(JSON.stringify(ids))) {
      releaseEvent(row.event_id);
      done.set(row.id, row.subscription_id);
      if (row.due_at !== null) wereLive++;
    }
    return { done, live: wereLive };
  }

  /**
   * A reschedule that could not be written (a full disk, a read-only file) still ends its lease at
   * the retry's due time: its holder gave the job up, and no one else can hold it (the file has
   * one owner), so the attempt is made again on the retry's schedule, from the state the file
   * kept, rather than only when the whole lease (minutes) runs out. Not within a second, though:
   * its holder lets go of it only once the failure has reached it, and a job handed out again
   * while its holder still has it is not taken up (it would wait for the whole new lease).
   */
  function heldUntil(id: number, due: number): void {
    const lease = leases.get(id);
    if (lease === undefined) return;
    const until = Math.max(due, clock.now() + HELD_AFTER_FAILED_WRITE_MS);
    if (until >= lease.until) return;
    leases.set(id, { ...lease, until });
    if (until < leasesEndFrom) leasesEndFrom = until;
    wake();
  }

  /** A lease ended here by a settle: its job leaves memory for good. */
  const settled = (id: number) => {
    leases.delete(id);
  };

  return {
    async accept(events, options) {
      if (events.length === 0) return { events: 0, duplicates: 0, jobs: 0 };
      const incoming = new Map<string, number>();
      for (const { subscriptionIds } of events) {
        for (const id of subscriptionIds) incoming.set(id, (incoming.get(id) ?? 0) + 1);
      }
      // A reply or a receipt is not held back: the settle making it holds a delivery slot.
      const held = options?.settling !== true;
      if (held) {
        const wait = admission.enter(incoming);
        if (wait !== undefined) await wait;
      }
      let stored: ReturnType<typeof store>;
      try {
        stored = await group.run(() => store(events), storedJobs);
      } catch (error) {
        if (held) admission.abandoned(incoming);
        throw error;
      }
      const { acceptance, jobsBySubscription, newJobs, indexedAt, now } = stored;
      admission.stored(held ? incoming : undefined, jobsBySubscription);
      // A failing subscription's jobs wait for retries, not moments: their events stay on disk.
      for (const { id, subscriptionId, parts } of newJobs) {
        memory.add(
          id,
          subscriptionId,
          now,
          admission.isFailing(subscriptionId) ? undefined : parts,
        );
      }
      if (indexedAt !== undefined) indexedDueBy(indexedAt, true);
      if (acceptance.jobs > 0) wake();
      return acceptance;
    },

    async lease(max, leaseMs, signal, skip) {
      checkLeaseArguments(max, leaseMs);
      // Its own copy: `FreshJobs` tells skip sets apart by identity, and the caller's may change
      // while this lease waits.
      const skipSet = skip === undefined || skip.size === 0 ? NO_SKIP : new Set(skip);
      const skipped = JSON.stringify([...skipSet]);
      for (;;) {
        if (signal.aborted || closed) return [];
        const now = clock.now();
        const jobs = take(max, leaseMs, skipSet, skipped, now);
        if (jobs.length > 0) {
          admission.freed();
          return jobs;
        }
        await waitForChange(signal, skipSet, skipped, now);
      }
    },

    async complete(jobId) {
      const id = rowId(jobId);
      if (id === undefined) return;
      let batch = completing;
      if (batch === undefined) {
        const ids: number[] = [];
        const started = { ids, done: group.run(() => completeAll(ids), completedJobs) };
        // A group that fails before this work runs (an earlier work filled the disk) must not
        // leave later completes waiting on it: they go to the next group.
        started.done.catch(() => {
          if (completing === started) completing = undefined;
        });
        batch = completing = started;
      }
      batch.ids.push(id);
      const subscriptionId = (await batch.done).done.get(id);
      settled(id);
      if (subscriptionId !== undefined) admission.delivered(subscriptionId);
    },

    async reschedule(jobId, dueAt, failure) {
      const id = rowId(jobId);
      if (id === undefined) return;
      // Due time 0 means "waiting in memory": a retry is an indexed row, due at 1 at the earliest.
      const due = Math.max(1, dueAt);
      let row: { subscription_id: string } | undefined;
      try {
        row = await group.run(() => retry.get(due, JSON.stringify(failure), id));
      } catch (error) {
        heldUntil(id, due);
        throw error;
      }
      settled(id);
      if (row !== undefined) {
        indexedDueBy(due);
        subscriptionDueBy(row.subscription_id, due);
        admission.failed(row.subscription_id);
      }
      wake();
    },

    async bury(jobId, failure) {
      const id = rowId(jobId);
      if (id === undefined) return;
      const row = await group.run(
        () => kill.get(clock.now(), JSON.stringify(failure), id),
        buriedJob,
      );
      settled(id);
      if (row !== undefined) admission.failed(row.subscription_id);
    },

    async dead(subscriptionId, page) {
      const from = deadPageStart(page.after);
      // Row by row: the rows past `page.maxSize` are never read (a page of 1,000 large events
      // was read whole before).
      return takeDeadPage(selectDead.iterate(subscriptionId, from, page.limit), page, toDeadJob);
    },

    async findDead(subscriptionId, jobId) {
      const id = rowId(jobId);
      const row = id === undefined ? undefined : selectOneDead.get(id, subscriptionId);
      return row === undefined ? undefined : toDeadJob(row);
    },

    async redrive(subscriptionId, jobIds) {
      if (jobIds === undefined) {
        // All of them, `DEAD_CHUNK` per transaction (see `eachDeadChunk`).
        return eachDeadChunk(subscriptionId, (from, to) =>
          redriveWork(subscriptionId, (now) => reviveChunk.all(now, subscriptionId, from, to)),
        );
      }
      // At most what an admin body holds (64 KiB): one transaction.
      const { count } = await redriveWork(subscriptionId, (now) => {
        let n = 0;
        for (const jobId of jobIds) {
          const id = rowId(jobId);
          if (id !== undefined) n += reviveOne.run(now, id, subscriptionId).changes;
        }
        return n;
      });
      return count;
    },

    async discardDead(subscriptionId, jobIds) {
      if (jobIds === undefined) {
        // All of them, `DEAD_CHUNK` per transaction (see `eachDeadChunk`).
        return eachDeadChunk(subscriptionId, async (from, to) => {
          const rows = await group.run(() => {
            const deleted = discardChunk.all(subscriptionId, from, to);
            for (const row of deleted) releaseEvent(row.event_id);
            return deleted;
          });
          return { count: rows.length, ids: rows };
        });
      }
      return group.run(() => {
        const rows = [...new Set(jobIds)].flatMap((jobId) => {
          const id = rowId(jobId);
          return id === undefined ? [] : discardOne.all(id, subscriptionId);
        });
        for (const row of rows) releaseEvent(row.event_id);
        return rows.length;
      });
    },

    async drop(subscriptionId) {
      /** One chunk: its rows deleted and their events released, in one transaction. */
      const dropChunk = async (rows: () => DroppedRow[]) => {
        const deleted = await group.run(() => {
          const gone = rows();
          for (const row of gone) releaseEvent(row.event_id);
          return gone;
        }, droppedJobs);
        // Only once committed: a job forgotten here by a chunk that fails would stay in the file
        // with due time 0, handed out by no lease until a restart.
        for (const row of deleted) settled(row.id);
        return deleted;
      };
      let count = 0;
      try {
        // The jobs in the file when it begins are the drop's (an accept earlier in the same group
        // included): one of a later accept, or of a subscription made again with that id, stays.
        const to = await group.run(() => {
          // In the work, so that an accept later in the same group puts it back.
          withJobs.delete(subscriptionId);
          droppedLately.delete(subscriptionId);
          droppedLately.add(subscriptionId);
          if (droppedLately.size > DROPS_REMEMBERED) {
            for (const oldest of droppedLately) {
              droppedLately.delete(oldest);
              break;
            }
          }
          return lastJob.get()?.id ?? 0;
        });
        // `DEAD_CHUNK` jobs per transaction, each awaited before the next, so that accepts and
        // deliveries go on between them: one statement for them all scanned the whole table and
        // held the event loop as long as it ran (a subscription's dead jobs have no bound but the
        // disk). Live jobs first: a crash part way leaves the subscription gone (its registry
        // entry went first) with some of its jobs, which the dispatcher drops when due as of no
        // subscription, and dead ones, which nothing hands out; none is delivered.
        // Those waiting in memory, by the ids memory and the leases hold (the accepts stored
        // before `to` have added theirs by now: their `await` resumed first). A job that stops
        // being due time 0 meanwhile (rescheduled, buried) is taken by a later step.
        const fresh = memory.idsOf(subscriptionId, to);
        for (const [id, lease] of leases) {
          if (lease.memory === subscriptionId && id <= to) fresh.push(id);
        }
        for (let at = 0; at < fresh.length; at += DEAD_CHUNK) {
          const ids = fresh.slice(at, at + DEAD_CHUNK);
          const rows = await dropChunk(() =>
            dropFreshChunk.all(JSON.stringify(ids), subscriptionId),
          );
          memory.remove(subscriptionId, new Set(ids));
          count += rows.length;
        }
        // Then the indexed due ones, and the dead ones last, each from the lowest left.
        for (;;) {
          const rows = await dropChunk(() => dropDueChunk.all(subscriptionId, to));
          count += rows.length;
          if (rows.length < DEAD_CHUNK) break;
        }
        for (;;) {
          const rows = await dropChunk(() => dropDeadChunk.all(subscriptionId, 0, to));
          count += rows.length;
          if (rows.length < DEAD_CHUNK) break;
        }
      } catch (error) {
        // Not all was dropped (a full disk rolls a chunk back): its rows are still there.
        withJobs.add(subscriptionId);
        throw error;
      }
      // An accept stored after an earlier drop put that id back (`withJobsStale`): without a look
      // at the file every such race left one id in `withJobs` for good, looked at by every lease
      // that skips a subscription. Read after the commit (a later accept adds its ids as it
      // stores), the ids whose jobs are gone leave; one scan, and only after such a race.
      if (withJobsStale) {
        try {
          refreshWithJobs();
          // Jobs of such an accept still there: look again at the next drop.
          withJobsStale = [...droppedLately].some((id) => withJobs.has(id));
        } catch {
          // The file could not be read: stale ids stay a while longer, which only costs probes.
        }
      }
      indexedNextOf.delete(subscriptionId);
      admission.dropped(subscriptionId);
      return count;
    },

    /** The live count (see `live`): no read of the file, whatever the backlog. */
    async size() {
      return live;
    },

    /** Ends waiting leases (with no jobs) before the connection closes. */
    close() {
      closed = true;
      wake();
      admission.close();
    },
  };
}

/** What a group's completes did: each deleted job's subscription by id, and how many were live. */
interface Completed {
  readonly done: ReadonlyMap<number, string>;
  readonly live: number;
}

/** A due indexed row in the order of `before`. */
const toOrder = (row: { row: DueRow; due: number }) => ({ due: row.due, id: row.row.id });
