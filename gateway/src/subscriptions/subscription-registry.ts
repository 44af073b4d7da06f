import { Conflict, NotFound } from "../errors/errors.js";
import { type Logger, silentLogger } from "../ports/logger.js";
import type { DisabledState, SubscriptionStore } from "../store/subscription-store.js";
import { compileSubscription } from "./compiled-subscription.js";
import { definitionFingerprint } from "./definition-fingerprint.js";
import { createMatcher, type Matcher } from "./matcher.js";
import type { Subscription } from "./subscription.js";

/** Where a subscription was declared: the config file (read-only over the API) or the API. */
export type SubscriptionOrigin = "config" | "api";

/** A subscription with where it came from. */
export interface RegisteredSubscription {
  readonly subscription: Subscription;
  readonly origin: SubscriptionOrigin;
  /** Set while the subscription is disabled (its sink answered 410 Gone). */
  readonly disabled?: DisabledState;
}

/**
 * The gateway's current set of subscriptions: the config file's (replaced as a whole on reload)
 * and the API's (kept through a `SubscriptionStore`). Every change builds a new matcher and swaps
 * it in one assignment, so an event is matched against the old set or the new one, never a mix.
 */
export interface SubscriptionRegistry {
  /** The matcher of the current set. */
  matcher(): Matcher;
  /** The subscription with this id as it is now; `undefined` once deleted. */
  get(id: string): Subscription | undefined;
  /** Whether the subscription is disabled (its sink answered 410 Gone); false for unknown ids. */
  isDisabled(id: string): boolean;
  /** The subscription and its origin, or `undefined`. */
  find(id: string): RegisteredSubscription | undefined;
  /** Every subscription: the config's in file order, then the API's oldest first. */
  list(): readonly RegisteredSubscription[];
  /**
   * The API subscription that `update` or `delete` may change; `NotFound` for an unknown id,
   * `Conflict` for a config one. Lets a caller refuse a request before reading its body.
   */
  writable(id: string): Subscription;
  /** Stores and activates a new API subscription. `Conflict` when its id is taken. */
  create(subscription: Subscription): Promise<Subscription>;
  /** Replaces an API subscription. `NotFound` for an unknown id, `Conflict` for a config one. */
  update(subscription: Subscription): Promise<Subscription>;
  /** Removes an API subscription and returns it. `NotFound`, or `Conflict` for a config one. */
  delete(id: string): Promise<Subscription>;
  /**
   * Disables a subscription because its sink answered 410 Gone: it matches no new event until it
   * is updated (API `PUT`, or a changed definition in the config file). Kept in the store, so it
   * outlives a restart. Unknown ids are ignored (the subscription was deleted meanwhile), and so
   * is one already disabled (a 410 to a job sent before), and, given `sink`, one whose sink is
   * no longer that one (an update moved it while the 410 was on its way: checked in the same
   * serialized step as the write, so an update cannot slip in between). Resolves to whether it
   * changed.
   */
  disable(id: string, reason: string, at: number, sink?: string): Promise<boolean>;
  /**
   * Swaps in a reloaded config's subscriptions. Throws `Conflict`, changing nothing, when one of
   * them has the id of an API subscription (one id, one subscription).
   */
  replaceConfigured(subscriptions: readonly Subscription[]): void;
  /**
   * Reads the API subscriptions and disabled states again from the store and swaps in the new
   * set: how a change another gateway replica made to a shared store (NATS) reaches this one.
   */
  refresh(): Promise<void>;
  /**
   * `refresh` for one id: applies what `read` says the store holds now for it (its API
   * subscription and disabled state, either absent), read in this registry's turn so it is not
   * undone by a write of this replica's under way. The work does not grow with the set: how one
   * change in a shared store (NATS) reaches the other replicas when thousands are stored.
   * Optional: a runtime whose store has no watch need not offer it.
   */
  refreshOne?(id: string, read: () => Promise<StoredState>): Promise<void>;
  /**
   * Calls `listener` after every change of the set (a reload, an API write, a disable, a refresh),
   * once the new set is in place: the dispatcher then moves the jobs it holds to what their
   * subscription is now. `gone` holds the ids the change removed from the set (a DELETE, a
   * subscription dropped from the file or by another replica), so a listener need not compare
   * the whole set before and after (work per change that grew with every subscription).
   * Optional: a runtime that delivers otherwise need not offer it.
   */
  onChange?(listener: (gone: readonly string[]) => void): void;
}

/** What a store holds for one id (`refreshOne`). */
export interface StoredState {
  readonly subscription?: Subscription;
  readonly disabled?: DisabledState;
}

export interface SubscriptionRegistryOptions {
  /** The config file's subscriptions (ids unique among themselves; the config loader checks). */
  readonly configured: readonly Subscription[];
  /** Where API subscriptions are kept. */
  readonly store: SubscriptionStore;
  readonly logger?: Logger;
  /** Builds the matcher of a set (default: `createMatcher`). */
  readonly createMatcher?: (subscriptions: readonly Subscription[]) => Matcher;
}

/**
 * Loads the API subscriptions from the store and returns the registry over them and the config's.
 *
 * @example
 * const registry = await openSubscriptionRegistry({ configured: config.subscriptions, store });
 * registry.matcher().match(event);
 */
export async function openSubscriptionRegistry(
  options: SubscriptionRegistryOptions,
): Promise<SubscriptionRegistry> {
  const [stored, states] = await Promise.all([options.store.list(), options.store.disabled()]);
  const disabled = await withoutChangedDefinitions(options, states);
  return createSubscriptionRegistry(options, stored, disabled);
}

const UNUSABLE = "this Herald cannot use its stored definition";

/**
 * The stored API subscriptions this Herald cannot use, with a disabled state saying why: one
 * whose filters do not compile here (written by another Herald version that reads CESQL
 * differently, or a damaged row). Held disabled in memory, not in the store: it matches nothing,
 * the API shows it with the reason, and a `PUT` of a definition that compiles (or a `DELETE`)
 * fixes it, where failing to start would leave no way to.
 */
function unusableStored(
  stored: readonly Subscription[],
  logger: Logger,
  /** Its state when it is already held as unusable (kept, and not logged again), else undefined. */
  held: (id: string) => DisabledState | undefined,
  /** Whether a config subscription has the id (the stored one is shadowed, not used). */
  shadowed: (id: string) => boolean,
): Map<string, DisabledState> {
  const unusable = new Map<string, DisabledState>();
  for (const subscription of stored) {
    if (shadowed(subscription.id)) continue;
    try {
      compileSubscription(subscription, 0);
    } catch (error) {
      const before = held(subscription.id);
      if (before !== undefined) {
        unusable.set(subscription.id, before);
        continue;
      }
      const why = error instanceof Error ? error.message : String(error);
      unusable.set(subscription.id, {
        at: Date.now(),
        reason: `${UNUSABLE} (${why}); PUT a new one or DELETE it`,
        unusable: true,
      });
      logger.error("a stored API subscription cannot be used and is disabled", {
        subscriptionId: subscription.id,
        error: why,
      });
    }
  }
  return unusable;
}

/**
 * The disabled states that still hold: one a config subscription was disabled under whose
 * definition has changed since (the file was edited while the gateway was stopped) is cleared in
 * the store and left out, as a reload enables it. A state with no fingerprint (recorded by an
 * older Herald) holds.
 */
async function withoutChangedDefinitions(
  options: SubscriptionRegistryOptions,
  states: ReadonlyMap<string, DisabledState>,
): Promise<ReadonlyMap<string, DisabledState>> {
  const holding = new Map(states);
  for (const subscription of options.configured) {
    const state = states.get(subscription.id);
    if (state === undefined) continue;
    if (state.definition === undefined) {
      // Recorded by an older Herald: taken as recorded under this definition, so the next
      // change enables it (as on Workers).
      const definition = await definitionFingerprint(subscription);
      await options.store.setDisabled(subscription.id, { ...state, definition });
      holding.set(subscription.id, { ...state, definition });
      continue;
    }
    if (!(await disabledUnderOther(subscription, state))) continue;
    await options.store.setDisabled(subscription.id, undefined);
    holding.delete(subscription.id);
    options.logger?.info("a disabled subscription's definition changed in the config; enabled", {
      subscriptionId: subscription.id,
    });
  }
  return holding;
}

/** Whether two stored values (subscriptions, disabled states) are the same, as JSON. */
function same(a: unknown, b: unknown): boolean {
  return a === b || (a !== undefined && b !== undefined && JSON.stringify(a) === JSON.stringify(b));
}

/** Whether `state` was recorded under another definition of the config subscription. */
async function disabledUnderOther(
  subscription: Subscription,
  state: DisabledState,
): Promise<boolean> {
  return (
    state.definition !== undefined &&
    state.definition !== (await definitionFingerprint(subscription))
  );
}

/**
 * The registry over the config's subscriptions and `stored`, the API subscriptions already in
 * `options.store` (what `openSubscriptionRegistry` loads). A stored subscription whose id the
 * config now uses is shadowed by the config's (with a warning) and stays stored, so removing it
 * from the file brings it back.
 *
 * @example
 * const registry = createSubscriptionRegistry({ configured, store: createMemorySubscriptionStore() }, []);
 */
export function createSubscriptionRegistry(
  options: SubscriptionRegistryOptions,
  stored: readonly Subscription[],
  disabledAtStart: ReadonlyMap<string, DisabledState> = new Map(),
): SubscriptionRegistry {
  const { configured, store, logger = silentLogger } = options;
  const build = options.createMatcher ?? createMatcher;
  let config = new Map(configured.map((s) => [s.id, s]));
  const api = new Map<string, Subscription>();
  for (const subscription of stored) api.set(subscription.id, subscription);
  const disabled = new Map(disabledAtStart);
  for (const [id, state] of unusableStored(
    stored,
    logger,
    () => undefined,
    (id) => config.has(id),
  )) {
    disabled.set(id, state);
  }
  // Built now, so a set that does not compile fails the start; after a change, when next used.
  let matcher: Matcher | undefined = build(active());
  for (const id of api.keys()) {
    if (config.has(id)) {
      logger.warn("a stored API subscription is shadowed by the config's with the same id", {
        subscriptionId: id,
      });
    }
  }
  // Store writes are asynchronous; running changes one after another keeps the store, the maps and
  // the matcher in the same order as the requests.
  let queue: Promise<unknown> = Promise.resolve();
  /** A `refresh` queued that has not started yet (see `refresh`). */
  let refreshing: Promise<void> | undefined;
  function serially<T>(change: () => Promise<T>): Promise<T> {
    const run = queue.then(change, change);
    queue = run.catch(() => {});
    return run;
  }

  function active(): Subscription[] {
    const list = [...config.values()].filter((s) => !disabled.has(s.id));
    for (const [id, subscription] of api) {
      if (!config.has(id) && !disabled.has(id)) list.push(subscription);
    }
    return list;
  }
  /** Enables `id` again (an update); the store first, so a failure changes nothing here. */
  async function enable(id: string): Promise<void> {
    if (!disabled.has(id)) return;
    await store.setDisabled(id, undefined);
    disabled.delete(id);
  }
  function entry(subscription: Subscription, origin: SubscriptionOrigin): RegisteredSubscription {
    const state = disabled.get(subscription.id);
    return state === undefined
      ? { subscription, origin }
      : { subscription, origin, disabled: state };
  }
  const listeners: ((gone: readonly string[]) => void)[] = [];
  const NONE_GONE: readonly string[] = Object.freeze([]);
  /**
   * After a change: the matcher is built again when an event next needs it, not here, so a run
   * of API changes with no event between them (a script creating thousands of subscriptions)
   * builds it once instead of once per change over an ever larger set.
   */
  function setChanged(gone: readonly string[] = NONE_GONE): void {
    matcher = undefined;
    tellListeners(gone);
  }
  function tellListeners(gone: readonly string[] = NONE_GONE): void {
    for (const listener of listeners) {
      try {
        listener(gone);
      } catch (error) {
        // The change is made; a listener's trouble must not undo it or fail the request.
        logger.error("a subscription change listener failed", {
          error: error instanceof Error ? error.message : String(error),
        });
      }
    }
  }
  function writable(id: string, action = "change"): Subscription {
    if (config.has(id)) {
      throw new Conflict(
        `subscription "${id}" is declared in the config file and is read-only here; ${action} it in the config (a reload on Node, a deploy on Workers)`,
      );
    }
    const existing = api.get(id);
    if (existing === undefined) throw new NotFound(`no subscription with id "${id}"`);
    return existing;
  }

  return {
    matcher: () => {
      matcher ??= build(active());
      return matcher;
    },
    writable: (id) => writable(id),
    get: (id) => config.get(id) ?? api.get(id),
    isDisabled: (id) => disabled.has(id),
    find(id) {
      const fromConfig = config.get(id);
      if (fromConfig !== undefined) return entry(fromConfig, "config");
      const fromApi = api.get(id);
      return fromApi === undefined ? undefined : entry(fromApi, "api");
    },
    list() {
      const list: RegisteredSubscription[] = [];
      for (const subscription of config.values()) list.push(entry(subscription, "config"));
      for (const [id, subscription] of api) {
        if (!config.has(id)) list.push(entry(subscription, "api"));
      }
      return list;
    },
    create: (subscription) =>
      serially(async () => {
        if (config.has(subscription.id) || api.has(subscription.id)) {
          throw new Conflict(`a subscription with id "${subscription.id}" already exists`);
        }
        await store.put(subscription);
        api.set(subscription.id, subscription);
        // A new API subscription comes last in the set: the matcher takes it as it is, when it
        // can, rather than being built again over thousands (tens of ms each, with events waiting).
        if (matcher?.add !== undefined && !disabled.has(subscription.id)) {
          matcher.add(subscription);
          tellListeners();
        } else {
          setChanged();
        }
        return subscription;
      }),
    update: (subscription) =>
      serially(async () => {
        writable(subscription.id, "change");
        await store.put(subscription);
        api.set(subscription.id, subscription);
        // 410 Gone disabled it; an update is how a person says the sink is back.
        const wasDisabled = disabled.has(subscription.id);
        await enable(subscription.id);
        // An active one is replaced in its place in the matcher, not the matcher built again
        // over every subscription when the next event comes (tens of ms with thousands).
        if (!wasDisabled && matcher?.replace !== undefined) {
          matcher.replace(subscription);
          tellListeners();
        } else setChanged();
        return subscription;
      }),
    delete: (id) =>
      serially(async () => {
        const existing = writable(id, "remove");
        const removed = await store.delete(id);
        api.delete(id);
        if (!removed) {
          // Another writer of the store (a NATS replica) deleted it and this one had not heard
          // yet: both DELETEs answered 200. Forget it here, and answer as for an unknown id.
          setChanged([id]);
          throw new NotFound(`no subscription with id "${id}"`);
        }
        const wasDisabled = disabled.has(id);
        await enable(id).catch(() => {});
        // Taken out of the matcher (a disabled one is not in it), not the matcher built again:
        // short-lived subscriptions (`herald tail`) come and go while events flow.
        if (matcher?.remove !== undefined) {
          if (!wasDisabled) matcher.remove(id);
          tellListeners([id]);
        } else setChanged([id]);
        return existing;
      }),
    disable: (id, reason, at, sink) =>
      serially(async () => {
        const configured = config.get(id);
        const current = configured ?? api.get(id);
        if (current === undefined || disabled.has(id)) return false;
        if (sink !== undefined && current.sink !== sink) return false;
        const state: DisabledState =
          configured === undefined
            ? { at, reason }
            : { at, reason, definition: await definitionFingerprint(configured) };
        await store.setDisabled(id, state);
        disabled.set(id, state);
        setChanged();
        logger.warn("subscription disabled: its sink answered 410 Gone; update it to enable it", {
          subscriptionId: id,
          reason,
        });
        return true;
      }),
    refresh() {
      // One waiting its turn reads the store when it starts, so it covers later calls too: a
      // burst of changes in a shared store (each one a whole read of it) is read once or twice.
      refreshing ??= serially(async () => {
        refreshing = undefined;
        const [stored, states] = await Promise.all([store.list(), store.disabled()]);
        // Worked out before anything here changes: `isDisabled` answers while this awaits.
        const holding: [string, DisabledState][] = [];
        for (const [id, state] of states) {
          // A replica still on an older definition may have disabled it: not this definition.
          const configured = config.get(id);
          if (configured !== undefined && (await disabledUnderOther(configured, state))) continue;
          holding.push([id, state]);
        }
        const unusable = unusableStored(
          stored,
          logger,
          (id) => {
            const state = disabled.get(id);
            return state?.unusable === true ? state : undefined;
          },
          (id) => config.has(id),
        );
        for (const [id, state] of unusable) holding.push([id, state]);
        const before = [...api.keys()];
        api.clear();
        for (const subscription of stored) api.set(subscription.id, subscription);
        disabled.clear();
        for (const [id, state] of holding) disabled.set(id, state);
        setChanged(before.filter((id) => !api.has(id) && !config.has(id)));
      });
      return refreshing;
    },
    refreshOne(id, read) {
      return serially(async () => {
        const stored = await read();
        const subscription = stored.subscription;
        let state = stored.disabled;
        // As `refresh` takes them: a state recorded under another definition of the config's
        // subscription does not hold; one this Herald cannot use is held disabled.
        const configured = config.get(id);
        if (state !== undefined && configured !== undefined) {
          if (await disabledUnderOther(configured, state)) state = undefined;
        }
        if (subscription !== undefined) {
          const unusable = unusableStored(
            [subscription],
            logger,
            (one) => {
              const held = disabled.get(one);
              return held?.unusable === true ? held : undefined;
            },
            (one) => config.has(one),
          ).get(id);
          if (unusable !== undefined) state = unusable;
        }
        const before = api.get(id);
        const stateBefore = disabled.get(id);
        // This replica's own write, heard back: nothing to do.
        if (same(before, subscription) && same(stateBefore, state)) return;
        if (subscription === undefined) api.delete(id);
        else api.set(id, subscription);
        if (state === undefined) disabled.delete(id);
        else disabled.set(id, state);
        const removed = before !== undefined && subscription === undefined && !config.has(id);
        const gone = removed ? [id] : NONE_GONE;
        // What the set holds for the id before and after: the config's shadows the API's.
        const was = stateBefore === undefined ? (configured ?? before) : undefined;
        const is = state === undefined ? (configured ?? subscription) : undefined;
        // The matcher changed in place where it can, as for this replica's own API writes.
        if (was === undefined && is === undefined) tellListeners(gone);
        else if (was !== undefined && is !== undefined && same(was, is)) tellListeners(gone);
        else if (was === undefined && before === undefined && is === subscription) {
          // A new API subscription comes last in the set, as `add` puts it.
          if (matcher?.add !== undefined && is !== undefined) {
            matcher.add(is);
            tellListeners();
          } else setChanged();
        } else if (was !== undefined && is !== undefined && matcher?.replace !== undefined) {
          matcher.replace(is);
          tellListeners();
        } else if (was !== undefined && is === undefined && matcher?.remove !== undefined) {
          matcher.remove(id);
          tellListeners(gone);
        } else setChanged(gone);
      });
    },
    onChange(listener) {
      listeners.push(listener);
    },
    replaceConfigured(subscriptions) {
      const next = new Map(subscriptions.map((s) => [s.id, s]));
      const taken = [...next.keys()].filter((id) => api.has(id) && !config.has(id));
      if (taken.length > 0) {
        throw new Conflict(
          `the config declares ${taken.map((id) => `"${id}"`).join(", ")}, already used by subscriptions created through the API; rename them in the file or delete the API ones first`,
        );
      }
      // Build before swapping, so a matcher that fails to build leaves the old set in place.
      const previous = config;
      // A stored subscription the file stops shadowing comes back; one this Herald cannot use
      // comes back disabled, as at start, not as a reload refused for an id the file lacks.
      const uncovered = unusableStored(
        [...api.values()].filter((s) => previous.has(s.id) && !next.has(s.id)),
        logger,
        () => undefined,
        () => false,
      );
      config = next;
      for (const [id, state] of uncovered) disabled.set(id, state);
      const before = matcher;
      try {
        // Built at once: a reload whose set does not compile is refused here, not at an event.
        matcher = build(active());
      } catch (error) {
        config = previous;
        for (const id of uncovered.keys()) disabled.delete(id);
        matcher = before;
        throw error;
      }
      tellListeners([...previous.keys()].filter((id) => !config.has(id) && !api.has(id)));
      // A disabled config subscription whose definition changed in the file is enabled again.
      const changed = [...next].filter(
        ([id, s]) => disabled.has(id) && JSON.stringify(previous.get(id)) !== JSON.stringify(s),
      );
      if (changed.length === 0) return;
      serially(async () => {
        for (const [id] of changed) await enable(id);
        setChanged();
      }).catch((error: unknown) => {
        logger.error("could not enable reloaded subscriptions", {
          subscriptionIds: changed.map(([id]) => id),
          error: error instanceof Error ? error.message : String(error),
        });
      });
    },
  };
}
