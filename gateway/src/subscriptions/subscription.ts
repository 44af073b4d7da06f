/**
 * A subscription in the CloudEvents Subscriptions API resource shape (subscriptions/spec.md,
 * section 3.2), plus Herald's `delivery` settings. This is the *normalised* form: config loading
 * and the API validate input once and produce this; the matcher and the deliverer trust it.
 */
export interface Subscription {
  readonly id: string;
  /** Exact match on the event's `source` when present. */
  readonly source?: string;
  /** The event's `type` must be one of these when present (non-empty). */
  readonly types?: readonly string[];
  /**
   * Subscriptions API 3.2.1 `config`: manager-defined settings, kept and shown as given (never
   * empty here). Herald acquires no events, so none of them changes what it does.
   */
  readonly config?: Readonly<Record<string, unknown>>;
  /** ANDed; an empty list matches every event. */
  readonly filters: readonly Filter[];
  /** Absolute http(s) URL. */
  readonly sink: string;
  readonly protocol: "HTTP";
  readonly protocolsettings: { readonly headers: Readonly<Record<string, string>> };
  readonly delivery: DeliverySettings;
}

/** Filter dialects of Subscriptions API 3.2.4 (`sql` is a CESQL v1.0.0 expression, see `cesql/`). */
export type Filter =
  | { readonly exact: Readonly<Record<string, string>> }
  | { readonly prefix: Readonly<Record<string, string>> }
  | { readonly suffix: Readonly<Record<string, string>> }
  | { readonly all: readonly Filter[] }
  | { readonly any: readonly Filter[] }
  | { readonly not: Filter }
  | { readonly sql: string };

/** A rate: at most `count` in any `perMs` milliseconds (a sliding window: `createRateWindow`). */
export interface DeliveryRate {
  readonly count: number;
  readonly perMs: number;
}

/** How a subscription's events reach its sink (modelled on Knative's DeliverySpec). */
export interface DeliverySettings {
  /**
   * HTTP binding content mode: one event per request in binary or structured mode, or several per
   * request in batch mode (`application/cloudevents-batch+json`, HTTP binding 3.3).
   */
  readonly mode: "binary" | "structured" | "batch";
  /** Batch mode: most events in one request (default `DEFAULT_MAX_BATCH_SIZE`). */
  readonly maxBatchSize?: number;
  /** Batch mode: longest wait for a batch to fill, in milliseconds (default `DEFAULT_MAX_BATCH_WAIT_MS`). */
  readonly maxBatchWaitMs?: number;
  /** Requests in flight to this sink at once (default `DEFAULT_SINK_CONCURRENCY`). */
  readonly concurrency?: number;
  /** Most requests to this sink per time (absent: no limit). */
  readonly rate?: DeliveryRate;
  /**
   * Send the CloudEvents webhook abuse-protection handshake (`OPTIONS`, http-webhook.md 4)
   * before the first delivery, and obey the `WebHook-Allowed-Rate` it answers.
   */
  readonly handshake?: boolean;
  /** Per-attempt timeout in milliseconds. */
  readonly timeoutMs: number;
  /** Retries after the first attempt (absent: the deliverer's default). */
  readonly retry?: number;
  /** How the wait grows between retries (full jitter, capped by `backoffMaxMs`). */
  readonly backoffPolicy?: "exponential" | "linear";
  /** Base wait before the first retry, in milliseconds. */
  readonly backoffDelayMs?: number;
  /** Longest wait between two attempts, in milliseconds (never below `backoffDelayMs`). */
  readonly backoffMaxMs?: number;
  /** Absolute http(s) URL that receives events once retries are exhausted. */
  readonly deadLetterSink?: string;
  /**
   * Standard Webhooks signing secrets, `whsec_` followed by base64, as written: several separated
   * by spaces while a secret is rotated (each one signs).
   */
  readonly signingSecret?: string;
  /**
   * Reply events (Knative's model): deliveries send `Prefer: reply`, and a CloudEvent the sink
   * answers with (200/201, binary or structured) is ingested when its `source` and `type` match
   * these globs (absent: any). Binary and structured mode only.
   */
  readonly reply?: ReplyPolicy;
  /**
   * Emit a delivery receipt event (`dev.herald.delivery.succeeded`, `.failed`,
   * `dev.herald.subscription.disabled`) into the gateway's own flow for each final outcome.
   */
  readonly receipts?: boolean;
}

/** Which reply events a subscription's sink may produce (globs: `*` is any run of characters). */
export interface ReplyPolicy {
  readonly sources?: readonly string[];
  readonly types?: readonly string[];
}

/** Retries after the first attempt when a subscription does not say (`delivery.retry`). */
export const DEFAULT_RETRY = 3;
/** Backoff when a subscription does not say. */
export const DEFAULT_BACKOFF_POLICY = "exponential";
export const DEFAULT_BACKOFF_DELAY_MS = 500;
export const DEFAULT_BACKOFF_MAX_MS = 60_000;
/** Batch mode defaults. */
export const DEFAULT_MAX_BATCH_SIZE = 100;
export const DEFAULT_MAX_BATCH_WAIT_MS = 1_000;
/** Requests in flight to one sink when a subscription does not say. */
export const DEFAULT_SINK_CONCURRENCY = 16;

/** Delivery defaults used when a subscription leaves them out. */
export const DEFAULT_DELIVERY: DeliverySettings = { mode: "binary", timeoutMs: 5_000 };
