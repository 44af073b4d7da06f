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

/** How a subscription's events reach its sink (modelled on Knative's DeliverySpec). */
export interface DeliverySettings {
  readonly mode: "binary" | "structured";
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
  /** Standard Webhooks signing secret, `whsec_` followed by base64, as written. */
  readonly signingSecret?: string;
}

/** Delivery defaults used when a subscription leaves them out. */
export const DEFAULT_DELIVERY: DeliverySettings = { mode: "binary", timeoutMs: 5_000 };
