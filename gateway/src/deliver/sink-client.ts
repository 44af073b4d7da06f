import type { DeliveryMessage } from "./build-delivery-message.js";

/**
 * What a `SinkClient` sends: a delivery message (`POST`), or the bodiless `OPTIONS` request of
 * the CloudEvents webhook abuse-protection handshake (http-webhook.md 4.1).
 *
 * @example
 * const probe: SinkMessage = {
 *   url: subscription.sink,
 *   method: "OPTIONS",
 *   headers: { "webhook-request-origin": "herald" },
 *   body: undefined,
 * };
 */
export type SinkMessage =
  | DeliveryMessage
  | (Omit<DeliveryMessage, "method" | "body"> & {
      readonly method: "OPTIONS";
      readonly body: undefined;
    });

/**
 * Bytes of an answer's body a client reads at most; past that it closes the connection instead of
 * draining it (cheaper than reading an unbounded body).
 */
export const DRAIN_LIMIT = 64 * 1024;

/** What a sink answered, reduced to what a delivery outcome needs. */
export interface SinkAnswer {
  /** The HTTP status, as sent (redirects are answers, never followed). */
  readonly status: number;
  /** The `Retry-After` header as sent, `null` without one. */
  readonly retryAfter: string | null;
  /**
   * The start of the body, at most `MAX_ERROR_BYTES` (failure text); shorter when the body was,
   * or when it broke off or ran past the timeout.
   */
  readonly head: Uint8Array;
  /**
   * Whether `head` is the whole body: it was read to its end and fit in the bytes kept. A reply
   * event (`Prefer: reply`) is taken only from a complete body.
   */
  readonly complete: boolean;
  /**
   * A response header by name (case-insensitive), `null` when absent; several fields of one name
   * are joined with ", ". Read lazily: a delivery that never asks pays nothing for it (the
   * handshake reads `WebHook-Allowed-Origin` and `WebHook-Allowed-Rate`, http-webhook.md 4.2).
   */
  header(name: string): string | null;
  /** Calls `fn` for every response header field, name in lower case (a reply's `ce-*`). */
  forEachHeader(fn: (value: string, name: string) => void): void;
}

/**
 * The outbound port of delivery: sends one `DeliveryMessage` as it is and reports the answer. The
 * core has `createFetchSinkClient` (any Web `fetch`: Workers, tests); the Node adapter has
 * `createNodeSinkClient` (pooled keep-alive HTTP/1.1 over `node:net`, `node:https` for TLS, no
 * Web objects per delivery). Both pass `sink-client.case.ts`.
 *
 * Contract:
 * - the message goes out with its method (`POST`, or `OPTIONS` for the webhook handshake);
 * - `timeoutMs` bounds the whole exchange, from sending until the body has been read;
 * - the body is read to its end (kept: its first `MAX_ERROR_BYTES`), so a keep-alive connection
 *   can carry the next message; a body longer than `DRAIN_LIMIT`, one that breaks off or one still
 *   arriving at the timeout ends the read and its connection, and the answer resolves with what
 *   arrived: the status line has already said what happened;
 * - without an answer it rejects with a `SinkError`: `SinkTimeout` when the timeout passed,
 *   `SinkNetworkError` otherwise.
 *
 * @example
 * const answer = await client.send(buildDeliveryMessage(event, subscription), 5_000);
 * // { status: 503, retryAfter: "120", head: Uint8Array(19) [...], header: [Function] }
 * answer.header("content-type"); // "text/plain"
 */
export interface SinkClient {
  /**
   * `keepBytes` (default `MAX_ERROR_BYTES`) is how much of the body `head` keeps: more for a
   * delivery that expects a reply event. Bodies up to `max(DRAIN_LIMIT, keepBytes)` are read.
   */
  send(message: SinkMessage, timeoutMs: number, keepBytes?: number): Promise<SinkAnswer>;
}
