import {
  type DeadJob,
  type DeliveryFailure,
  type DeliveryJob,
  deadPageFull,
} from "../../deliver/delivery-queue.js";
import { MalformedRequest } from "../../errors/errors.js";
import { decodeEvent, encodeEvent } from "../../store/event-codec.js";
import type { D1Database } from "./cloudflare-bindings.js";

interface DeadRow {
  readonly seq: number;
  readonly job_id: string;
  readonly subscription_id: string;
  readonly body: string;
  readonly attempts: number;
  readonly failure: string;
}

function toDeadJob(row: DeadRow): DeadJob {
  const failure = JSON.parse(row.failure) as DeliveryFailure;
  return {
    id: row.job_id,
    subscriptionId: row.subscription_id,
    event: decodeEvent(row.body),
    attempts: row.attempts,
    lastFailure: failure,
    failure,
  };
}

/** A dead job's row (`seq`), its place in the set, and how long its stored event is (characters). */
interface Place {
  readonly seq: number;
  readonly place: number;
  readonly size: number;
}

/**
 * A dead job's place in the set, which pages follow: the `seq` of the row it first had, kept when
 * it is redriven and dies again (`DeliveryMessage.place`), so that it is dead again in its old
 * place, as on Node, and a page's `after` naming it still marks where a reader was. Rows of a
 * Herald before `place` have none: their `seq`.
 */
const PLACE = "COALESCE(place, seq)";

/** Dead jobs removed per statement by `drop` (and a discard of all of a subscription's). */
const DROP_CHUNK = 1_000;

/** About how many characters of stored events one read of a dead page fetches at most. */
const READ_CHARS = 4 * 1024 * 1024;

/**
 * A dead job, its row (`seq`: a job buried again since has a new row, another `seq`) and its
 * place in the set (see `PLACE`).
 */
export interface DeadJobRow {
  readonly seq: number;
  readonly place: number;
  readonly job: DeadJob;
}

// UUIDs carry no order, so a cursor marks a place only while its job is in the dead set.
const NO_PLACE =
  "after must be the jobId of one of this subscription's dead jobs (the next of the previous page); one redriven since marks no place on Workers: leave after out to start again";

/** Deliveries kept as dead, in D1 (the `dead` table, see `d1-schema.ts`). */
export interface D1DeadJobs {
  /**
   * Keeps the job as dead with `attempts` + 1 (as `DeliveryQueue.bury`); idempotent per job id.
   * `place` is where the job was before a redrive (`DeadJobRow.place`): it goes back there.
   */
  bury(job: DeliveryJob, failure: DeliveryFailure, place?: number): Promise<void>;
  /**
   * The subscription's dead jobs, oldest first, after the job `after` (when given). An `after`
   * that names none of the subscription's dead jobs is a `MalformedRequest` (400): job ids are
   * UUIDs, so one no longer dead (redriven) or never there has no place to go on from, and
   * starting again at the first page would repeat jobs to a reader paging through. Rows past
   * `maxSize` (`DeadPage`) are not read.
   */
  page(subscriptionId: string, limit: number, after?: string, maxSize?: number): Promise<DeadJob[]>;
  /** The subscription's dead job `jobId` (`DeliveryQueue.findDead`); any other text finds none. */
  find(subscriptionId: string, jobId: string): Promise<DeadJob | undefined>;
  /**
   * Up to `limit` of the subscription's dead jobs (all, or those in `jobIds`), oldest first, in
   * rows up to `upTo` (`lastRow` before a redrive: not the rows of jobs buried again since).
   * Named jobs are read by id, all of them each call: name at most about `limit` at once.
   */
  peek(
    subscriptionId: string,
    limit: number,
    jobIds: readonly string[] | undefined,
    upTo: number,
  ): Promise<DeadJobRow[]>;
  /** The newest row of the dead set (0 when empty). */
  lastRow(): Promise<number>;
  /**
   * Removes these rows; a job buried again since (a new row) stays dead.
   *
   * @example
   * await dead.remove(rows.map((row) => row.seq));
   */
  remove(seqs: readonly number[]): Promise<void>;
  /**
   * Removes the subscription's dead jobs (all, or those in `jobIds`) for good; resolves with how
   * many (`DeliveryQueue.discardDead`).
   */
  discard(subscriptionId: string, jobIds: readonly string[] | undefined): Promise<number>;
  /** Removes every dead job of the subscription; resolves with how many. */
  drop(subscriptionId: string): Promise<number>;
}

/**
 * The `dead` table on D1.
 *
 * @example
 * const dead = createD1DeadJobs(env.HERALD_DB);
 * await dead.bury(job, { status: 400, error: "bad payload", at: Date.now() });
 */
export function createD1DeadJobs(db: D1Database): D1DeadJobs {
  /**
   * `DROP_CHUNK` rows a statement, not the subscription's whole dead set in one: a statement
   * holds the database (every request's D1 reads wait behind it), and one over hundreds of
   * thousands of rows runs into D1's limit on a query's duration, failing the call each time.
   */
  async function drop(subscriptionId: string): Promise<number> {
    const statement = db.prepare(
      `DELETE FROM dead WHERE seq IN (
         SELECT seq FROM dead WHERE subscription_id = ?1 ORDER BY seq LIMIT ?2)`,
    );
    let dropped = 0;
    for (;;) {
      const { changes } = (await statement.bind(subscriptionId, DROP_CHUNK).run()).meta;
      dropped += changes;
      if (changes < DROP_CHUNK) return dropped;
    }
  }

  return {
    async bury(job, failure, place) {
      await db
        .prepare(
          // A new row (`seq`) each time, also for a job buried again: a redrive that sent it
          // removes only the row it read, never the failure that came back since. Its place is
          // the one it had (before a redrive, or in the row replaced), else its own `seq`.
          `INSERT OR REPLACE INTO dead (job_id, subscription_id, body, attempts, failure, place)
           VALUES (?1, ?2, ?3, ?4, ?5,
             COALESCE(?6, (SELECT ${PLACE} FROM dead WHERE job_id = ?1)))`,
        )
        .bind(
          job.id,
          job.subscriptionId,
          encodeEvent(job.event),
          job.attempts + 1,
          JSON.stringify(failure),
          place ?? null,
        )
        .run();
    },
    async page(subscriptionId, limit, after, maxSize) {
      let from = 0;
      if (after !== undefined) {
        const cursor = await db
          .prepare(`SELECT ${PLACE} AS place FROM dead WHERE job_id = ?1 AND subscription_id = ?2`)
          .bind(after, subscriptionId)
          .first<{ place: number }>();
        if (cursor === null) throw new MalformedRequest(NO_PLACE);
        from = cursor.place;
      }
      // The places first (no bodies), then the bodies a few megabytes at a time, in order, until
      // `maxSize` (`DeadPage`) ends the page: a page of large events is not read whole.
      const places = db.prepare(
        `SELECT seq, ${PLACE} AS place, length(body) AS size FROM dead
         WHERE subscription_id = ?1 AND ${PLACE} > ?2 ORDER BY ${PLACE} LIMIT ?3`,
      );
      const full = deadPageFull({ limit, ...(maxSize === undefined ? {} : { maxSize }) });
      const jobs: DeadJob[] = [];
      // A job buried again since its place was read has a new row, further on: listed once.
      const listed = new Set<string>();
      // A row redriven or discarded between the read of its place and of its event is left out,
      // and the places after the last one read are read next, so that a page is short only where
      // the set ends (a short page says no page follows, and a client would stop paging while
      // jobs were still dead).
      while (jobs.length < limit) {
        const wanted = limit - jobs.length;
        const rows = (await places.bind(subscriptionId, from, wanted).all<Place>()).results;
        for (let at = 0; at < rows.length; ) {
          let end = at + 1;
          let chars = rows[at]?.size ?? 0;
          while (end < rows.length && chars + (rows[end]?.size ?? 0) <= READ_CHARS) {
            chars += rows[end]?.size ?? 0;
            end++;
          }
          const seqs = rows.slice(at, end).map((row) => row.seq);
          at = end;
          const read = await db
            .prepare(
              // By `seq` alone (`+` keeps the planner off the subscription's index, which it
              // takes for the ORDER BY: it then reads every dead job of the subscription).
              `SELECT job_id, subscription_id, body, attempts, failure FROM dead
               WHERE seq IN (SELECT value FROM json_each(?2)) AND +subscription_id = ?1
               ORDER BY ${PLACE}`,
            )
            .bind(subscriptionId, JSON.stringify(seqs))
            .all<DeadRow>();
          for (const row of read.results) {
            if (listed.has(row.job_id) || jobs.length >= limit) continue;
            listed.add(row.job_id);
            const job = toDeadJob(row);
            jobs.push(job);
            if (full(job)) return jobs;
          }
        }
        const last = rows[rows.length - 1];
        if (last === undefined || rows.length < wanted) return jobs;
        from = last.place;
      }
      return jobs;
    },
    async find(subscriptionId, jobId) {
      const row = await db
        .prepare(
          `SELECT job_id, subscription_id, body, attempts, failure FROM dead
           WHERE job_id = ?1 AND subscription_id = ?2`,
        )
        .bind(jobId, subscriptionId)
        .first<DeadRow>();
      return row === null ? undefined : toDeadJob(row);
    },
    async peek(subscriptionId, limit, jobIds, upTo) {
      const columns = `seq, ${PLACE} AS place, job_id, subscription_id, body, attempts, failure`;
      const statement =
        jobIds === undefined
          ? db
              .prepare(
                `SELECT ${columns} FROM dead WHERE subscription_id = ?1 AND seq <= ?2
                 ORDER BY seq LIMIT ?3`,
              )
              .bind(subscriptionId, upTo, limit)
          : db
              .prepare(
                // Each named job by its id (`+`: not the subscription's index, which the planner
                // takes for the ORDER BY, reading every dead job of the subscription).
                `SELECT ${columns} FROM dead
                 WHERE job_id IN (SELECT value FROM json_each(?2))
                   AND +subscription_id = ?1 AND +seq <= ?4
                 ORDER BY seq LIMIT ?3`,
              )
              .bind(subscriptionId, JSON.stringify(jobIds), limit, upTo);
      const { results } = await statement.all<DeadRow & { place: number }>();
      return results.map((row) => ({ seq: row.seq, place: row.place, job: toDeadJob(row) }));
    },
    async lastRow() {
      const row = await db
        .prepare("SELECT COALESCE(MAX(seq), 0) AS seq FROM dead")
        .first<{ seq: number }>();
      return row?.seq ?? 0;
    },
    async remove(seqs) {
      if (seqs.length === 0) return;
      await db
        .prepare("DELETE FROM dead WHERE seq IN (SELECT value FROM json_each(?1))")
        .bind(JSON.stringify(seqs))
        .run();
    },
    async discard(subscriptionId, jobIds) {
      if (jobIds === undefined) return drop(subscriptionId);
      const result = await db
        .prepare(
          // By job id (`+`: the subscription's index would read all its dead jobs).
          `DELETE FROM dead
           WHERE job_id IN (SELECT value FROM json_each(?2)) AND +subscription_id = ?1`,
        )
        .bind(subscriptionId, JSON.stringify(jobIds))
        .run();
      return result.meta.changes;
    },
    drop,
  };
}
