import type { Database } from "better-sqlite3";
import type { DisabledState, SubscriptionStore } from "../../store/subscription-store.js";
import type { Subscription } from "../../subscriptions/subscription.js";
import type { GroupCommit } from "./sqlite-group-commit.js";

/**
 * The `SubscriptionStore` port on SQLite: subscriptions as JSON in creation order (an update keeps
 * its row, so its place), and the disabled state by id. Writes go through the group commit.
 *
 * @example
 * const subscriptions = createSqliteSubscriptionStore(db, group);
 */
export function createSqliteSubscriptionStore(db: Database, group: GroupCommit): SubscriptionStore {
  const list = db.prepare<[], { id: string; body: string }>(
    "SELECT id, body FROM subscriptions ORDER BY seq",
  );
  const put = db.prepare(
    `INSERT INTO subscriptions (id, body) VALUES (?, ?)
     ON CONFLICT (id) DO UPDATE SET body = excluded.body`,
  );
  const remove = db.prepare("DELETE FROM subscriptions WHERE id = ?");
  const disabled = db.prepare<
    [],
    { id: string; at: number; reason: string; definition: string | null }
  >("SELECT id, at, reason, definition FROM disabled ORDER BY id");
  const disable = db.prepare(
    `INSERT INTO disabled (id, at, reason, definition) VALUES (?, ?, ?, ?)
     ON CONFLICT (id) DO UPDATE SET
       at = excluded.at, reason = excluded.reason, definition = excluded.definition`,
  );
  const enable = db.prepare("DELETE FROM disabled WHERE id = ?");
  return {
    async list() {
      return list.all().map(({ id, body }) => {
        // Only a damaged file fails here (every row was written by JSON.stringify): name the row.
        let value: unknown;
        try {
          value = JSON.parse(body);
        } catch (error) {
          throw new Error(
            `the stored subscription "${id}" is damaged (its definition is not JSON: ${(error as Error).message})`,
          );
        }
        const shape = value as Partial<Record<keyof Subscription, unknown>> | null;
        if (
          typeof shape !== "object" ||
          shape === null ||
          shape.id !== id ||
          typeof shape.sink !== "string"
        ) {
          throw new Error(
            `the stored subscription "${id}" is damaged (its definition is not a subscription with that id and a sink)`,
          );
        }
        return value as Subscription;
      });
    },
    async put(subscription) {
      const body = JSON.stringify(subscription);
      await group.run(() => put.run(subscription.id, body));
    },
    async delete(id) {
      return group.run(() => remove.run(id).changes > 0);
    },
    async disabled() {
      return new Map<string, DisabledState>(
        disabled
          .all()
          .map(({ id, at, reason, definition }) => [
            id,
            definition === null ? { at, reason } : { at, reason, definition },
          ]),
      );
    },
    async setDisabled(id, state) {
      await group.run(() =>
        state === undefined
          ? enable.run(id)
          : disable.run(id, state.at, state.reason, state.definition ?? null),
      );
    },
  };
}
