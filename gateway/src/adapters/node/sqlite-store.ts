import { statSync } from "node:fs";
import { dirname, resolve } from "node:path";
import Database from "better-sqlite3";
import type { DeliveryQueue } from "../../deliver/delivery-queue.js";
import { Unavailable } from "../../errors/errors.js";
import { type Clock, systemClock } from "../../ports/clock.js";
import { type Logger, silentLogger } from "../../ports/logger.js";
import { checkDedupeWindow, DEFAULT_DEDUPE_WINDOW_MS } from "../../store/dedupe-window.js";
import type { SubscriptionStore } from "../../store/subscription-store.js";
import { freeBytes } from "./free-bytes.js";
import { makeDirectories } from "./make-directories.js";
import { createSqliteBackup, type SqliteBackup } from "./sqlite-backup.js";
import { createGroupCommit } from "./sqlite-group-commit.js";
import { nativeModuleProblem, sqliteOpenFailure } from "./sqlite-open-failure.js";
import { createSqliteQueue } from "./sqlite-queue.js";
import { migrate, refuseNewerSchema, SCHEMA_VERSION } from "./sqlite-schema.js";
import { createSqliteSubscriptionStore } from "./sqlite-subscription-store.js";

export interface SqliteStoreOptions {
  /** The database file; its directory is created when missing. */
  readonly path: string;
  readonly clock?: Clock;
  /** How long a `source` + `id` pair makes a later event a duplicate (default 24 h). */
  readonly dedupeWindowMs?: number;
  /**
   * Back-pressure: most jobs accepted and not yet handed out before `accept` waits for the
   * dispatcher, then answers 503 (default 10 000; the gateway passes `limits.maxQueuedDeliveries`).
   * Jobs waiting for a retry do not count: that backlog lives on disk.
   */
  readonly maxFresh?: number;
  /** How long `accept` waits for room before answering 503 (default 5 s). */
  readonly maxWaitMs?: number;
  /**
   * How long every settled attempt of a subscription must have failed before its publishers are
   * no longer held back by its backlog (default 1 s; tests change it).
   */
  readonly failingAfterMs?: number;
  /**
   * How long an attempt may be in flight with none of its subscription settling before its
   * publishers are no longer held back (a sink that answers nothing; default 2 s; tests change it).
   */
  readonly stalledAfterMs?: number;
  /**
   * Most accepted jobs that wait in memory, outside the file's due-time indexes, before further
   * ones are written as indexed rows (default 16,384; tests lower it). See `sqlite-fresh-jobs.ts`.
   */
  readonly memoryJobs?: number;
  readonly logger?: Logger;
  /**
   * Take the file for this process alone (SQLite's exclusive locking mode, held until `close`).
   * Leases live in the process that holds the file (see `createSqliteQueue`), so a second process
   * sharing it would deliver jobs twice: it fails to open with a clear error instead. After a
   * crash (kill -9) every job is due at once on the next start. Default `true` for
   * `openSqliteStore`; tests that open a second connection on purpose turn it off.
   */
  readonly exclusive?: boolean;
}

/** The embedded store: the delivery queue and the subscription store over one SQLite file. */
export interface SqliteStore {
  readonly queue: DeliveryQueue;
  readonly subscriptions: SubscriptionStore;
  /** Consistent copies of the file while it is in use (`GET /store/backup`). */
  readonly backup: SqliteBackup;
  /** Transactions committed so far by the group commit (tests and diagnostics). */
  readonly transactions: () => number;
  /**
   * Whether the store can take events now (`GET /readyz`): `false` for 5 s after a write the
   * disk refused (full, read-only, an I/O error) unless a later one got through, and once the
   * file is no longer at its path (its folder deleted or replaced: what is written goes into a
   * file nobody will open again, so `accept` refuses with `Unavailable` then too).
   */
  available(): boolean;
  /** Finishes pending writes, ends waiting leases and closes the file. */
  close(): Promise<void>;
}

/**
 * Opens (or creates) the SQLite store at `path`: WAL journal, schema migrated by
 * `PRAGMA user_version`, writes grouped into shared transactions. Throws an `Error` naming the
 * path when it cannot be used (a file where a directory should be, a read-only location, a file
 * that is not a database, a schema from a newer Herald).
 *
 * @example
 * const store = openSqliteStore({ path: ".herald/herald.db", logger });
 * await store.queue.accept([{ event, subscriptionIds: ["thumbnails"] }]);
 * await store.close();
 */
export function openSqliteStore(options: SqliteStoreOptions): SqliteStore {
  const path = resolve(options.path);
  let db: Database.Database | undefined;
  try {
    makeDirectories(dirname(path));
    // A file another process owns answers busy: give up after a moment, not better-sqlite3's 5 s.
    db = new Database(path, { timeout: 250 });
    return createSqliteStore(db, { exclusive: true, ...options, path });
  } catch (err) {
    db?.close();
    const raw = err instanceof Error ? err.message : String(err);
    const why = /database is locked|SQLITE_BUSY/i.test(raw)
      ? "another process holds it (one herald process per store file)"
      : (nativeModuleProblem(raw) ??
        (explainable(err) ? sqliteOpenFailure(path) : undefined) ??
        raw);
    throw new Error(`cannot open the SQLite store ${path}: ${why}`, { cause: err });
  }
}

/**
 * Whether a failed open may be the file system's doing, which SQLite words vaguely ("unable to
 * open database file", "disk I/O error"): then `sqliteOpenFailure` looks for the reason.
 */
function explainable(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return (
    typeof code === "string" &&
    (code === "ENOTDIR" || /^SQLITE_(?:CANTOPEN|IOERR|READONLY)/.test(code))
  );
}

/** How long after a write the disk refused the store says it cannot take events. */
const UNAVAILABLE_MS = 5_000;
/** How old a look at whether the file is still at its path an accept may rely on. */
const FILE_CHECK_MS = 1_000;

/** Free room below which the WAL is checkpointed every `WAL_PAGES` pages, not SQLite's 1,000. */
const SMALL_DISK_BYTES = 64 * 1024 * 1024;
const WAL_PAGES = 64;
/** The WAL's file is cut back to this when it starts over after a checkpoint (see below). */
export const WAL_KEPT_BYTES = 8 * 1024 * 1024;

/** A write refused by the disk or the file (not by the data written): full, read-only, I/O. */
function isDiskFailure(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return (
    typeof code === "string" && /^SQLITE_(FULL|READONLY|IOERR|CANTOPEN|CORRUPT|NOTADB)/.test(code)
  );
}

/** The file's device and inode, `undefined` when there is none at `path`. */
function fileIdentity(path: string): { dev: number; ino: number } | undefined {
  const stats = statSync(path, { throwIfNoEntry: false });
  return stats === undefined ? undefined : { dev: stats.dev, ino: stats.ino };
}

const sameFile = (a: { dev: number; ino: number }, b: { dev: number; ino: number } | undefined) =>
  b !== undefined && a.dev === b.dev && a.ino === b.ino;

/**
 * The store over an already open connection (`openSqliteStore` opens the file; tests use this to
 * reach the connection, e.g. to make it fail). Configures the connection and migrates the schema.
 *
 * @example
 * const store = createSqliteStore(new Database(path), { path });
 */
export function createSqliteStore(db: Database.Database, options: SqliteStoreOptions): SqliteStore {
  const { clock = systemClock, logger = silentLogger, path } = options;
  const dedupeWindowMs = checkDedupeWindow(
    "openSqliteStore",
    options.dedupeWindowMs ?? DEFAULT_DEDUPE_WINDOW_MS,
  );
  // SQLite opens a file it may not write read-only, silently: say so now, not at the first 503.
  if (db.readonly) throw new Error("the file is read-only");
  // Before anything touches the file: the first write takes the lock, and it is never released.
  if (options.exclusive === true) db.pragma("locking_mode = EXCLUSIVE");
  // A file of a newer Herald is refused before anything is set on it (WAL is written into it).
  refuseNewerSchema(db, path);
  const mode = db.pragma("journal_mode = WAL", { simple: true });
  if (mode !== "wal") throw new Error(`the journal cannot be switched to WAL (it is ${mode})`);
  // WAL with synchronous=NORMAL: a COMMIT appends the transaction to the WAL file with write(2)
  // and returns without fsync. Once write(2) returned the bytes belong to the kernel's page cache,
  // so they survive the process dying at any instant (kill -9, a crash, an OOM kill): every
  // accept that resolved is in the file. What NORMAL gives up is power loss or a kernel crash:
  // the transactions since the last WAL sync (at each checkpoint) may be lost, never corrupted.
  // FULL would fsync on every commit; group commit would amortise it, but a sync still costs
  // milliseconds of blocked event loop per group on ordinary disks.
  db.pragma("synchronous = NORMAL");
  // Statement journals (each savepoint of the group commit, each multi-row DELETE inside a
  // transaction) go to memory, not to a temporary file created and truncated per statement: that
  // file cost more system time than the writes themselves. They only ever hold one group's undo.
  db.pragma("temp_store = MEMORY");
  // A checkpoint empties the WAL but keeps its file at its largest: one big transaction (an
  // accept of 12 MB of events; a redrive of 100,000 dead deliveries wrote 12 MB before it went in
  // chunks) left a WAL that size for the rest of the run. Past `WAL_KEPT_BYTES` it is cut back when it starts over, above the 4 MB it holds
  // between checkpoints, so the steady state never truncates.
  db.pragma(`journal_size_limit = ${WAL_KEPT_BYTES}`);
  // Another process holding the write lock: wait briefly (this blocks the thread), then 503.
  db.pragma("busy_timeout = 100");
  migrate(db, path);
  if (options.exclusive === true) {
    // A write takes the exclusive lock now (or fails, busy, when another process has the file),
    // not at the first accept.
    db.pragma(`user_version = ${SCHEMA_VERSION}`);
  }
  // The failure of the disk, not of one write's data: until a later write gets through (or for
  // `UNAVAILABLE_MS`, so a probe lets publishers try again), the store says it cannot take events.
  let failed: { readonly at: number; readonly transactions: number } | undefined;
  // A full disk may be mostly WAL: SQLite copies the WAL back into the file (a checkpoint) only
  // once it holds 1,000 pages (about 4 MB), so on a disk with less room than that the WAL fills
  // it and is never emptied. On a disk with little room, and after a write failed for lack of
  // room, the WAL is checkpointed every 64 pages. The WAL a killed run left, and the WAL that
  // filled the disk, are emptied (a TRUNCATE checkpoint) now and after every write that gets
  // through, until that succeeds: before retries and publishers fill the room that came back.
  if (freeBytes(dirname(path)) < SMALL_DISK_BYTES) db.pragma(`wal_autocheckpoint = ${WAL_PAGES}`);
  let walToEmpty = true;
  const emptyWal = () => {
    try {
      const [result] = db.pragma("wal_checkpoint(TRUNCATE)") as { busy: number }[];
      if (result?.busy === 0) walToEmpty = false;
    } catch {
      // Still no room for the pages the WAL holds: the next write that gets through tries again.
    }
  };
  emptyWal();
  const group = createGroupCommit(
    db,
    (err) => {
      logger.error("the SQLite store could not write", { path, error: String(err) });
      if (isDiskFailure(err)) failed = { at: clock.now(), transactions: group.transactions };
      if ((err as { code?: unknown } | null)?.code === "SQLITE_FULL") {
        db.pragma(`wal_autocheckpoint = ${WAL_PAGES}`);
        walToEmpty = true;
        emptyWal();
      }
    },
    () => {
      if (walToEmpty) emptyWal();
    },
  );
  const file = fileIdentity(path);
  let gone = false;
  let checkedAt = Number.NEGATIVE_INFINITY;
  /**
   * Whether the file is still at its path, looked at again when the last look is older than
   * `maxAgeMs` (0: now). Once gone it stays gone: what was written since is in no file at all.
   */
  function fileInPlace(maxAgeMs: number): boolean {
    if (gone || file === undefined) return !gone;
    const now = clock.now();
    if (now - checkedAt < maxAgeMs) return true;
    checkedAt = now;
    if (sameFile(file, fileIdentity(path))) return true;
    gone = true;
    logger.error(
      "the SQLite file is no longer at its path (deleted or replaced): events are refused (503); the deliveries queued in it go on, and are lost at a restart: restart herald once they are done",
      { path },
    );
    return false;
  }
  const queue = createSqliteQueue(db, group, {
    clock,
    dedupeWindowMs,
    ...(options.maxFresh === undefined ? {} : { maxFresh: options.maxFresh }),
    ...(options.maxWaitMs === undefined ? {} : { maxWaitMs: options.maxWaitMs }),
    ...(options.failingAfterMs === undefined ? {} : { failingAfterMs: options.failingAfterMs }),
    ...(options.stalledAfterMs === undefined ? {} : { stalledAfterMs: options.stalledAfterMs }),
    ...(options.memoryJobs === undefined ? {} : { memoryJobs: options.memoryJobs }),
  });
  const subscriptions = createSqliteSubscriptionStore(db, group);
  const backup = createSqliteBackup(db, { path, logger });
  let closing: Promise<void> | undefined;
  return {
    queue: {
      ...queue,
      // Events written into a file nobody will open again would be lost at the next start: a
      // 202 says stored. Looked at once a second at most: a stat per request costs.
      accept: (events, acceptOptions) =>
        fileInPlace(FILE_CHECK_MS)
          ? queue.accept(events, acceptOptions)
          : Promise.reject(
              new Unavailable(
                "the event store's file was deleted or replaced under the running gateway",
                UNAVAILABLE_MS / 1000,
              ),
            ),
    },
    subscriptions,
    backup,
    transactions: () => group.transactions,
    available() {
      if (
        failed !== undefined &&
        (group.transactions > failed.transactions || clock.now() - failed.at >= UNAVAILABLE_MS)
      ) {
        failed = undefined;
      }
      return failed === undefined && fileInPlace(0);
    },
    close() {
      closing ??= (async () => {
        queue.close();
        // A copy being taken stops at its next step: it reads through this connection.
        await backup.close();
        // Whatever was requested before close is written first.
        await group.run(() => undefined).catch(() => undefined);
        // Whatever the file still held goes with the process: said, never silently dropped.
        if (!fileInPlace(0)) {
          logger.error(
            "the SQLite file was deleted or replaced under the running gateway: what it still held (queued and dead deliveries, API subscriptions) is lost",
            { path, queued: await queue.size().catch(() => "unknown") },
          );
        }
        db.close();
      })();
      return closing;
    },
  };
}
