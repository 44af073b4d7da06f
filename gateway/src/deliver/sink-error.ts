/**
 * Why a `SinkClient` got no answer from a sink. Each subclass has a stable `code`, on the class
 * and on the instance; the message is the failure text a delivery outcome carries.
 *
 * @example
 * try {
 *   await client.send(message, 5_000);
 * } catch (err) {
 *   if (err instanceof SinkError && err.code === "sink_timeout") metrics.timeouts++;
 * }
 */
export abstract class SinkError extends Error {
  static readonly code: string = "sink_error";
  abstract readonly code: "sink_timeout" | "sink_network_error";
}

/**
 * The sink sent no answer within the delivery timeout.
 *
 * @example
 * new SinkTimeout(5_000).message; // "timeout after 5000ms"
 */
export class SinkTimeout extends SinkError {
  static override readonly code = "sink_timeout";
  readonly code = SinkTimeout.code;
  constructor(readonly timeoutMs: number) {
    super(`timeout after ${timeoutMs}ms`);
    this.name = "SinkTimeout";
  }
}

/**
 * The exchange failed before an answer arrived: the connection was refused or reset, the name
 * did not resolve, the URL cannot be sent to. The message reads like `fetch`'s network errors
 * (`fetch failed: connect ECONNREFUSED 127.0.0.1:9000`) whichever client carried the delivery;
 * `cause` is the underlying error.
 *
 * @example
 * new SinkNetworkError("fetch failed: connect ECONNREFUSED 127.0.0.1:9", { cause: err });
 */
export class SinkNetworkError extends SinkError {
  static override readonly code = "sink_network_error";
  readonly code = SinkNetworkError.code;
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "SinkNetworkError";
  }
}
