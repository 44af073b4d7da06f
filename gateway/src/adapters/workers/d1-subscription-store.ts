import type { DisabledState, SubscriptionStore } from "../../store/subscription-store.js";
import type { Subscription } from "../../subscriptions/subscription.js";
import type { D1Database } from "./cloudflare-bindings.js";
import { BUMP_GENERATION } from "./d1-schema.js";

/** A `SubscriptionStore` that also says which generation of the stored set it holds. */
export interface D1SubscriptionStore extends SubscriptionStore {
  /** Grows with every write (any isolate's): a changed value means the set must be reloaded. */
  generation(): Promise<number>;
}

/**
 * The `SubscriptionStore` port on D1, with the Node SQLite store's SQL
 * (`adapters/node/sqlite-subscription-store.ts`): subscriptions as JSON in creation order (an
 * update keeps its row, so its place), and the disabled state by id. Each write is one D1 batch
 * (a transaction) with the generation bump, so a reader never sees the change without the bump.
 *
 * @example
 * const store = createD1SubscriptionStore(env.HERALD_DB);
 * await store.put(subscription);
 */
export function createD1SubscriptionStore(db: D1Database): D1SubscriptionStore {
  const bump = () => db.prepare(BUMP_GENERATION);
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
        .prepare("SELECT id, at, reason FROM disabled ORDER BY id")
        .all<{ id: string; at: number; reason: string }>();
      return new Map<string, DisabledState>(
        results.map((row) => [row.id, { at: row.at, reason: row.reason }]),
      );
    },
    async setDisabled(id, state) {
      const change =
        state === undefined
          ? db.prepare("DELETE FROM disabled WHERE id = ?").bind(id)
          : db
              .prepare(
                `INSERT INTO disabled (id, at, reason) VALUES (?, ?, ?)
                 ON CONFLICT (id) DO UPDATE SET at = excluded.at, reason = excluded.reason`,
              )
              .bind(id, state.at, state.reason);
      await db.batch([change, bump()]);
    },
    async generation() {
      const row = await db
        .prepare("SELECT value FROM generation WHERE id = 1")
        .first<{ value: number }>();
      return row?.value ?? 0;
    },
  };
}
