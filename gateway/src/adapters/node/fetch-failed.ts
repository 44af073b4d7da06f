import { describeError } from "../../deliver/failure-text.js";
import { SinkNetworkError } from "../../deliver/sink-error.js";

/**
 * A `SinkNetworkError` with the same text as `fetch`'s network errors, so outcomes read alike
 * whichever client sent.
 *
 * @example
 * fetchFailed(err).message; // "fetch failed: connect ECONNREFUSED 127.0.0.1:9"
 */
export function fetchFailed(cause: unknown): SinkNetworkError {
  return new SinkNetworkError(`fetch failed: ${describeError(cause)}`, { cause });
}
