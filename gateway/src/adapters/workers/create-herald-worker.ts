import type { Tracer } from "@opentelemetry/api";
import { createGateway, type Gateway } from "../../app/create-gateway.js";
import { createRemoteKeySource } from "../../auth/remote-key-source.js";
import {
  ConfigInvalid,
  describeConfigIssue,
  formatConfigIssue,
} from "../../config/config-invalid.js";
import { configWarnings } from "../../config/config-warnings.js";
import { disabledOutcomes } from "../../deliver/delivery-outcome.js";
import { createFetchSinkClient } from "../../deliver/fetch-sink-client.js";
import { createHttpDeliverer } from "../../deliver/http-deliverer.js";
import { createTracedDeliverer } from "../../deliver/traced-deliverer.js";
import { Unavailable } from "../../errors/errors.js";
import type { CloudEvent } from "../../event/cloud-event.js";
import { problemResponse } from "../../http/problem.js";
import { disableOnGone } from "../../on-success/disable-on-gone.js";
import { createReplyIngest } from "../../on-success/ingest-reply.js";
import { type Clock, systemClock } from "../../ports/clock.js";
import type { FetchLike } from "../../ports/fetch.js";
import type { Logger } from "../../ports/logger.js";
import { createAcceptor } from "../../routing/accept-events.js";
import { unsupportedBackup } from "../../store/store-backup.js";
import type { JwksCache } from "./cache-api-jwks-fetch.js";
import { createCacheApiJwksFetch, openJwksCache } from "./cache-api-jwks-fetch.js";
import { checkBindings } from "./check-bindings.js";
import {
  type D1Database,
  type QueueBatch,
  type QueueProducer,
  WORKER_LIMITS,
  type WorkerContext,
} from "./cloudflare-bindings.js";
import { createConsoleLogger, logLevelOf } from "./console-logger.js";
import { createD1Acceptances } from "./d1-acceptances.js";
import { createD1DeadJobs } from "./d1-dead-jobs.js";
import { ensureSchema } from "./d1-schema.js";
import { createD1SubscriptionStore } from "./d1-subscription-store.js";
import { unavailableWhenD1Fails } from "./d1-unavailable.js";
import type { DeliveryMessage } from "./delivery-message.js";
import { normalizeRequest, normalizeResponse } from "./normalize-headers.js";
import { createQueueConsumer } from "./queue-consumer.js";
import { dropOversizedEvents } from "./queue-size-limit.js";
import { createQueuesIntake } from "./queues-intake.js";
import { openRefreshingRegistry, type RefreshingRegistry } from "./refreshing-registry.js";
import {
  loadWorkerConfig,
  queueRetentionSeconds,
  workersSubscriptionCheck,
} from "./worker-config.js";

/** The bindings and variables of the Worker (`wrangler.toml`). */
export interface HeraldWorkerEnv {
  /** D1: subscriptions, dedupe and acceptances, dead deliveries. */
  readonly HERALD_DB: D1Database;
  /** The delivery queue's producer binding (the same queue's consumer is this Worker). */
  readonly HERALD_DELIVERIES: QueueProducer<DeliveryMessage>;
  /** The config (JSON or YAML), unless one is bundled. */
  readonly HERALD_CONFIG?: string;
  /** debug | info (default) | warn | error | silent. */
  readonly HERALD_LOG_LEVEL?: string;
  /** `true`: accept events without authentication even when the config has `auth` (dev only). */
  readonly HERALD_NO_AUTH?: string;
  /** Name of the delivery queue's dead-letter queue (default `herald-deliveries-dlq`). */
  readonly HERALD_DEAD_LETTER_QUEUE?: string;
  /** The delivery queue's message retention in seconds (default 345600, Queues' 4 days). */
  readonly HERALD_QUEUE_RETENTION_SECONDS?: string;
  /** Secrets and other variables, for `${VAR}` in the config. */
  readonly [name: string]: unknown;
}

export interface HeraldWorkerOptions {
  /** A config bundled with the Worker (e.g. a Text module rule); default `env.HERALD_CONFIG`. */
  readonly config?: string;
  /**
   * Outbound HTTP for deliveries, JWKS and the webhook adapters' fetches (SNS signing
   * certificates, subscription confirmations); default the global `fetch`.
   */
  readonly fetch?: FetchLike;
  /** The Cache API cache for JWKS (default `caches.open("herald-jwks")`). */
  readonly jwksCache?: () => Promise<JwksCache>;
  readonly clock?: Clock;
  /** Backoff jitter in `[0, 1)` (default `Math.random`). */
  readonly random?: () => number;
  readonly tracer?: Tracer;
  /** Id of a subscription created through the API (default: a random UUID). */
  readonly newSubscriptionId?: () => string;
}

/** The module Worker: the same routes as on Node, and the delivery queue's consumer. */
export interface HeraldWorker {
  fetch(request: Request, env: HeraldWorkerEnv, ctx?: WorkerContext): Promise<Response>;
  queue(batch: QueueBatch, env: HeraldWorkerEnv, ctx?: WorkerContext): Promise<void>;
}

interface Instance {
  readonly gateway: Gateway;
  readonly registry: RefreshingRegistry;
  readonly consume: (batch: QueueBatch) => Promise<void>;
  readonly logger: Logger;
}

const DEFAULT_DEAD_LETTER_QUEUE = "herald-deliveries-dlq";

/**
 * Retries every message of a batch the Worker could not handle (a config refused, D1 down),
 * waiting longer each time: 30 s after the first failure, doubling up to an hour. Thrown
 * instead, the batch would be retried at once (the queue's `retry_delay` is 0), so a config
 * broken for a minute would spend each message's 100 retries, then its dead-letter queue's,
 * and the deliveries would be gone; this way they wait about as long as the queue keeps them.
 * A message the batch already settled keeps that (`retry` on it is ignored).
 */
/** A build (config, D1 schema, JWKS cache) still pending after this long is started again. */
const BUILD_ABANDONED_AFTER_MS = 30_000;

/**
 * Hands a promise other requests may wait on to `ctx.waitUntil`, so the runtime does not cancel
 * it with the request that started it (a client that went away). Returns the promise.
 */
function kept<T>(promise: Promise<T>, ctx: WorkerContext | undefined): Promise<T> {
  ctx?.waitUntil(promise.catch(() => undefined));
  return promise;
}

function retryLater(batch: QueueBatch): void {
  for (const message of batch.messages) {
    const doubled = 30 * 2 ** Math.min(Math.max(message.attempts - 1, 0), 7);
    message.retry({ delaySeconds: Math.min(doubled, 3_600) });
  }
}

/**
 * Builds Herald as a Cloudflare Worker: `fetch` serves the same Hono app as on Node, and `queue`
 * consumes the delivery queue (see `queues-intake.ts` and `queue-consumer.ts` for how delivery
 * maps onto Queues). One gateway is built per isolate (on its first request, from `env`) and
 * reused, so the JWKS and the verified-token cache live as long as the isolate; every request and
 * queue batch first brings the subscriptions up to date with D1.
 *
 * @example
 * // worker.ts, with a config bundled as a Text module:
 * import config from "./herald.yaml";
 * export default createHeraldWorker({ config });
 */
export function createHeraldWorker(options: HeraldWorkerOptions = {}): HeraldWorker {
  const clock = options.clock ?? systemClock;
  const instances = new WeakMap<
    object,
    { readonly built: Promise<Instance>; readonly since: number; settled: boolean }
  >();

  async function build(env: HeraldWorkerEnv): Promise<Instance> {
    const logger = createConsoleLogger(env.HERALD_LOG_LEVEL);
    if (logLevelOf(env.HERALD_LOG_LEVEL) === "unknown") {
      // As `herald serve` says it on stderr: a typo must not look like a quiet gateway.
      logger.warn(
        `HERALD_LOG_LEVEL=${env.HERALD_LOG_LEVEL} is not one of debug, info, warn, error, silent; using info`,
      );
    }
    const variables: Record<string, string> = {};
    for (const [name, value] of Object.entries(env)) {
      if (typeof value === "string") variables[name] = value;
    }
    const bundled = options.config !== undefined;
    const retention = queueRetentionSeconds(env.HERALD_QUEUE_RETENTION_SECONDS);
    const noAuth = env.HERALD_NO_AUTH === "true";
    const configText = bundled ? options.config : env.HERALD_CONFIG;
    const configName = bundled ? "bundled config" : "HERALD_CONFIG";
    const config = loadWorkerConfig(configText, configName, variables, {
      retentionSeconds: retention,
      noAuth,
    });
    // Valid settings that are probably not meant, said once per isolate as `herald serve` says
    // them at start (maxEventBytes below the spec's 64 KiB, a short signing key).
    for (const warning of configWarnings(config, configName, configText)) {
      logger.warn(formatConfigIssue(warning));
    }
    const { db, deliveries } = checkBindings(env);
    await ensureSchema(db);
    const registry = await openRefreshingRegistry({
      configured: config.subscriptions,
      // A disabled config subscription whose definition this deploy changed is enabled again.
      store: unavailableWhenD1Fails(createD1SubscriptionStore(db)),
      logger,
      check: workersSubscriptionCheck(retention),
      now: () => clock.now(),
    });
    const accepted = unavailableWhenD1Fails(createD1Acceptances(db));
    const dead = unavailableWhenD1Fails(createD1DeadJobs(db));
    const queue = createQueuesIntake({
      queue: deliveries,
      accepted,
      dead,
      clock,
      logger,
      dedupeWindowMs: config.store.dedupeWindowMs,
      keepAcceptedMs: retention * 1000,
    });
    const fetchOut = options.fetch ?? ((request: Request) => fetch(request));
    const jwksFetch = createCacheApiJwksFetch({
      cache: await openJwksCache(options.jwksCache ?? (() => caches.open("herald-jwks")), logger),
      fetch: fetchOut,
      now: () => clock.now(),
      logger,
    });
    if (noAuth) {
      logger.warn(
        "authentication is OFF (HERALD_NO_AUTH=true): anyone who can reach this Worker can publish events and change subscriptions; never in production",
      );
    }
    // A sink's answer is read as Node reads it (a reply event in its headers, Retry-After).
    const sinkClient = createFetchSinkClient(async (request) =>
      normalizeResponse(await fetchOut(request)),
    );
    const gateway = createGateway({
      config,
      queue,
      subscriptions: registry,
      sinkClient,
      // SNS certificates and subscription confirmations go out the same way as deliveries (they
      // went to the global fetch, past an injected one).
      webhookFetch: fetchOut,
      backup: D1_BACKUP,
      clock,
      logger,
      noAuth,
      keySourceFor: (keys) =>
        keys.kind === "url"
          ? createRemoteKeySource({
              url: keys.url,
              fetch: jwksFetch,
              clock,
              logger,
              // A background refetch would be cancelled with the response that started it.
              refreshInBackground: false,
            })
          : undefined,
      ...(options.random ? { random: options.random } : {}),
      ...(options.tracer ? { tracer: options.tracer } : {}),
      ...(options.newSubscriptionId ? { newSubscriptionId: options.newSubscriptionId } : {}),
    });
    const deliverer = createTracedDeliverer(
      createHttpDeliverer({
        client: sinkClient,
        clock,
        maxReplyBytes: config.limits.maxEventBytes,
      }),
      { metrics: gateway.metrics, ...(options.tracer ? { tracer: options.tracer } : {}) },
    );
    // Replies and receipts enter like published events: matched, then through the intake, and
    // counted in herald_events_accepted_total / _duplicate_total like them.
    const accept = createAcceptor(() => registry.matcher(), queue);
    const acceptEvents = async (events: readonly CloudEvent[]) => {
      const result = await accept(events, { settling: true });
      gateway.metrics.accepted(result.events, result.duplicates);
      return result;
    };
    // Either can be too large for a queue message: refused by the reply ingest (a reply) or
    // dropped here (a receipt, `queue-size-limit.ts`), never left to fail the settle.
    const emit = dropOversizedEvents(async (events: readonly CloudEvent[]) => {
      await acceptEvents(events);
    }, logger);
    const consume = createQueueConsumer({
      subscription: (id) => registry.get(id),
      disabled: disabledOutcomes(registry),
      deliverer,
      accepted,
      dead,
      queue: deliveries,
      deadLetterQueue: env.HERALD_DEAD_LETTER_QUEUE ?? DEFAULT_DEAD_LETTER_QUEUE,
      clock,
      logger,
      metrics: gateway.metrics,
      // No more at once than the runtime lets wait for headers: a delivery queued behind them
      // would spend its timeout before it is sent.
      concurrency: Math.min(
        config.limits.maxDeliveriesInFlight,
        WORKER_LIMITS.connectionsWaitingForHeaders,
      ),
      retentionSeconds: retention,
      ingestReply: createReplyIngest({ limits: config.limits, accept: acceptEvents, clock }),
      emit,
      onGone: disableOnGone({ registry, emit, clock }),
      ...(options.random ? { random: options.random } : {}),
    });
    return { gateway, registry, consume, logger };
  }

  /**
   * The isolate's instance for this `env`; a failed build is tried again on the next call, and
   * so is one still pending after `BUILD_ABANDONED_AFTER_MS` (started by a request the runtime
   * cancelled, it never settles, and every later request would wait on it).
   */
  function instance(env: HeraldWorkerEnv): Promise<Instance> {
    const found = instances.get(env);
    if (
      found !== undefined &&
      (found.settled || clock.now() - found.since < BUILD_ABANDONED_AFTER_MS)
    ) {
      return found.built;
    }
    const entry = { built: build(env), since: clock.now(), settled: false };
    instances.set(env, entry);
    entry.built.then(
      () => {
        entry.settled = true;
      },
      () => {
        if (instances.get(env) === entry) instances.delete(env);
      },
    );
    return entry.built;
  }

  /**
   * Says why the Worker answers 503, whatever `HERALD_LOG_LEVEL` hides (`silent` included), as
   * `herald serve` writes a refused config to stderr at any level: the 503 says "see its log".
   * `started`: the isolate's gateway is up, and what failed is the check for subscription changes
   * in D1 that every request and batch makes first.
   */
  function logStartupFailure(env: HeraldWorkerEnv, error: unknown, started: boolean): void {
    const silent = logLevelOf(env.HERALD_LOG_LEVEL) === "silent";
    const logger = createConsoleLogger(silent ? "error" : env.HERALD_LOG_LEVEL);
    if (error instanceof ConfigInvalid) {
      logger.error("the config is invalid", { issues: error.issues.map(describeConfigIssue) });
    } else {
      logger.error(
        started ? "could not read subscription changes from D1" : "the gateway could not start",
        {
          error: error instanceof Error ? error.message : String(error),
        },
      );
    }
  }

  return {
    async fetch(request, env, ctx) {
      let ready: Instance | undefined;
      try {
        ready = await kept(instance(env), ctx);
        await kept(ready.registry.refresh(), ctx);
      } catch (error) {
        logStartupFailure(env, error, ready !== undefined);
        // The details are in the log; a caller learns only that it may try again.
        return problemResponse(
          new Unavailable("the gateway cannot serve now (configuration or store); see its log", 5),
        );
      }
      // Header values as Node reads the same bytes (`normalize-headers.ts`).
      const normal = normalizeRequest(request);
      const response = await ready.gateway.fetch(normal.request);
      // What the routes left unread of the body is read to its end before the answer goes out,
      // or the connection's next request is lost (`normalizeRequest`).
      await normal.settle();
      return response;
    },
    async queue(batch, env, ctx) {
      let ready: Instance | undefined;
      try {
        ready = await kept(instance(env), ctx);
        await kept(ready.registry.refresh(), ctx);
      } catch (error) {
        logStartupFailure(env, error, ready !== undefined);
        retryLater(batch);
        return;
      }
      try {
        await ready.consume(batch);
      } catch (error) {
        ready.logger.error("could not consume a queue batch; its messages are retried later", {
          error: error instanceof Error ? error.message : String(error),
        });
        retryLater(batch);
      }
    },
  };
}

/**
 * On Workers the store is D1 (subscriptions, dead deliveries, the dedupe window) and Queues (the
 * deliveries on their way): Cloudflare backs D1 up itself, and no Worker can read it as a file.
 */
const D1_BACKUP = unsupportedBackup(
  "on Cloudflare Workers the store is D1, which Cloudflare backs up itself: Time Travel restores it to any minute of the last 30 days (7 on the Workers Free plan; `wrangler d1 time-travel info DB`, `wrangler d1 time-travel restore DB --timestamp=...`), and `wrangler d1 export DB --remote --output=herald.sql` writes a copy; deliveries still in the Queue are not in D1",
);
