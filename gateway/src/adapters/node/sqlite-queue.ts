import type { Database } from "better-sqlite3";
import type {
  AcceptedEvent,
  DeadJob,
  DeliveryFailure,
  DeliveryJob,
  DeliveryQueue,
} from "../../deliver/delivery-queue.js";
import type { Clock } from "../../ports/clock.js";
import { dedupeKey } from "../../store/dedupe-window.js";
import { decodeEvent, encodeEvent } from "../../store/event-codec.js";
import type { GroupCommit } from "./sqlite-group-commit.js";

interface JobRow {
  readonly id: number;
  readonly subscription_id: string;
  readonly attempts: number;
  readonly failure: string | null;
  readonly body: string;
}

// setTimeout fires at once for delays that do not fit in a signed 32-bit integer.
const MAX_TIMER_MS = 2 ** 31 - 1;
/** Expired dedupe keys pruned per accept group: at least this, plus two per key inserted. */
const PRUNE_MIN = 100;

/** Job ids are the table's integer keys as decimal strings; anything else names no job. */
const rowId = (jobId: string): number | undefined =>
  /^[1-9][0-9]{0,15}$/.test(jobId) ? Number(jobId) : undefined;

function toJob(row: JobRow): DeliveryJob {
  const job: DeliveryJob = {
    id: String(row.id),
    subscriptionId: row.subscription_id,
    event: decodeEvent(row.body),
    attempts: row.attempts,
  };
  return row.failure === null
    ? job
    : { ...job, lastFailure: JSON.parse(row.failure) as DeliveryFailure };
}

/**
 * The `DeliveryQueue` port on SQLite (see `sqlite-schema.ts` for the tables). Writes go through
 * the group commit, so they resolve once durable; `lease` writes its lease directly (losing a
 * lease in a crash only hands the job out again, which at-least-once allows). `lease` waits
 * without polling: accept, reschedule and redrive wake it, and one timer covers the next due time
 * or lease expiry. Dropping a subscription scans the jobs table (an admin call; no index spent on
 * it). `skip` is applied while walking `jobs_due`: due jobs of skipped subscriptions ahead of the
 * ones taken are passed over row by row.
 *
 * @example
 * const queue = createSqliteQueue(db, group, { clock: systemClock, dedupeWindowMs: 86_400_000 });
 */
export function createSqliteQueue(
  db: Database,
  group: GroupCommit,
  options: { readonly clock: Clock; readonly dedupeWindowMs: number },
): DeliveryQueue & { close(): void } {
  const { clock, dedupeWindowMs } = options;
  let closed = false;
  const claimKey = db.prepare(
    `INSERT INTO dedupe (key, expires_at) VALUES (?, ?)
     ON CONFLICT (key) DO UPDATE SET expires_at = excluded.expires_at WHERE dedupe.expires_at <= ?`,
  );
  const pruneKeys = db.prepare(
    `DELETE FROM dedupe WHERE key IN
       (SELECT key FROM dedupe WHERE expires_at <= ? ORDER BY expires_at LIMIT ?)`,
  );
  const insertEvent = db.prepare("INSERT INTO events (body, refs) VALUES (?, ?)");
  const insertJob = db.prepare(
    "INSERT INTO jobs (event_id, subscription_id, due_at) VALUES (?, ?, ?)",
  );
  const selectDue = db.prepare<[number, string, number], JobRow>(
    `SELECT j.id, j.subscription_id, j.attempts, j.failure, e.body
       FROM jobs j JOIN events e ON e.id = j.event_id
      WHERE j.due_at <= ? AND j.subscription_id NOT IN (SELECT value FROM json_each(?))
      ORDER BY j.due_at, j.id LIMIT ?`,
  );
  const setDue = db.prepare("UPDATE jobs SET due_at = ?, leased = 1 WHERE id = ?");
  const nextDue = db.prepare<[number, string], { due_at: number }>(
    `SELECT due_at FROM jobs
      WHERE due_at > ? AND subscription_id NOT IN (SELECT value FROM json_each(?))
      ORDER BY due_at LIMIT 1`,
  );
  const deleteJob = db.prepare<[number], { event_id: number }>(
    "DELETE FROM jobs WHERE id = ? RETURNING event_id",
  );
  const release = db.prepare<[number], { refs: number }>(
    "UPDATE events SET refs = refs - 1 WHERE id = ? RETURNING refs",
  );
  const deleteEvent = db.prepare("DELETE FROM events WHERE id = ?");
  const retry = db.prepare(
    `UPDATE jobs SET due_at = ?, attempts = attempts + 1, failure = ?, leased = 0
      WHERE id = ? AND due_at IS NOT NULL`,
  );
  const kill = db.prepare(
    `UPDATE jobs SET due_at = NULL, dead_at = ?, attempts = attempts + 1, failure = ?, leased = 0
      WHERE id = ? AND due_at IS NOT NULL`,
  );
  const selectDead = db.prepare<[string, number, number], JobRow>(
    `SELECT j.id, j.subscription_id, j.attempts, j.failure, e.body
       FROM jobs j JOIN events e ON e.id = j.event_id
      WHERE j.subscription_id = ? AND j.due_at IS NULL AND j.id > ?
      ORDER BY j.id LIMIT ?`,
  );
  const reviveAll = db.prepare(
    `UPDATE jobs SET due_at = ?, attempts = 0, failure = NULL, dead_at = NULL
      WHERE subscription_id = ? AND due_at IS NULL`,
  );
  const reviveOne = db.prepare(
    `UPDATE jobs SET due_at = ?, attempts = 0, failure = NULL, dead_at = NULL
      WHERE id = ? AND subscription_id = ? AND due_at IS NULL`,
  );
  const dropJobs = db.prepare<[string], { event_id: number }>(
    "DELETE FROM jobs WHERE subscription_id = ? RETURNING event_id",
  );
  const countLive = db.prepare<[], { n: number }>(
    "SELECT COUNT(*) AS n FROM jobs WHERE due_at IS NOT NULL",
  );
  const waiters = new Set<() => void>();
  const wake = () => {
    for (const waiter of waiters) waiter();
  };

  /** One job fewer for the event; the event goes with its last job. */
  function releaseEvent(eventId: number): void {
    const row = release.get(eventId);
    if (row !== undefined && row.refs <= 0) deleteEvent.run(eventId);
  }

  function store(events: readonly AcceptedEvent[]) {
    const now = clock.now();
    let stored = 0;
    let duplicates = 0;
    let jobs = 0;
    for (const { event, subscriptionIds } of events) {
      const key = dedupeKey(String(event.attributes.source), String(event.attributes.id));
      if (claimKey.run(key, now + dedupeWindowMs, now).changes === 0) {
        duplicates++;
        continue;
      }
      stored++;
      if (subscriptionIds.length === 0) continue;
      const eventId = insertEvent.run(encodeEvent(event), subscriptionIds.length).lastInsertRowid;
      for (const subscriptionId of subscriptionIds) insertJob.run(eventId, subscriptionId, now);
      jobs += subscriptionIds.length;
    }
    // Bounded work per group that keeps pace with the keys it adds.
    pruneKeys.run(now, PRUNE_MIN + 2 * stored);
    return { events: stored, duplicates, jobs };
  }

  const take = db.transaction((max: number, leaseMs: number, skip: string, now: number) => {
    const rows = selectDue.all(now, skip, max);
    for (const row of rows) setDue.run(now + leaseMs, row.id);
    return rows.map(toJob);
  });

  /**
   * Waits for an accept, reschedule or redrive, or for the next job due after `since` (the time
   * the last `take` looked): a job that came due between that look and now fires at once, instead
   * of being missed because it is no longer "later" than now.
   */
  function waitForChange(signal: AbortSignal, skip: string, since: number): Promise<void> {
    return new Promise<void>((resolve) => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const done = () => {
        clearTimeout(timer);
        signal.removeEventListener("abort", done);
        waiters.delete(done);
        resolve();
      };
      waiters.add(done);
      signal.addEventListener("abort", done, { once: true });
      const now = clock.now();
      const next = nextDue.get(since, skip);
      if (next !== undefined) {
        timer = setTimeout(done, Math.min(Math.max(next.due_at - now, 0), MAX_TIMER_MS));
      }
    });
  }

  return {
    async accept(events) {
      if (events.length === 0) return { events: 0, duplicates: 0, jobs: 0 };
      const acceptance = await group.run(() => store(events));
      if (acceptance.jobs > 0) wake();
      return acceptance;
    },

    async lease(max, leaseMs, signal, skip) {
      if (!Number.isInteger(max) || max < 1) {
        throw new TypeError("lease: max must be a positive integer");
      }
      if (!Number.isFinite(leaseMs) || leaseMs <= 0) {
        throw new TypeError("lease: leaseMs must be a positive number");
      }
      const skipped = JSON.stringify(skip === undefined ? [] : [...skip]);
      for (;;) {
        if (signal.aborted || closed) return [];
        const now = clock.now();
        const jobs = take.immediate(max, leaseMs, skipped, now);
        if (jobs.length > 0) return jobs;
        await waitForChange(signal, skipped, now);
      }
    },

    async complete(jobId) {
      const id = rowId(jobId);
      if (id === undefined) return;
      await group.run(() => {
        const row = deleteJob.get(id);
        if (row !== undefined) releaseEvent(row.event_id);
      });
    },

    async reschedule(jobId, dueAt, failure) {
      const id = rowId(jobId);
      if (id === undefined) return;
      await group.run(() => retry.run(dueAt, JSON.stringify(failure), id));
      wake();
    },

    async bury(jobId, failure) {
      const id = rowId(jobId);
      if (id === undefined) return;
      await group.run(() => kill.run(clock.now(), JSON.stringify(failure), id));
    },

    async dead(subscriptionId, { limit, after }) {
      const from = after === undefined ? 0 : (rowId(after) ?? 0);
      return selectDead.all(subscriptionId, from, limit).map((row) => {
        const job = toJob(row);
        return { ...job, failure: job.lastFailure } as DeadJob;
      });
    },

    async redrive(subscriptionId, jobIds) {
      const count = await group.run(() => {
        const now = clock.now();
        if (jobIds === undefined) return reviveAll.run(now, subscriptionId).changes;
        let n = 0;
        for (const jobId of jobIds) {
          const id = rowId(jobId);
          if (id !== undefined) n += reviveOne.run(now, id, subscriptionId).changes;
        }
        return n;
      });
      if (count > 0) wake();
      return count;
    },

    async drop(subscriptionId) {
      return group.run(() => {
        const rows = dropJobs.all(subscriptionId);
        for (const row of rows) releaseEvent(row.event_id);
        return rows.length;
      });
    },

    async size() {
      return countLive.get()?.n ?? 0;
    },

    /** Ends waiting leases (with no jobs) before the connection closes. */
    close() {
      closed = true;
      wake();
    },
  };
}
