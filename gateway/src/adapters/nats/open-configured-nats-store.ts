import { resolve } from "node:path";
import type { NatsStoreConfig, StoreConfig } from "../../config/herald-config.js";
import type { Logger } from "../../ports/logger.js";
import { type NatsStore, openNatsStore } from "./nats-store.js";

/** What `herald serve` needs of the NATS store: the store, and a hook for external changes. */
export interface ConfiguredNatsStore extends NatsStore {
  /**
   * Calls `refresh` whenever the subscriptions bucket changes (another replica created, changed,
   * disabled or deleted a subscription); a failed refresh is logged.
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
  return {
    ...store,
    watch(refresh) {
      store.subscriptions.watch(() => {
        refresh()
          .then(() => store.queue.pullKnown())
          .catch((err: unknown) =>
            logger.error("could not apply a subscription change from another replica", {
              error: err instanceof Error ? err.message : String(err),
            }),
          );
      });
    },
    pullFor(knows) {
      known = knows;
      return store.queue.pullKnown();
    },
    pullKnown: () => store.queue.pullKnown(),
  };
}
