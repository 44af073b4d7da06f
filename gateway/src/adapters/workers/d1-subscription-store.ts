import { Conflict } from "../../errors/errors.js";
import type { DisabledState, SubscriptionStore } from "../../store/subscription-store.js";
import type { Subscription } from "../../subscriptions/subscription.js";
import type { D1Database } from "./cloudflare-bindings.js";
import { BUMP_GENERATION } from "./d1-schema.js";

/** A `SubscriptionStore` that also says which generation of the stored set it holds. */
export interface D1SubscriptionStore extends SubscriptionStore {
  /** Grows with every write (any isolate's): a changed value means the set must be reloaded. */
  generation(): Promise<number>;
  /** As `put`, resolving with the generation the write made. */
  putAt(subscription: Subscription): Promise<number>;
  /** As `delete`, with the generation the write made. */
  deleteAt(id: string): Promise<{ readonly removed: boolean; readonly generation: number }>;
  /** As `setDisabled`, resolving with the generation the write made. */
  setDisabledAt(id: string, state: DisabledState | undefined): Promise<number>;
}

/** The generation a write's batch made: the answer of its last statement, the bump. */
function generationOf(results: readonly { results: unknown[] }[]): number {
  const row = results.at(-1)?.results[0] as { value?: number } | undefined;
  return row?.value ?? 0;
}

/**
 * The most characters of JSON the stored subscriptions may hold together: each isolate reads all
 * of them in one query (D1 answers at most 50 MB) and keeps them, parsed and indexed, in its
 * 128 MB. Past it, every request would fail at its first step (the check for subscription
 * changes), the Subscriptions API too, so none could be deleted through it.
 */
export const MAX_STORED_SUBSCRIPTION_CHARS = 8_000_000;

export interface D1SubscriptionStoreOptions {
  /** Default `MAX_STORED_SUBSCRIPTION_CHARS`. */
  readonly maxStoredChars?: number;
}

/**
 * The `SubscriptionStore` port on D1, with the Node SQLite store's SQL
 * (`adapters/node/sqlite-subscription-store.ts`): subscriptions as JSON in creation order (an
 * update keeps its row, so its place), and the disabled state by id. Each write is one D1 batch
 * (a transaction) with the generation bump, so a reader never sees the change without the bump.
 *
 * A disabled state's `definition` (the fingerprint of the config definition it was disabled
 * under, see `definitionFingerprint`) is kept in `disabled_config`; the registry compares it with
 * the deployed definition, as on every store.
 *
 * @example
 * const store = createD1SubscriptionStore(env.HERALD_DB);
 * await store.put(subscription);
 */
export function createD1SubscriptionStore(
  db: D1Database,
  options: D1SubscriptionStoreOptions = {},
): D1SubscriptionStore {
  const maxStoredChars = options.maxStoredChars ?? MAX_STORED_SUBSCRIPTION_CHARS;
  const bump = () => db.prepare(BUMP_GENERATION);

  async function putAt(subscription: Subscription): Promise<number> {
    // Written only while the set, with this one in place of its old version, stays within
    // `maxStoredChars` (one statement: two isolates cannot both take the last room).
    const results = await db.batch([
      db
        .prepare(
          `INSERT INTO subscriptions (id, body)
             SELECT ?1, ?2 WHERE length(?2) + (
               SELECT COALESCE(SUM(length(body)), 0) FROM subscriptions WHERE id <> ?1) <= ?3
             ON CONFLICT (id) DO UPDATE SET body = excluded.body`,
        )
        .bind(subscription.id, JSON.stringify(subscription), maxStoredChars),
      bump(),
    ]);
    if ((results[0]?.meta.changes ?? 0) === 0) {
      throw new Conflict(
        `the stored subscriptions would hold more than ${maxStoredChars} characters of JSON, the most a Worker keeps (each isolate loads all of them): delete some, or make this one smaller`,
      );
    }
    return generationOf(results);
  }

  async function deleteAt(id: string) {
    const results = await db.batch([
      db.prepare("DELETE FROM subscriptions WHERE id = ?").bind(id),
      bump(),
    ]);
    return { removed: (results[0]?.meta.changes ?? 0) > 0, generation: generationOf(results) };
  }

  async function setDisabledAt(id: string, state: DisabledState | undefined): Promise<number> {
    const fingerprint = state?.definition;
    const changes =
      state === undefined
        ? [db.prepare("DELETE FROM disabled WHERE id = ?").bind(id)]
        : [
            db
              .prepare(
                `INSERT INTO disabled (id, at, reason) VALUES (?, ?, ?)
                   ON CONFLICT (id) DO UPDATE SET at = excluded.at, reason = excluded.reason`,
              )
              .bind(id, state.at, state.reason),
          ];
    changes.push(
      fingerprint === undefined
        ? db.prepare("DELETE FROM disabled_config WHERE id = ?").bind(id)
        : db
            .prepare(
              `INSERT INTO disabled_config (id, fingerprint) VALUES (?, ?)
                 ON CONFLICT (id) DO UPDATE SET fingerprint = excluded.fingerprint`,
            )
            .bind(id, fingerprint),
    );
    return generationOf(await db.batch([...changes, bump()]));
  }

  return {
    async list() {
      const { results } = await db
        .prepare("SELECT body FROM subscriptions ORDER BY seq")
        .all<{ body: string }>();
      return results.map((row) => JSON.parse(row.body) as Subscription);
    },
    putAt,
    deleteAt,
    setDisabledAt,
    put: async (subscription) => {
      await putAt(subscription);
    },
    delete: async (id) => (await deleteAt(id)).removed,
    async disabled() {
      const { results } = await db
        .prepare(
          `SELECT d.id, d.at, d.reason, c.fingerprint FROM disabled d
           LEFT JOIN disabled_config c ON c.id = d.id ORDER BY d.id`,
        )
        .all<{ id: string; at: number; reason: string; fingerprint: string | null }>();
      const states = new Map<string, DisabledState>();
      for (const { id, at, reason, fingerprint } of results) {
        states.set(
          id,
          fingerprint === null ? { at, reason } : { at, reason, definition: fingerprint },
        );
      }
      return states;
    },
    setDisabled: async (id, state) => {
      await setDisabledAt(id, state);
    },
    async generation() {
      const row = await db
        .prepare("SELECT value FROM generation WHERE id = 1")
        .first<{ value: number }>();
      return row?.value ?? 0;
    },
  };
}
