import type { Tracer } from "@opentelemetry/api";
import { Hono } from "hono";
import { answerAllow } from "../api/answer-allow.js";
import { OPENAPI_DOCUMENT } from "../api/openapi-document.js";
import { mountStoreBackup } from "../api/store-backup-routes.js";
import { mountSubscriptionApi } from "../api/subscription-routes.js";
import type { KeySource } from "../auth/key-source.js";
import { createPublisherAuth } from "../auth/publisher-auth.js";
import type { TokenDigest } from "../auth/verified-token-cache.js";
import type { IssuerKeys } from "../config/auth-config.js";
import type { HeraldConfig } from "../config/herald-config.js";
import { MAX_BATCH_WAIT_MS, MAX_DELIVERY_TIMEOUT_MS } from "../config/parse-delivery.js";
import { disabledOutcomes } from "../deliver/delivery-outcome.js";
import type { DeliveryQueue } from "../deliver/delivery-queue.js";
import { createDispatcher } from "../deliver/dispatcher.js";
import { createFetchSinkClient } from "../deliver/fetch-sink-client.js";
import { createHttpDeliverer } from "../deliver/http-deliverer.js";
import { createMemoryQueue } from "../deliver/memory-queue.js";
import { createSettle } from "../deliver/settle.js";
import type { SinkClient } from "../deliver/sink-client.js";
import { createTracedDeliverer } from "../deliver/traced-deliverer.js";
import { MethodNotAllowed, NotFound } from "../errors/errors.js";
import { HeraldError } from "../errors/herald-error.js";
import type { CloudEvent } from "../event/cloud-event.js";
import { type ProblemParts, problemParts, problemResponse } from "../http/problem.js";
import { createIngestHandler, type IngestHandler } from "../ingest/handle-ingest.js";
import { mountIngest } from "../ingest/ingest-routes.js";
import { createPublishGate } from "../ingest/publish-gate.js";
import { disableOnGone } from "../on-success/disable-on-gone.js";
import { createReplyIngest } from "../on-success/ingest-reply.js";
import { type Clock, systemClock } from "../ports/clock.js";
import type { FetchLike } from "../ports/fetch.js";
import { type Logger, silentLogger } from "../ports/logger.js";
import { createAcceptor } from "../routing/accept-events.js";
import { createMemorySubscriptionStore } from "../store/memory-subscription-store.js";
import { type StoreBackup, unsupportedBackup } from "../store/store-backup.js";
import {
  createSubscriptionRegistry,
  type SubscriptionRegistry,
} from "../subscriptions/subscription-registry.js";
import { createGatewayMetrics, type GatewayMetrics } from "../telemetry/gateway-metrics.js";
import { createWebhookAdapters } from "../webhooks/create-webhook-adapters.js";
import { createWebhookHandler } from "../webhooks/handle-webhook.js";
import { mountWebhooks } from "../webhooks/webhook-routes.js";
import { ADMIN_PATHS, requireAdmin } from "./require-admin.js";

/**
 * How long a leased job stays invisible: longer than any hold of a job (the longest timeout, the
 * longest batch wait, a handshake) with a margin, so a slow attempt is never handed out twice.
 * A crash does not wait for it: the SQLite store keeps leases in memory, so after a restart every
 * job is due at once.
 */
const LEASE_MS = MAX_DELIVERY_TIMEOUT_MS + MAX_BATCH_WAIT_MS + 30_000;

/**
 * The read-only endpoints: Hono answers HEAD with the GET route, without the body; OPTIONS is
 * 200 with `Allow` as on the API's resources (no webhook handshake headers: no event is taken
 * there), where it was 405.
 */
const READ_ALLOW = ["GET", "HEAD", "OPTIONS"] as const;

export interface GatewayOptions {
  /** A normalised config, e.g. from `parseConfig` or `loadConfigFile`. */
  readonly config: HeraldConfig;
  /**
   * The delivery queue of the store (e.g. the Node adapter's SQLite one); defaults to an
   * in-memory queue. A queue passed in is durable: `stop()` does not wait for it to drain.
   */
  readonly queue?: DeliveryQueue;
  /**
   * Whether the store can take events now (NATS: the connection is up); `GET /readyz` answers
   * 503 while it cannot, so a load balancer sends publishers to replicas that can store.
   */
  readonly storeAvailable?: () => boolean;
  /**
   * How `GET /store/backup` copies the store (the Node adapter's SQLite store passes its own).
   * Default: refused with `backup_unsupported`, saying the memory store has nothing to back up
   * (or, with a `queue` passed, that this store offers no backup through Herald).
   */
  readonly backup?: StoreBackup;
  /** Retry jitter (default `Math.random`); tests pass a fixed one. */
  readonly random?: () => number;
  /**
   * Outbound HTTP for deliveries (on Node, the adapter's `createNodeSinkClient()`); defaults to
   * `createFetchSinkClient` over `fetch`.
   */
  readonly sinkClient?: SinkClient;
  /** The `fetch` the default sink client uses (default: the global one). Not with `sinkClient`. */
  readonly fetch?: FetchLike;
  /**
   * Outbound HTTP of the webhook adapters: SNS signing certificates and subscription
   * confirmations (default `fetch`, else the global one). A runtime that passes `sinkClient`
   * passes its outbound `fetch` here, or the adapters would bypass it.
   */
  readonly webhookFetch?: FetchLike;
  readonly clock?: Clock;
  readonly logger?: Logger;
  /**
   * Accept events without authentication even when the config has `auth` (`--no-auth`; dev only).
   * Without `auth` in the config, ingest is unauthenticated anyway.
   */
  readonly noAuth?: boolean;
  /** Key sources the runtime resolves itself, e.g. `jwks` files (see `createPublisherAuth`). */
  readonly keySourceFor?: (keys: IssuerKeys) => KeySource | undefined;
  /** Token hash for the verified-token cache (the Node adapter passes a fast one). */
  readonly tokenDigest?: TokenDigest;
  /** How long `stop()` waits for queued deliveries to drain (default 10 s). */
  readonly drainMs?: number;
  /**
   * The subscription set (e.g. from `openSubscriptionRegistry` over a durable store); its
   * `configured` must be `config.subscriptions`. Default: the config's subscriptions, with API
   * subscriptions kept in memory.
   */
  readonly subscriptions?: SubscriptionRegistry;
  /** Id of a subscription created through the API (default: a random UUID). */
  readonly newSubscriptionId?: () => string;
  /**
   * Log each accepted event's attributes and data at debug level (`HERALD_LOG_PAYLOADS=true` on
   * Node). Off by default: payloads may hold personal data.
   */
  readonly logPayloads?: boolean;
  /**
   * Where spans go (default: the global OpenTelemetry provider's `@herald/gateway` tracer, a
   * no-op until an SDK is registered). Tests pass one over an in-memory exporter.
   */
  readonly tracer?: Tracer;
}

/** A running Herald gateway, independent of the runtime that serves it. */
export interface Gateway {
  /** The Hono app with every route. */
  readonly app: Hono;
  /** Handles one HTTP request (Web Standards). */
  fetch(request: Request): Promise<Response>;
  /**
   * `POST /events` for transports that read requests themselves (the Node adapter): resolves
   * when the events are accepted (answer 202), rejects with a coded error for `problem`.
   */
  readonly ingest: IngestHandler;
  /** Logs a failed request and renders its problem details (RFC 9457). */
  problem(err: unknown, method: string, path: string): ProblemParts;
  /**
   * Starts delivering queued events, and fetches the issuers' JWKS URLs in the background (the
   * gateway answers meanwhile; one that fails is logged with its cause).
   */
  start(): void;
  /**
   * Stops accepting events (503), lets publish requests already in finish (within the drain
   * deadline; those still reading their body then get 503), finishes in-flight deliveries, then
   * stops delivering.
   */
  stop(): Promise<void>;
  /** Resolves when nothing is queued or in flight (tests and graceful shutdown). */
  idle(): Promise<void>;
  /** The current subscriptions; `replaceConfigured` applies a reloaded config's. */
  readonly subscriptions: SubscriptionRegistry;
  /** Counters and histograms behind `GET /metrics` (also recorded through OpenTelemetry). */
  readonly metrics: GatewayMetrics;
}

/**
 * Builds a gateway from a config: ingest, matching, queue and delivery wired through their ports.
 * Options are checked here, once.
 *
 * @example
 * const gateway = createGateway({ config: parseConfig(text, "herald.yaml") });
 * gateway.start();
 * const res = await gateway.fetch(new Request("http://gw/events", { method: "POST", headers, body }));
 */
export function createGateway(options: GatewayOptions): Gateway {
  const { config, clock = systemClock, logger = silentLogger, drainMs = 10_000 } = options;
  if (!config || !Array.isArray(config.subscriptions)) {
    throw new TypeError("createGateway: options.config must be a normalised HeraldConfig");
  }
  if (options.sinkClient !== undefined && options.fetch !== undefined) {
    throw new TypeError("createGateway: pass options.sinkClient or options.fetch, not both");
  }
  const sinkClient =
    options.sinkClient ?? createFetchSinkClient(options.fetch ?? ((request) => fetch(request)));
  const ownQueue =
    options.queue === undefined
      ? createMemoryQueue({
          clock,
          capacity: config.limits.maxQueuedDeliveries,
          dedupeWindowMs: config.store.dedupeWindowMs,
        })
      : undefined;
  const queue: DeliveryQueue = options.queue ?? ownQueue!;
  const subscriptions =
    options.subscriptions ??
    createSubscriptionRegistry(
      { configured: config.subscriptions, store: createMemorySubscriptionStore(), logger },
      [],
    );
  const metrics = createGatewayMetrics({
    queueDepth: () => queue.size(),
    known: (id) => subscriptions.get(id) !== undefined,
  });
  // Passed on as given: without one, each part takes the global tracer and skips spans while no
  // tracing SDK is registered (see `tracingSwitch`); a tracer passed in always records.
  const { tracer } = options;
  const deliverer = createTracedDeliverer(
    createHttpDeliverer({ client: sinkClient, clock, maxReplyBytes: config.limits.maxEventBytes }),
    { metrics, tracer },
  );
  const acceptEvents = createAcceptor(() => subscriptions.matcher(), queue);
  /**
   * Events of the gateway's own, made while settling a delivery (replies, receipts): accepted like
   * published ones, durably, but never held back by back-pressure or the drain (`settling`), and
   * counted like them (`herald_events_accepted_total` counts events stored, a reply the store
   * already had is a duplicate).
   */
  const acceptOwn = async (events: readonly CloudEvent[]) => {
    const result = await acceptEvents(events, { settling: true });
    metrics.accepted(result.events, result.duplicates);
    return result;
  };
  const emit = async (events: readonly CloudEvent[]) => {
    await acceptOwn(events);
  };
  // Set once `stop()` gave up on the deliveries in flight (the drain deadline): their jobs stay
  // leased, however the attempts cut short by the closed connections end.
  let cutShort = false;
  const dispatcher = createDispatcher({
    queue,
    deliverer,
    subscriptions: (id) => subscriptions.get(id),
    disabled: disabledOutcomes(subscriptions),
    logger,
    metrics,
    clock,
    sinkClient,
    concurrency: config.limits.maxDeliveriesInFlight,
    // A lease must outlast the longest hold of a job (timeout, batch wait, handshake); API
    // subscriptions and reloads can bring any of them, so size it for the longest allowed.
    leaseMs: LEASE_MS,
    settle: createSettle({
      queue,
      deliverer,
      logger,
      clock,
      metrics,
      ingestReply: createReplyIngest({ limits: config.limits, accept: acceptOwn, clock }),
      emit,
      ...(options.random ? { random: options.random } : {}),
      // 410 Gone: the sink says it will never take events again (DESIGN.md "Delivery semantics").
      onGone: disableOnGone({ registry: subscriptions, emit, clock }),
      cutShort: () => cutShort,
    }),
  });
  // Jobs the dispatcher already holds follow a change of their subscription at once, and the
  // metric series of a subscription that went (DELETE, a reload, another replica) go with it.
  // The registry names the ids that went: comparing the whole set before and after made every
  // create cost a walk over all subscriptions (creating N of them, N² steps).
  subscriptions.onChange?.((gone) => {
    dispatcher.subscriptionsChanged();
    for (const id of gone) metrics.forgetSubscription(id);
  });
  let accepting = true;
  const gate = createPublishGate();

  const app = new Hono();
  // Probes answer what is true now: no cache between a load balancer and the gateway may keep
  // an answer (a "ready" kept through a shutdown, a "stopping" after the restart).
  const probe = { "cache-control": "no-store" };
  app.get("/healthz", (c) => c.json({ status: "ok" }, 200, probe));
  app.get("/readyz", (c) => {
    if (!accepting) return c.json({ status: "stopping" }, 503, probe);
    if (options.storeAvailable?.() === false) {
      return c.json({ status: "store unavailable" }, 503, probe);
    }
    return c.json({ status: "ready" }, 200, probe);
  });
  const auth =
    config.auth !== undefined && options.noAuth !== true
      ? createPublisherAuth(config.auth, {
          clock,
          logger,
          ...(options.keySourceFor ? { keySourceFor: options.keySourceFor } : {}),
          ...(options.tokenDigest ? { tokenDigest: options.tokenDigest } : {}),
        })
      : undefined;
  // What both publish routes (POST /events, POST /webhooks/{id}) share.
  const publishing = {
    limits: config.limits,
    auth,
    clock,
    accept: acceptEvents,
    gate,
    logger,
    metrics,
    tracer,
  };
  const ingest = createIngestHandler({
    ...publishing,
    logPayloads: options.logPayloads === true,
  });
  mountIngest(app, ingest);
  const adapters = createWebhookAdapters(config.adapters, {
    fetch: options.webhookFetch ?? options.fetch ?? ((request) => fetch(request)),
    logger,
  });
  mountWebhooks(app, createWebhookHandler({ adapters, ...publishing }), adapters);
  app.get("/openapi.json", (c) => c.json(OPENAPI_DOCUMENT));
  for (const path of ["/healthz", "/readyz", "/openapi.json"]) {
    app.options(path, (c) => answerAllow(c, READ_ALLOW));
    app.all(path, (c) => {
      throw new MethodNotAllowed(c.req.method, READ_ALLOW);
    });
  }
  for (const path of ADMIN_PATHS) app.use(path, requireAdmin(auth, config.auth?.admins ?? []));
  app.get("/metrics", async (c) =>
    c.body(await metrics.render(), 200, {
      "content-type": "text/plain; version=0.0.4; charset=utf-8",
      "cache-control": "no-store",
    }),
  );
  app.options("/metrics", (c) => answerAllow(c, READ_ALLOW));
  app.all("/metrics", (c) => {
    throw new MethodNotAllowed(c.req.method, READ_ALLOW);
  });
  mountStoreBackup(app, {
    backup:
      options.backup ??
      unsupportedBackup(
        ownQueue === undefined
          ? "this gateway's store offers no backup through Herald; use the store's own backup"
          : "the memory store keeps nothing on disk, so there is nothing to back up (everything queued is lost when the gateway stops); use store: sqlite for a store that can be backed up",
      ),
    clock,
    logger,
  });
  mountSubscriptionApi(app, {
    registry: subscriptions,
    queue,
    logger,
    ...(options.newSubscriptionId ? { newId: options.newSubscriptionId } : {}),
  });
  app.notFound((c) =>
    problemResponse(new NotFound(`no route for ${c.req.method} ${new URL(c.req.url).pathname}`)),
  );
  function problem(err: unknown, method: string, path: string): ProblemParts {
    if (err instanceof HeraldError) {
      // The detail is what the client is told anyway (never a token or a secret): why it was
      // refused (an expired token, a bad signature, which attribute) is what an operator asks.
      logger.debug("request refused", {
        method,
        path,
        status: err.status,
        code: err.code,
        detail: err.message,
      });
    }
    return problemParts(err, (e) =>
      logger.error("unexpected error while handling a request", {
        method,
        path,
        error: e instanceof Error ? e.message : String(e),
      }),
    );
  }
  app.onError((err, c) => {
    const { status, headers, body } = problem(err, c.req.method, c.req.path);
    return new Response(body, { status, headers });
  });

  return {
    app,
    fetch: async (request) => app.fetch(request),
    ingest,
    problem,
    start: () => {
      dispatcher.start();
      // Not awaited: the gateway answers (and /readyz says ready) while the keys are fetched; a
      // JWKS URL that cannot be reached is logged now rather than at the first token.
      void auth?.warmUp();
    },
    async stop() {
      accepting = false;
      const startedAt = Date.now();
      // New publish requests get 503 now; those already in (a body still arriving) may finish
      // within the drain deadline (202 once stored), or are cut with 503 at it; those storing
      // are waited for, so the store is never closed under an accepted event.
      // Publishers still waiting for queue room then are refused too (503), not let in after
      // the drain.
      await gate.close(drainMs, () => ownQueue?.stopAccepting("the gateway is shutting down"));
      // The in-memory queue cannot persist work, so drain it (bounded) before stopping; a durable
      // queue keeps it for the next start, so only in-flight attempts are waited for.
      let drained = true;
      if (ownQueue !== undefined) {
        let timer: ReturnType<typeof setTimeout> | undefined;
        drained = await Promise.race([
          dispatcher.idle().then(() => true),
          new Promise<boolean>((resolve) => {
            timer = setTimeout(
              () => resolve(false),
              Math.max(0, drainMs - (Date.now() - startedAt)),
            );
          }),
        ]);
        clearTimeout(timer);
      }
      // The whole shutdown stays within drainMs, however slow a sink is.
      await dispatcher.stop({ deadlineMs: Math.max(0, drainMs - (Date.now() - startedAt)) });
      cutShort = true;
      if (ownQueue !== undefined && !drained) {
        const left = await queue.size();
        // The memory queue ends with the process: these accepted events are lost, which a person
        // must hear about (DESIGN.md: never silently dropped).
        if (left > 0) {
          logger.error(
            "stopped with deliveries still queued: the memory store loses them (store: sqlite keeps them for the next start)",
            { queued: left },
          );
        }
      }
    },
    idle: () => dispatcher.idle(),
    subscriptions,
    metrics,
  };
}
