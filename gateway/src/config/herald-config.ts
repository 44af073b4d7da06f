import type { Subscription } from "../subscriptions/subscription.js";
import type { AdapterConfig } from "../webhooks/adapter-config.js";
import type { AuthConfig } from "./auth-config.js";

/**
 * The normalised gateway configuration (DESIGN.md "Config"). `config/load-config.ts` turns a file
 * (YAML or JSON) into this, with defaults applied and every field checked; the rest of the gateway
 * trusts it.
 */
export interface HeraldConfig {
  readonly listen: { readonly host: string; readonly port: number };
  readonly limits: Limits;
  readonly store: StoreConfig;
  /** Publisher authentication and authorisation; absent when the config has no `auth` section. */
  readonly auth?: AuthConfig;
  readonly subscriptions: readonly Subscription[];
  /** Foreign-payload adapters, served at `POST /webhooks/{id}` (see `webhooks/`). */
  readonly adapters: readonly AdapterConfig[];
}

export interface Limits {
  /** Largest single event in bytes (413 above it). */
  readonly maxEventBytes: number;
  /** Most events in one batch-mode request (413 above it). */
  readonly maxBatchEvents: number;
  /**
   * Largest batch-mode request body in bytes (413 above it); a batch is parsed only after this
   * check. Never below `maxEventBytes`: a batch of one event of the largest size must fit.
   */
  readonly maxBatchBytes: number;
  /**
   * Deliveries in flight at once, over all subscriptions, to sinks that answer within a second;
   * slower ones count apart (see `createAttemptPools`), so hanging sinks cannot take them all.
   */
  readonly maxDeliveriesInFlight: number;
  /**
   * Deliveries the in-memory queue holds; beyond it, ingest waits for room, then answers 503
   * (backpressure instead of unbounded memory).
   */
  readonly maxQueuedDeliveries: number;
  /**
   * Most reply hops (`heraldhops`): a reply whose hop count would pass it is not ingested and the
   * event that caused it is dead-lettered (loop protection).
   */
  readonly maxReplyHops: number;
}

export type StoreConfig = (
  | { readonly kind: "memory" }
  | { readonly kind: "sqlite"; readonly path: string }
  | NatsStoreConfig
) & {
  /**
   * How long a `source` + `id` pair is remembered: a second event with the same pair within it is
   * acknowledged (202) and not delivered again (DESIGN.md "Attributes").
   */
  readonly dedupeWindowMs: number;
};

/** `store: { kind: nats }`: JetStream, shared by any number of gateway replicas. */
export interface NatsStoreConfig {
  readonly kind: "nats";
  /** One server URL or a list (the client fails over between them). */
  readonly url: string | readonly string[];
  readonly stream: string;
  /** Copies of the streams and the bucket in a JetStream cluster (1 to 5; default 1). */
  readonly replicas?: number;
  /** The consumers' `ack_wait`: how soon a crashed replica's jobs go to the others (default 30 s). */
  readonly ackWaitMs?: number;
  /**
   * How long `herald serve` keeps trying at start while NATS is not reachable or JetStream not
   * ready (a cluster electing its leader); 0 fails at once (default 30 s).
   */
  readonly startupWaitMs?: number;
  /** A NATS `.creds` file (user JWT and nkey seed), relative to the config file's folder. */
  readonly credentials?: string;
  readonly user?: string;
  readonly password?: string;
  readonly token?: string;
}

export const DEFAULT_LIMITS: Limits = {
  maxEventBytes: 262_144,
  maxBatchEvents: 100,
  maxBatchBytes: 1_048_576,
  // Measured on loopback (bench/): more parallel deliveries cost throughput without helping a
  // fast sink; 32 keeps slow sinks busy enough.
  maxDeliveriesInFlight: 32,
  maxQueuedDeliveries: 10_000,
  maxReplyHops: 8,
};
export const DEFAULT_LISTEN = { host: "127.0.0.1", port: 8080 } as const;
/** Database file of `store: { kind: sqlite }` when `path` is left out. */
export const DEFAULT_SQLITE_PATH = ".herald/herald.db";
/** `store.dedupeWindow` when left out: 24 hours. */
export const DEFAULT_DEDUPE_WINDOW_MS = 86_400_000;
/** The store when the config names none: SQLite under `.herald/`, durable (DESIGN.md). */
export const DEFAULT_STORE: StoreConfig = {
  kind: "sqlite",
  path: DEFAULT_SQLITE_PATH,
  dedupeWindowMs: DEFAULT_DEDUPE_WINDOW_MS,
};
/** JetStream stream of `store: { kind: nats }` when `stream` is left out. */
export const DEFAULT_NATS_STREAM = "herald";
