import type { Logger } from "../../ports/logger.js";
import type { SubscriptionStore } from "../../store/subscription-store.js";
import type { Subscription } from "../../subscriptions/subscription.js";
import {
  openSubscriptionRegistry,
  type SubscriptionRegistry,
} from "../../subscriptions/subscription-registry.js";
import type { D1SubscriptionStore } from "./d1-subscription-store.js";

/** A `SubscriptionRegistry` that an isolate brings up to date with the shared store. */
export interface RefreshingRegistry extends SubscriptionRegistry {
  /**
   * Reloads the API subscriptions and the disabled state when another isolate (or this one)
   * changed them since the last load: one D1 read when nothing changed.
   */
  refresh(): Promise<void>;
}

export interface RefreshingRegistryOptions {
  readonly configured: readonly Subscription[];
  readonly store: D1SubscriptionStore;
  readonly logger: Logger;
  /**
   * Checks a subscription before the API creates or updates it; throws (a coded error) to refuse
   * what this runtime cannot honour.
   */
  readonly check?: (subscription: Subscription) => void;
  /** Clock in ms (tests); default `Date.now`. */
  readonly now?: () => number;
}

/**
 * A refresh still pending after this long is given up on and the next call reads again: a D1
 * read answers in milliseconds, and one started by a request the runtime cancelled (its client
 * went away) never settles. Without this, every later request of the isolate waited on it.
 */
export const REFRESH_ABANDONED_AFTER_MS = 10_000;

/** A registry loaded from the store, and the generation of the store it holds. */
interface Loaded {
  generation: number;
  registry: SubscriptionRegistry;
}

/**
 * `store` for the registry of `loaded`: a write that moved the generation by one, from the one
 * `loaded` holds, is the only change since, and the registry applies it itself, so `loaded` holds
 * the new generation and is not loaded again for it. Without this, the isolate that made a change
 * read and compiled every subscription again on its next request (2,000 rows read at 2,000
 * subscriptions, after each one created through it).
 */
function writingThrough(store: D1SubscriptionStore, loaded: Loaded): SubscriptionStore {
  const wrote = (generation: number) => {
    if (generation === loaded.generation + 1) loaded.generation = generation;
  };
  return {
    list: () => store.list(),
    disabled: () => store.disabled(),
    async put(subscription) {
      wrote(await store.putAt(subscription));
    },
    async delete(id) {
      const { removed, generation } = await store.deleteAt(id);
      wrote(generation);
      return removed;
    },
    async setDisabled(id, state) {
      wrote(await store.setDisabledAt(id, state));
    },
  };
}

/**
 * The gateway's subscription set on Workers. Isolates share nothing in memory, so every request
 * and every queue batch first calls `refresh()`: it reads the store's generation (bumped with
 * every write, `d1-subscription-store.ts`) and, when it moved, loads the set again and swaps it in.
 * A change made through any isolate thus takes effect for the next request everywhere, as on
 * Node; the isolate that made it applied it already, and loads nothing for it (`writingThrough`).
 * Everything else is the core registry (`openSubscriptionRegistry`).
 *
 * @example
 * const registry = await openRefreshingRegistry({ configured, store, logger });
 * await registry.refresh();
 * registry.matcher().match(event);
 */
export async function openRefreshingRegistry(
  options: RefreshingRegistryOptions,
): Promise<RefreshingRegistry> {
  const { configured, store, logger, check = () => {}, now = Date.now } = options;
  const load = async () => {
    const loaded = { generation: await store.generation() } as Loaded;
    loaded.registry = await openSubscriptionRegistry({
      configured,
      store: writingThrough(store, loaded),
      logger,
    });
    return loaded;
  };
  let current = await load();
  let inflight: { readonly done: Promise<void>; readonly since: number } | undefined;

  async function refresh(): Promise<void> {
    if ((await store.generation()) === current.generation) return;
    current = await load();
  }

  return {
    refresh() {
      // Concurrent requests share one read, unless it has been pending too long to be alive.
      if (inflight !== undefined && now() - inflight.since < REFRESH_ABANDONED_AFTER_MS) {
        return inflight.done;
      }
      const entry = {
        since: now(),
        done: refresh().finally(() => {
          if (inflight === entry) inflight = undefined;
        }),
      };
      inflight = entry;
      return entry.done;
    },
    matcher: () => current.registry.matcher(),
    get: (id) => current.registry.get(id),
    find: (id) => current.registry.find(id),
    isDisabled: (id) => current.registry.isDisabled(id),
    list: () => current.registry.list(),
    writable: (id) => current.registry.writable(id),
    create(subscription) {
      check(subscription);
      return current.registry.create(subscription);
    },
    update(subscription) {
      check(subscription);
      return current.registry.update(subscription);
    },
    delete: (id) => current.registry.delete(id),
    disable: (id, reason, at, sink) => current.registry.disable(id, reason, at, sink),
    replaceConfigured() {
      throw new TypeError(
        "a Worker's config changes with a deploy (new isolates), not by replaceConfigured",
      );
    },
  };
}
