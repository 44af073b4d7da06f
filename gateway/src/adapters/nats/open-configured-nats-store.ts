import { resolve } from "node:path";
import type { NatsStoreConfig, StoreConfig } from "../../config/herald-config.js";
import type { Logger } from "../../ports/logger.js";
import { type NatsStore, openNatsStore } from "./nats-store.js";

/** What `herald serve` needs of the NATS store: the store, and a hook for external changes. */
export interface ConfiguredNatsStore extends NatsStore {
  /**
   * Calls `refresh` whenever the subscriptions bucket changes (another replica created, changed,
   * disabled or deleted a subscription); a failed refresh is logged and tried again.
   */
  watch(refresh: () => Promise<void>): void;
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
 * store.watch(() => registry.refresh());
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
    watch(refresh) {
      /** API subscriptions deleted in changes not applied here yet. */
      const deleted = new Set<string>();
      /** The latest change: a failed refresh is tried again until a later change's runs. */
      let latest = 0;
      // A refresh reads the whole bucket, so it can fail on a moment of NATS (a timeout while a
      // cluster moves the bucket's leader, as when a server dies). Once, the change was then
      // missed until the next one: a subscription created elsewhere matched nothing here, one
      // deleted elsewhere still matched. Tried again with a growing pause (up to 30 s).
      const apply = (change: number, failures: number): void => {
        refresh()
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
              if (!closed && change === latest) apply(change, failures + 1);
            }, retryInMs).unref();
          });
      };
      store.subscriptions.watch((id) => {
        if (id !== undefined) deleted.add(id);
        apply(++latest, 0);
      });
    },
    pullFor(knows) {
      known = knows;
      return store.queue.pullKnown();
    },
    pullKnown: () => store.queue.pullKnown(),
  };
}
