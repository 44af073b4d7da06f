import { Unavailable } from "../../errors/errors.js";
import { HeraldError } from "../../errors/herald-error.js";

/** Seconds a caller is asked to wait when D1 failed (as for a delivery queue that refused). */
export const D1_RETRY_AFTER_SECONDS = 1;

/**
 * `store` with each method's failure that is not Herald's own (D1 unreachable, overloaded, a
 * statement it refused) turned into `Unavailable`: a publish, a Subscriptions API call or a read
 * of the dead set whose D1 query fails is answered `503` with `Retry-After`, as Node answers a
 * store that refused a write, not `500 internal_error`, which says "a bug". Errors Herald raised
 * itself (a `400` for an unknown `after`) pass through.
 *
 * @example
 * const accepted = unavailableWhenD1Fails(createD1Acceptances(db));
 */
export function unavailableWhenD1Fails<T extends object>(store: T): T {
  const wrapped: Record<string, unknown> = {};
  for (const [name, member] of Object.entries(store)) {
    wrapped[name] =
      typeof member === "function"
        ? async (...args: unknown[]) => {
            try {
              return await member.apply(store, args);
            } catch (err) {
              if (err instanceof HeraldError) throw err;
              throw new Unavailable(
                `the store (D1) did not answer: ${err instanceof Error ? err.message : String(err)}; retry`,
                D1_RETRY_AFTER_SECONDS,
              );
            }
          }
        : member;
  }
  return wrapped as T;
}
