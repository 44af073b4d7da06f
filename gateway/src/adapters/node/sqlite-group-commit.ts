import type { Database } from "better-sqlite3";
import { storeUnavailable } from "./sqlite-errors.js";

/** Writes that arrive together and are committed together. */
export interface GroupCommit {
  /**
   * Runs `work` inside the next group transaction and resolves with its result once the group is
   * committed; rejects with `Unavailable` when the work or the commit fails (then nothing of it
   * is stored). A work that throws undoes only its own writes. `work` may run more than once
   * (only the writes of its last run are kept): what it does besides writing must be harmless to
   * repeat.
   *
   * `committed`, when given, is called with the value of the work's last run right after the
   * COMMIT that stored it returned, before any caller of the group resumes, and never for a work
   * whose writes were not stored (it threw, or the group was rolled back): what it changes in
   * memory follows the file exactly, whatever runs next. It must not throw.
   */
  run<T>(work: () => T, committed?: (value: T) => void): Promise<T>;
  /** Transactions committed so far (tests check that writes are grouped). */
  readonly transactions: number;
}

interface Pending {
  readonly work: () => unknown;
  readonly committed: ((value: unknown) => void) | undefined;
  readonly resolve: (value: unknown) => void;
  readonly reject: (err: unknown) => void;
}

type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown };

/**
 * Group commit over one better-sqlite3 connection: every write requested in the same tick (and
 * while an earlier group is being written, since better-sqlite3 blocks the thread meanwhile) is
 * collected and flushed on `setImmediate` in one transaction, so a burst of N requests costs one
 * commit, not N. Each caller resolves only after that COMMIT returned.
 *
 * The works of a group run one after the other with no savepoints (a savepoint and its release
 * cost about as much as a small work). Works rarely throw; when one does, the whole transaction
 * is rolled back and the group runs again, this time each work under a savepoint of its own, so
 * the failure undoes only that work's writes.
 *
 * @example
 * const group = createGroupCommit(db, (err) => logger.error("store write failed", { err }));
 * // `onCommit` (optional third argument) runs after each committed group, outside its transaction.
 * await group.run(() => insert.run(row));
 * // `committed` runs once the row is stored, never for a group rolled back.
 * await group.run(() => insert.run(row).changes, (n) => (rows += n));
 */
export function createGroupCommit(
  db: Database,
  onError: (err: unknown) => void = () => {},
  onCommit: () => void = () => {},
): GroupCommit {
  let pending: Pending[] = [];
  let scheduled = false;
  let transactions = 0;
  const begin = db.prepare("BEGIN IMMEDIATE");
  const commit = db.prepare("COMMIT");
  const savepoint = db.prepare("SAVEPOINT one");
  const release = db.prepare("RELEASE one");
  const rollbackTo = db.prepare("ROLLBACK TO one");
  const rollback = db.prepare("ROLLBACK");

  function runOne(work: () => unknown): Outcome {
    savepoint.run();
    try {
      const value = work();
      release.run();
      return { ok: true, value };
    } catch (error) {
      // SQLite rolls a whole transaction back by itself after some errors (SQLITE_FULL,
      // SQLITE_IOERR, SQLITE_BUSY): then every write of the group is gone, not just this one.
      if (!db.inTransaction) throw error;
      rollbackTo.run();
      release.run();
      return { ok: false, error };
    }
  }

  /**
   * Runs every work of the open transaction without savepoints: their outcomes, or `undefined`
   * when one threw and the transaction was rolled back and begun again (nothing of it kept).
   */
  function runTogether(group: readonly Pending[]): Outcome[] | undefined {
    const outcomes: Outcome[] = [];
    try {
      for (const { work } of group) outcomes.push({ ok: true, value: work() });
      return outcomes;
    } catch (error) {
      // As in `runOne`: an error that ended the transaction ends the group.
      if (!db.inTransaction) throw error;
      rollback.run();
      begin.run();
      return undefined;
    }
  }

  function flush(): void {
    scheduled = false;
    const group = pending;
    pending = [];
    let outcomes: Outcome[];
    try {
      begin.run();
      outcomes = runTogether(group) ?? group.map(({ work }) => runOne(work));
      commit.run();
      transactions++;
    } catch (error) {
      try {
        if (db.inTransaction) db.exec("ROLLBACK");
      } catch {
        // The connection already gave the transaction up; nothing of the group is stored.
      }
      onError(error);
      for (const { reject } of group) reject(storeUnavailable(error));
      return;
    }
    // Before anything else runs: nothing may see the file committed and this memory not yet.
    group.forEach(({ committed }, i) => {
      const outcome = outcomes[i] as Outcome;
      if (committed === undefined || !outcome.ok) return;
      try {
        committed(outcome.value);
      } catch (error) {
        onError(error);
      }
    });
    onCommit();
    group.forEach(({ resolve, reject }, i) => {
      const outcome = outcomes[i] as Outcome;
      if (outcome.ok) resolve(outcome.value);
      else {
        onError(outcome.error);
        reject(storeUnavailable(outcome.error));
      }
    });
  }

  return {
    run<T>(work: () => T, committed?: (value: T) => void): Promise<T> {
      return new Promise<T>((resolve, reject) => {
        pending.push({
          work,
          committed: committed as ((value: unknown) => void) | undefined,
          resolve: resolve as (value: unknown) => void,
          reject,
        });
        if (!scheduled) {
          scheduled = true;
          setImmediate(flush);
        }
      });
    },
    get transactions() {
      return transactions;
    },
  };
}
