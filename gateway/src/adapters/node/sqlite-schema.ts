import type { Database } from "better-sqlite3";

/**
 * The schema, one entry per version: `PRAGMA user_version` says how many have run, so opening an
 * older file applies the rest in one transaction and a newer file is refused.
 *
 * - `events`: each accepted event once, encoded by `store/event-codec.ts` (`encodeEventParts`:
 *   `body` the text, `data` the bytes of binary data); `refs` counts its jobs, and the event is
 *   deleted with its last job (an event matched by 3 subscriptions is stored once).
 * - `jobs`: one per (event, subscription). `due_at` is when a job is due (leases are kept in
 *   memory by the file's one owner), 0 while it waits in the memory of the process that
 *   accepted it (see `sqlite-fresh-jobs.ts`), NULL once the job is dead; `dead_at` is when it
 *   died. AUTOINCREMENT so an id is never reused: a stale holder of a completed job must not
 *   complete a newer job that got its id.
 *   `jobs_due (due_at)` serves `lease` (due jobs oldest first, O(log n + k)) and the next due time;
 *   like it, `jobs_subscription_due` holds only rows with a due time above 0 and serves a lease
 *   that skips saturated subscriptions (one range per
 *   subscription that is not skipped, instead of walking the skipped ones' due jobs);
 *   `jobs_dead` (partial, dead jobs only) serves paging and redrive by subscription.
 * - `dedupe`: `source` + `id` keys with their expiry; `dedupe_expiry` lets pruning take the
 *   oldest first in bounded steps.
 * - `subscriptions` (API-created ones, in order of creation) and `disabled` (410 Gone state).
 * - `settings`: what the file's rows were written under, by name; `dedupe_window_ms` is the
 *   dedupe window of the keys' `expires_at`, kept by later runs whatever their own window (see
 *   `dedupeFrame` in `sqlite-queue.ts`).
 */
export const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE events (
    id INTEGER PRIMARY KEY,
    body TEXT NOT NULL,
    refs INTEGER NOT NULL
  );
  CREATE TABLE jobs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id INTEGER NOT NULL,
    subscription_id TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    due_at INTEGER,
    failure TEXT,
    dead_at INTEGER
  );
  CREATE INDEX jobs_due ON jobs (due_at);
  CREATE INDEX jobs_subscription_due ON jobs (subscription_id, due_at);
  CREATE INDEX jobs_dead ON jobs (subscription_id, id) WHERE due_at IS NULL;
  CREATE TABLE dedupe (
    key TEXT PRIMARY KEY,
    expires_at INTEGER NOT NULL
  ) WITHOUT ROWID;
  CREATE INDEX dedupe_expiry ON dedupe (expires_at);
  CREATE TABLE subscriptions (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    body TEXT NOT NULL
  );
  CREATE TABLE disabled (
    id TEXT PRIMARY KEY,
    at INTEGER NOT NULL,
    reason TEXT NOT NULL
  ) WITHOUT ROWID;
  `,
  // 2: the fingerprint of a config subscription's definition when it was disabled.
  "ALTER TABLE disabled ADD COLUMN definition TEXT;",
  // 3: binary data as bytes beside the encoded event instead of base64 inside it (older rows keep
  // theirs in `body`, with `data` NULL).
  "ALTER TABLE events ADD COLUMN data BLOB;",
  // 4: a job accepted by the running process has due time 0 and waits in its memory: it is in
  // neither due-time index (no index writes on accept and complete). Reopening makes such rows
  // due again (`createSqliteQueue`).
  `
  DROP INDEX jobs_due;
  DROP INDEX jobs_subscription_due;
  CREATE INDEX jobs_due ON jobs (due_at) WHERE due_at > 0;
  CREATE INDEX jobs_subscription_due ON jobs (subscription_id, due_at) WHERE due_at > 0;
  `,
  // 5: the dedupe window the keys' expiry times were written under, so a changed window applies
  // to the keys of earlier runs too.
  "CREATE TABLE settings (name TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;",
];

/** The schema version this code writes. */
export const SCHEMA_VERSION = MIGRATIONS.length;

/**
 * Throws for a file written by a newer Herald (a schema version above `SCHEMA_VERSION`). A read
 * only: `createSqliteStore` asks before it sets anything on the file (the journal mode is written
 * into it), so a file it refuses is left exactly as it was.
 *
 * @example
 * refuseNewerSchema(db, "/var/lib/herald/herald.db");
 */
export function refuseNewerSchema(db: Database, path: string): number {
  const version = db.pragma("user_version", { simple: true }) as number;
  if (version > SCHEMA_VERSION) {
    throw new Error(
      `the store ${path} has schema version ${version}, written by a newer Herald; this Herald knows up to ${SCHEMA_VERSION} (the file is left as it was: run the newer Herald, or restore the copy kept from before the upgrade)`,
    );
  }
  return version;
}

/**
 * Brings the database's schema up to `SCHEMA_VERSION`; throws for a file written by a newer Herald.
 *
 * @example
 * migrate(db, "/var/lib/herald/herald.db");
 */
export function migrate(db: Database, path: string): void {
  const version = refuseNewerSchema(db, path);
  if (version === SCHEMA_VERSION) return;
  db.transaction(() => {
    for (const sql of MIGRATIONS.slice(version)) db.exec(sql);
    db.pragma(`user_version = ${SCHEMA_VERSION}`);
  }).immediate();
}
