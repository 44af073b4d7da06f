import type { D1Database } from "./cloudflare-bindings.js";

/**
 * Herald's tables in D1, created on first use by each isolate (`CREATE ... IF NOT EXISTS`, one
 * batch), so `wrangler dev` and a fresh `wrangler d1 create` database work with no migration step.
 *
 * - `subscriptions` and `disabled`: the Node SQLite store's tables, same SQL
 *   (`adapters/node/sqlite-schema.ts`): API-created subscriptions in creation order, and the
 *   410 Gone state by id.
 * - `disabled_config`: for a config subscription's disabled state, the fingerprint of the
 *   definition it was disabled under (kept by `d1-subscription-store.ts`, compared by the
 *   subscription registry as on every store): a deploy that changes the
 *   definition enables it again, as a changed config file does on Node.
 * - `generation`: one counter, bumped in the same transaction as every write to those two, so an
 *   isolate learns with one read whether its copy of the subscriptions is stale (isolates share
 *   nothing in memory).
 * - `accepted`: one row per accepted event: its acceptance id (carried by its queue messages),
 *   its `source` + `id` key (`store/dedupe-window.ts`), until when the key dedupes, and until when
 *   the row is kept (as long as a queue message of the event can live), and when it was accepted
 *   (`accepted_at`, added to tables created without it: a key dedupes for the window of the
 *   deploy that reads it, see `d1-acceptances.ts`). The queue consumer
 *   delivers only messages whose acceptance is here, which is what makes a request that failed
 *   after its messages were sent deliver nothing.
 * - `dead`: deliveries kept as dead (attempts exhausted, no dead-letter sink took them), for
 *   `GET /subscriptions/{id}/dead` and redrive; `place` (or `seq` where it is null: the rows of
 *   a Herald before it; `place` is added to tables created without it) orders them: a job
 *   redriven and dead again has a new row in its old place (see `d1-dead-jobs.ts`).
 */
const SCHEMA: readonly string[] = [
  `CREATE TABLE IF NOT EXISTS subscriptions (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    body TEXT NOT NULL
  )`,
  `CREATE TABLE IF NOT EXISTS disabled (
    id TEXT PRIMARY KEY,
    at INTEGER NOT NULL,
    reason TEXT NOT NULL
  ) WITHOUT ROWID`,
  `CREATE TABLE IF NOT EXISTS disabled_config (
    id TEXT PRIMARY KEY,
    fingerprint TEXT NOT NULL
  ) WITHOUT ROWID`,
  `CREATE TABLE IF NOT EXISTS generation (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    value INTEGER NOT NULL
  )`,
  "INSERT OR IGNORE INTO generation (id, value) VALUES (1, 0)",
  `CREATE TABLE IF NOT EXISTS accepted (
    id TEXT PRIMARY KEY,
    key TEXT NOT NULL,
    dedupe_until INTEGER NOT NULL,
    keep_until INTEGER NOT NULL,
    accepted_at INTEGER
  ) WITHOUT ROWID`,
  "CREATE INDEX IF NOT EXISTS accepted_key ON accepted (key, dedupe_until)",
  "CREATE INDEX IF NOT EXISTS accepted_keep ON accepted (keep_until)",
  `CREATE TABLE IF NOT EXISTS dead (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    job_id TEXT NOT NULL UNIQUE,
    subscription_id TEXT NOT NULL,
    body TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    failure TEXT NOT NULL,
    place INTEGER
  )`,
  "CREATE INDEX IF NOT EXISTS dead_subscription ON dead (subscription_id, seq)",
];

/**
 * Creates Herald's tables where they are missing (idempotent; one D1 batch).
 *
 * @example
 * await ensureSchema(env.HERALD_DB);
 */
export async function ensureSchema(db: D1Database): Promise<void> {
  const results = await db.batch<{ name: string }>([
    ...SCHEMA.map((sql) => db.prepare(sql)),
    db.prepare("PRAGMA table_info(accepted)"),
    db.prepare("PRAGMA table_info(dead)"),
    db.prepare("PRAGMA index_list(dead)"),
  ]);
  const has = (at: number, name: string) =>
    (results.at(at)?.results ?? []).some((row) => row.name === name);
  if (!has(-3, "accepted_at"))
    await addColumn(db, "ALTER TABLE accepted ADD COLUMN accepted_at INTEGER");
  if (!has(-2, "place")) await addColumn(db, "ALTER TABLE dead ADD COLUMN place INTEGER");
  // Not in SCHEMA: on a table from before `place`, its batch would fail before the column is added.
  if (!has(-1, "dead_place")) {
    await db
      .prepare(
        "CREATE INDEX IF NOT EXISTS dead_place ON dead (subscription_id, COALESCE(place, seq))",
      )
      .run();
  }
}

async function addColumn(db: D1Database, sql: string): Promise<void> {
  try {
    await db.prepare(sql).run();
  } catch (error) {
    // Another isolate added it meanwhile.
    if (!/duplicate column/i.test(error instanceof Error ? error.message : String(error))) {
      throw error;
    }
  }
}

/** The statement that bumps the subscriptions generation (see `SCHEMA`), answering the new one. */
export const BUMP_GENERATION =
  "UPDATE generation SET value = value + 1 WHERE id = 1 RETURNING value";
