import type { Database } from "better-sqlite3";
import { storeUnavailable } from "./sqlite-errors.js";

/** Writes that arrive together and are committed together. */
export interface GroupCommit {
  /**
   * Runs `work` inside the next group transaction, under a savepoint of its own (its failure
   * undoes only its writes), and resolves with its result once the group is committed; rejects
   * with `Unavailable` when the work or the commit fails (then nothing of it is stored).
   */
  run<T>(work: () => T): Promise<T>;
  /** Transactions committed so far (tests check that writes are grouped). */
  readonly transactions: number;
}

interface Pending {
  readonly work: () => unknown;
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
 * @example
 * const group = createGroupCommit(db, (err) => logger.error("store write failed", { err }));
 * await group.run(() => insert.run(row));
 */
export function createGroupCommit(
  db: Database,
  onError: (err: unknown) => void = () => {},
): GroupCommit {
  let pending: Pending[] = [];
  let scheduled = false;
  let transactions = 0;
  const begin = db.prepare("BEGIN IMMEDIATE");
  const commit = db.prepare("COMMIT");
  const savepoint = db.prepare("SAVEPOINT one");
  const release = db.prepare("RELEASE one");
  const rollbackTo = db.prepare("ROLLBACK TO one");

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

  function flush(): void {
    scheduled = false;
    const group = pending;
    pending = [];
    const outcomes: Outcome[] = [];
    try {
      begin.run();
      for (const { work } of group) outcomes.push(runOne(work));
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
    run<T>(work: () => T): Promise<T> {
      return new Promise<T>((resolve, reject) => {
        pending.push({ work, resolve: resolve as (value: unknown) => void, reject });
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
