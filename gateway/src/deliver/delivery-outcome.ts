/**
 * The result of one delivery attempt, as a value (never an exception):
 * - `delivered`: the sink answered 2xx; with `reply` when it answered a CloudEvent to a delivery
 *   that asked for one (`Prefer: reply`);
 * - `retry`: a transient failure (408, 429, 5xx, network error, timeout); `retryAfterMs` when the
 *   sink said so with `Retry-After`;
 * - `dead`: a permanent failure (other 4xx, or a request that cannot be built).
 * `status` is the HTTP status, 0 for network errors and timeouts; `failure` then says which
 * (the `error.type` of the delivery span).
 */
export type DeliveryOutcome =
  | { readonly kind: "delivered"; readonly status: number; readonly reply?: SinkReply }
  | {
      readonly kind: "retry";
      readonly status: number;
      readonly error: string;
      readonly retryAfterMs?: number;
      readonly failure?: NoAnswer;
    }
  | {
      readonly kind: "dead";
      readonly status: number;
      readonly error: string;
      readonly failure?: NoAnswer;
    };

/**
 * Why an attempt got no HTTP answer: the sink did not answer within the delivery timeout, the
 * exchange failed (connection refused or reset, name not resolved), or the request could not
 * be built.
 */
export type NoAnswer = "timeout" | "network" | "request";

/**
 * What a sink answered to a delivery sent with `Prefer: reply` when the answer looks like a
 * CloudEvent (a `ce-specversion` header, or a CloudEvents content type): the raw message, parsed
 * and checked later exactly like a published one.
 */
export interface SinkReply {
  readonly status: number;
  /** A header by lower-case name; repeated fields joined with ", ". */
  header(name: string): string | undefined;
  forEachHeader(fn: (value: string, name: string) => void): void;
  /** The body as received. */
  readonly body: Uint8Array;
  /** Whether `body` is the whole body (false: larger than the reply limit, or broken off). */
  readonly complete: boolean;
}

/**
 * The outcome of a job whose subscription is disabled (its sink answered 410 Gone): it is not
 * sent, and ends as the 410 did (dead-letter sink, or kept as dead for a redrive once the
 * subscription is updated), instead of knocking on a sink that said it is gone.
 */
export const DISABLED_OUTCOME: DeliveryOutcome = {
  kind: "dead",
  status: 410,
  error:
    "not sent: the subscription is disabled because its sink answered 410 Gone; update it to enable it, then redrive",
};

/**
 * The outcome of a job whose subscription is disabled, by why: `DISABLED_OUTCOME` after a 410,
 * or, for a stored subscription this Herald cannot use, dead with status 0 and that reason (no
 * sink answered anything; a redrive after the fixing `PUT` sends it).
 *
 * @example
 * outcomeWhenDisabled(registry.find(id)?.disabled);
 */
export function outcomeWhenDisabled(
  state: { readonly reason: string; readonly unusable?: true } | undefined,
): DeliveryOutcome {
  if (state?.unusable !== true) return DISABLED_OUTCOME;
  return { kind: "dead", status: 0, error: `not sent: ${state.reason}, then redrive` };
}

/**
 * The `disabled` option of the dispatcher and the Workers queue consumer over a subscription
 * registry: a disabled subscription's jobs settle as `outcomeWhenDisabled` says; the state is
 * looked up only for one that is disabled (a map check per attempt for the rest).
 *
 * @example
 * createDispatcher({ ..., disabled: disabledOutcomes(registry) });
 */
export function disabledOutcomes(registry: {
  isDisabled(id: string): boolean;
  find(
    id: string,
  ): { readonly disabled?: { readonly reason: string; readonly unusable?: true } } | undefined;
}): (id: string) => DeliveryOutcome | undefined {
  return (id) =>
    registry.isDisabled(id) ? outcomeWhenDisabled(registry.find(id)?.disabled) : undefined;
}
