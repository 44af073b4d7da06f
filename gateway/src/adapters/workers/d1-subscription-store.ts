import type { DisabledState, SubscriptionStore } from "../../store/subscription-store.js";
import { definitionFingerprint } from "../../subscriptions/definition-fingerprint.js";
import type { Subscription } from "../../subscriptions/subscription.js";
import type { D1Database } from "./cloudflare-bindings.js";
import { BUMP_GENERATION } from "./d1-schema.js";

/** A `SubscriptionStore` that also says which generation of the stored set it holds. */
export interface D1SubscriptionStore extends SubscriptionStore {
  /** Grows with every write (any isolate's): a changed value means the set must be reloaded. */
  generation(): Promise<number>;
}

/**
 * The fingerprint of each config subscription's definition (SHA-256 of its normalised JSON, the
 * form Node compares on reload), by id: what `createD1SubscriptionStore` records with a disabled
 * state. A hash, so no secret of the definition is written to D1.
 *
 * @example
 * const store = createD1SubscriptionStore(db, await configFingerprints(config.subscriptions));
 */
export async function configFingerprints(
  subscriptions: readonly Subscription[],
): Promise<ReadonlyMap<string, string>> {
  const entries = await Promise.all(
    subscriptions.map(
      async (s): Promise<[string, string]> => [s.id, await definitionFingerprint(s)],
    ),
  );
  return new Map(entries);
}

/**
 * The `SubscriptionStore` port on D1, with the Node SQLite store's SQL
 * (`adapters/node/sqlite-subscription-store.ts`): subscriptions as JSON in creation order (an
 * update keeps its row, so its place), and the disabled state by id. Each write is one D1 batch
 * (a transaction) with the generation bump, so a reader never sees the change without the bump.
 *
 * `configured` (`configFingerprints` of the deployed config) makes a changed definition in the
 * config enable a subscription again, as a reload does on Node: disabling a config subscription
 * also records the fingerprint of its definition, and `disabled()` leaves out a state recorded
 * under another definition than the deployed one (changed, or no longer in the config) and
 * clears it. A state recorded without a fingerprint (by an older Herald) for a config
 * subscription is taken as recorded under the deployed definition, so the next change enables
 * it. Config subscriptions are not stored, so a deploy is the only way their definition changes.
 *
 * @example
 * const store = createD1SubscriptionStore(env.HERALD_DB);
 * await store.put(subscription);
 */
export function createD1SubscriptionStore(
  db: D1Database,
  configured: ReadonlyMap<string, string> = new Map(),
): D1SubscriptionStore {
  const bump = () => db.prepare(BUMP_GENERATION);

  /** Clears states recorded under another definition; only if still so (an isolate may race). */
  async function clearStale(stale: readonly { id: string; fingerprint: string }[]) {
    if (stale.length === 0) return;
    await db.batch(
      stale.flatMap(({ id, fingerprint }) => [
        db
          .prepare(
            `DELETE FROM disabled WHERE id = ?1
             AND EXISTS (SELECT 1 FROM disabled_config WHERE id = ?1 AND fingerprint = ?2)`,
          )
          .bind(id, fingerprint),
        db
          .prepare("DELETE FROM disabled_config WHERE id = ?1 AND fingerprint = ?2")
          .bind(id, fingerprint),
      ]),
    );
  }

  /** Records the deployed definition's fingerprint for states that have none (older Herald). */
  async function adopt(ids: readonly string[]) {
    if (ids.length === 0) return;
    await db.batch(
      ids.map((id) =>
        db
          .prepare(
            `INSERT OR IGNORE INTO disabled_config (id, fingerprint)
             SELECT ?1, ?2 WHERE EXISTS (SELECT 1 FROM disabled WHERE id = ?1)`,
          )
          .bind(id, configured.get(id)),
      ),
    );
  }

  return {
    async list() {
      const { results } = await db
        .prepare("SELECT body FROM subscriptions ORDER BY seq")
        .all<{ body: string }>();
      return results.map((row) => JSON.parse(row.body) as Subscription);
    },
    async put(subscription) {
      await db.batch([
        db
          .prepare(
            `INSERT INTO subscriptions (id, body) VALUES (?, ?)
             ON CONFLICT (id) DO UPDATE SET body = excluded.body`,
          )
          .bind(subscription.id, JSON.stringify(subscription)),
        bump(),
      ]);
    },
    async delete(id) {
      const [removed] = await db.batch([
        db.prepare("DELETE FROM subscriptions WHERE id = ?").bind(id),
        bump(),
      ]);
      return (removed?.meta.changes ?? 0) > 0;
    },
    async disabled() {
      const { results } = await db
        .prepare(
          `SELECT d.id, d.at, d.reason, c.fingerprint FROM disabled d
           LEFT JOIN disabled_config c ON c.id = d.id ORDER BY d.id`,
        )
        .all<{ id: string; at: number; reason: string; fingerprint: string | null }>();
      const states = new Map<string, DisabledState>();
      const stale: { id: string; fingerprint: string }[] = [];
      const unknown: string[] = [];
      for (const row of results) {
        if (row.fingerprint !== null && configured.get(row.id) !== row.fingerprint) {
          stale.push({ id: row.id, fingerprint: row.fingerprint });
          continue;
        }
        if (row.fingerprint === null && configured.has(row.id)) unknown.push(row.id);
        // The fingerprint it holds (or adopts), so the registry sees a state it needs not adopt.
        const definition = row.fingerprint ?? configured.get(row.id);
        states.set(
          row.id,
          definition === undefined
            ? { at: row.at, reason: row.reason }
            : { at: row.at, reason: row.reason, definition },
        );
      }
      // Best effort: what is left is left out again at the next read, and cleared then.
      await Promise.all([clearStale(stale), adopt(unknown)]).catch(() => {});
      return states;
    },
    async setDisabled(id, state) {
      const fingerprint = state === undefined ? undefined : configured.get(id);
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
      await db.batch([...changes, bump()]);
    },
    async generation() {
      const row = await db
        .prepare("SELECT value FROM generation WHERE id = 1")
        .first<{ value: number }>();
      return row?.value ?? 0;
    },
  };
}
