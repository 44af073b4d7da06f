import type { D1Database } from "./cloudflare-bindings.js";

/** One event to record as accepted. */
export interface AcceptanceClaim {
  /** The acceptance id its queue messages carry. */
  readonly id: string;
  /** Its dedupe key (`dedupeKey(source, id)`). */
  readonly key: string;
}

/** The `accepted` table (see `d1-schema.ts`): dedupe at ingest, and proof of acceptance. */
export interface D1Acceptances {
  /** Which of these keys were accepted within the dedupe window `windowMs` (the current one). */
  liveKeys(keys: readonly string[], now: number, windowMs: number): Promise<Set<string>>;
  /**
   * Records each claim whose key is not live, in one transaction, and resolves with the ids that
   * were recorded (a claim whose key another request recorded meanwhile is a duplicate). Expired
   * rows are pruned in the same transaction, a bounded number per call. A key is live while
   * `accepted_at + windowMs > now`: the window of this deploy, also for keys accepted under
   * another one (rows from before `accepted_at` keep their `dedupe_until`).
   */
  claim(
    claims: readonly AcceptanceClaim[],
    now: number,
    windowMs: number,
    keepUntil: number,
  ): Promise<Set<string>>;
  /** Which of these acceptance ids are recorded. */
  recorded(ids: readonly string[]): Promise<Set<string>>;
}

/**
 * Until when a row's key dedupes, as SQL over `?3` (the window of this deploy): from its accept
 * time, so a window changed by a deploy applies to the keys already stored; a row written before
 * `accepted_at` existed keeps its `dedupe_until`.
 */
const liveUntil = (row: "" | "a.") => `COALESCE(${row}accepted_at + ?3, ${row}dedupe_until)`;

/**
 * Expired rows removed per claim, at least: twice what the claim adds when that is more (a batch
 * of more events than this, `limits.maxBatchEvents`), so the table cannot grow unbounded.
 */
const PRUNE_PER_CLAIM = 500;

/**
 * Most bytes of one JSON list bound as a parameter: D1 takes a string of at most 2,000,000 bytes
 * (its "maximum string, BLOB or table row size"). Keys are an event's `source` and `id`, up to
 * the size of a queue message each, so a batch's list can pass that.
 */
const LIST_PARAM_BYTES = 1_000_000;

const encoder = new TextEncoder();

/**
 * `items` as JSON arrays of at most `LIST_PARAM_BYTES` each (one item longer than that alone);
 * none for no items.
 *
 * @example
 * jsonLists(["a", "b"]); // ['["a","b"]']
 */
export function jsonLists(items: readonly unknown[], maxBytes = LIST_PARAM_BYTES): string[] {
  const lists: string[] = [];
  let current: string[] = [];
  let bytes = 2;
  for (const item of items) {
    const json = JSON.stringify(item);
    const size = encoder.encode(json).byteLength + 1;
    if (current.length > 0 && bytes + size > maxBytes) {
      lists.push(`[${current.join(",")}]`);
      current = [];
      bytes = 2;
    }
    current.push(json);
    bytes += size;
  }
  if (current.length > 0) lists.push(`[${current.join(",")}]`);
  return lists;
}

/**
 * The `column` of `sql` run once per JSON list of `items` (`jsonLists`, bound as `?1`, then
 * `rest`), gathered: a lookup of any size within D1's parameter limits.
 *
 * @example
 * await selectEachList(db, "SELECT id FROM accepted WHERE id IN (SELECT value FROM json_each(?1))", "id", ids);
 */
async function selectEachList(
  db: D1Database,
  sql: string,
  column: string,
  items: readonly string[],
  ...rest: unknown[]
): Promise<Set<string>> {
  const found = new Set<string>();
  for (const list of jsonLists(items)) {
    const { results } = await db
      .prepare(sql)
      .bind(list, ...rest)
      .all<Record<string, string>>();
    for (const row of results) found.add(row[column] as string);
  }
  return found;
}

/**
 * The `accepted` table on D1. Lists travel as JSON parameters (`json_each`), so a batch of any
 * number of events is one statement: D1 allows 100 bound parameters per statement, and fewer
 * queries per invocation on its free plan. A list past `LIST_PARAM_BYTES` is split across
 * statements (in the same transaction for `claim`).
 *
 * @example
 * const accepted = createD1Acceptances(env.HERALD_DB);
 * const won = await accepted.claim([{ id: crypto.randomUUID(), key }], now, window, now + keep);
 */
export function createD1Acceptances(db: D1Database): D1Acceptances {
  return {
    liveKeys: (keys, now, windowMs) =>
      selectEachList(
        db,
        `SELECT DISTINCT key FROM accepted
         WHERE key IN (SELECT value FROM json_each(?1)) AND ${liveUntil("")} > ?2`,
        "key",
        keys,
        now,
        windowMs,
      ),
    async claim(claims, now, windowMs, keepUntil) {
      const lists = jsonLists(claims);
      if (lists.length === 0) return new Set();
      const results = await db.batch<{ id: string }>([
        db
          .prepare(
            `DELETE FROM accepted WHERE id IN (
               SELECT id FROM accepted WHERE keep_until <= ?1 ORDER BY keep_until LIMIT ?2)`,
          )
          .bind(now, Math.max(PRUNE_PER_CLAIM, 2 * claims.length)),
        ...lists.map((list) =>
          db
            .prepare(
              `INSERT OR IGNORE INTO accepted (id, key, dedupe_until, keep_until, accepted_at)
               SELECT json_extract(c.value, '$.id'), json_extract(c.value, '$.key'), ?4 + ?3, ?2, ?4
               FROM json_each(?1) AS c
               WHERE NOT EXISTS (
                 SELECT 1 FROM accepted AS a
                 WHERE a.key = json_extract(c.value, '$.key') AND ${liveUntil("a.")} > ?4)`,
            )
            .bind(list, keepUntil, windowMs, now),
        ),
        ...lists.map((list) =>
          db
            .prepare(
              `SELECT id FROM accepted
               WHERE id IN (SELECT json_extract(value, '$.id') FROM json_each(?1))`,
            )
            .bind(list),
        ),
      ]);
      // The reads come last, one per list.
      const reads = results.slice(-lists.length);
      return new Set(reads.flatMap((read) => read.results.map((row) => row.id)));
    },
    recorded: (ids) =>
      selectEachList(
        db,
        "SELECT id FROM accepted WHERE id IN (SELECT value FROM json_each(?1))",
        "id",
        ids,
      ),
  };
}
