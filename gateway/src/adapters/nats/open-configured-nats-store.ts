import { resolve } from "node:path";
import type { NatsStoreConfig, StoreConfig } from "../../config/herald-config.js";
import type { Logger } from "../../ports/logger.js";
import type { StoredState } from "../../subscriptions/subscription-registry.js";
import { type NatsStore, openNatsStore } from "./nats-store.js";

/** What a watch of the subscriptions bucket keeps up to date: the registry, in `herald serve`. */
export interface WatchTarget {
  /** Reads every API subscription and disabled state again. */
  refresh(): Promise<void>;
  /**
   * Applies what `read` says the bucket holds now for one id; without it, every change is a
   * `refresh`.
   */
  refreshOne?(id: string, read: () => Promise<StoredState>): Promise<void>;
}

/** What `herald serve` needs of the NATS store: the store, and a hook for external changes. */
export interface ConfiguredNatsStore extends NatsStore {
  /**
   * Keeps `target` up to date with the subscriptions bucket (another replica created, changed,
   * disabled or deleted a subscription): each change is applied by itself (`refreshOne`: the
   * one key read again, whatever the number of subscriptions), and the whole bucket is read
   * again (`refresh`) when the watch starts or starts again after a reconnect, as changes may
   * have been missed. A failed refresh is logged and tried again.
   */
  watch(target: WatchTarget): void;
  /**
   * Pulls the jobs of the subscriptions `knows` says this gateway has, from now on (until this
   * is called, of none: the registry is built after the store). Run again after each refresh
   * (`watch`); call `pullKnown` after a config reload.
   */
  pullFor(knows: (subscriptionId: string) => boolean): Promise<void>;
  pullKnown(): Promise<void>;
}

/** The first pause before a failed refresh (`watch`) is tried again, and the longest. */
const REFRESH_RETRY_MS = 500;
const REFRESH_RETRY_MAX_MS = 30_000;

/** After an API subscription is deleted, when what late accepts queued for it is dropped. */
const LATE_DROP_MS = 6_000;

/** How long `herald serve` waits for NATS at start when `store.startupWait` is not set. */
export const DEFAULT_STARTUP_WAIT_MS = 30_000;

/**
 * Opens the `store: { kind: nats }` of a config: a relative `credentials` path is taken from
 * `baseDir` (the config file's folder, like `jwks` files); NATS not reachable yet is waited for
 * up to `store.startupWait` (default 30 s).
 *
 * @example
 * const store = await openConfiguredNatsStore(config.store, dirname(configPath), logger);
 * store.watch(registry);
 */
export async function openConfiguredNatsStore(
  config: NatsStoreConfig & StoreConfig,
  baseDir: string,
  logger: Logger,
  stop?: AbortSignal,
): Promise<ConfiguredNatsStore> {
  let known: (subscriptionId: string) => boolean = () => false;
  const store = await openNatsStore({
    knows: (id) => known(id),
    servers: config.url,
    stream: config.stream,
    dedupeWindowMs: config.dedupeWindowMs,
    logger,
    ...(config.replicas === undefined ? {} : { replicas: config.replicas }),
    ...(config.ackWaitMs === undefined ? {} : { ackWaitMs: config.ackWaitMs }),
    startupWaitMs: config.startupWaitMs ?? DEFAULT_STARTUP_WAIT_MS,
    ...(stop === undefined ? {} : { stop }),
    ...(config.credentials === undefined
      ? {}
      : { credentials: resolve(baseDir, config.credentials) }),
    ...(config.user === undefined ? {} : { user: config.user }),
    ...(config.password === undefined ? {} : { password: config.password }),
    ...(config.token === undefined ? {} : { token: config.token }),
  });
  /**
   * An API subscription deleted through another replica: the replica that deleted it dropped its
   * consumer and jobs, but an accept here that matched it before this refresh could still be
   * publishing, and made the consumer again with a job or more, left for ever (nothing pulls a
   * subscription no one knows; they counted in the queue's size). Once such accepts are over
   * (their publishes time out after 5 s), drop what they left, unless it is known here again.
   */
  const dropLate = (id: string): void => {
    setTimeout(() => {
      if (closed || known(id)) return;
      store.queue.drop(id).then(
        (dropped) => {
          if (dropped > 0) {
            logger.info("dropped deliveries of a deleted subscription queued as it was deleted", {
              subscriptionId: id,
              dropped,
            });
          }
        },
        (err: unknown) =>
          logger.warn("could not drop what was queued for a deleted subscription", {
            subscriptionId: id,
            error: err instanceof Error ? err.message : String(err),
          }),
      );
    }, LATE_DROP_MS).unref();
  };
  let closed = false;
  return {
    ...store,
    close() {
      closed = true;
      return store.close();
    },
    watch(target) {
      /** API subscriptions deleted in changes not applied here yet. */
      const deleted = new Set<string>();
      /** The latest whole read asked for: a failed one is tried again until a later one runs. */
      let latest = 0;
      // A refresh reads the whole bucket, so it can fail on a moment of NATS (a timeout while a
      // cluster moves the bucket's leader, as when a server dies). Once, the change was then
      // missed until the next one: a subscription created elsewhere matched nothing here, one
      // deleted elsewhere still matched. Tried again with a growing pause (up to 30 s).
      const refresh = (change: number, failures: number): void => {
        target
          .refresh()
          .then(() => store.queue.pullKnown())
          .then(() => {
            for (const id of deleted) dropLate(id);
            deleted.clear();
          })
          .catch((err: unknown) => {
            if (closed || change !== latest) return;
            const retryInMs = Math.min(REFRESH_RETRY_MAX_MS, REFRESH_RETRY_MS * 2 ** failures);
            logger.error(
              "could not apply a subscription change from another replica; trying again",
              {
                error: err instanceof Error ? err.message : String(err),
                retryInMs,
              },
            );
            setTimeout(() => {
              if (!closed && change === latest) refresh(change, failures + 1);
            }, retryInMs).unref();
          });
      };
      // One change: the key read again and applied, its consumer looked up (not the whole bucket
      // read and every consumer listed, which made each API create cost more with every
      // subscription stored). When that fails, the whole bucket is read again, and again.
      const applyOne = (id: string, refreshOne: NonNullable<WatchTarget["refreshOne"]>) => {
        refreshOne(id, () => store.subscriptions.current(id))
          .then(() => store.queue.pullKnown(id))
          .then(() => {
            if (deleted.delete(id)) dropLate(id);
          })
          .catch((err: unknown) => {
            if (closed) return;
            logger.warn("could not apply a subscription change; reading them all again", {
              subscriptionId: id,
              error: err instanceof Error ? err.message : String(err),
            });
            refresh(++latest, 0);
          });
      };
      store.subscriptions.watch((change) => {
        if (change?.deleted === true) deleted.add(change.id);
        const refreshOne = target.refreshOne?.bind(target);
        if (change === undefined || refreshOne === undefined) refresh(++latest, 0);
        else applyOne(change.id, refreshOne);
      });
    },
    pullFor(knows) {
      known = knows;
      return store.queue.pullKnown();
    },
    pullKnown: () => store.queue.pullKnown(),
  };
}
