/**
 * The result of one delivery attempt, as a value (never an exception):
 * - `delivered`: the sink answered 2xx;
 * - `retry`: a transient failure (408, 429, 5xx, network error, timeout); `retryAfterMs` when the
 *   sink said so with `Retry-After`;
 * - `dead`: a permanent failure (other 4xx, or a request that cannot be built).
 * `status` is the HTTP status, 0 for network errors and timeouts.
 */
export type DeliveryOutcome =
  | { readonly kind: "delivered"; readonly status: number }
  | {
      readonly kind: "retry";
      readonly status: number;
      readonly error: string;
      readonly retryAfterMs?: number;
    }
  | { readonly kind: "dead"; readonly status: number; readonly error: string };
