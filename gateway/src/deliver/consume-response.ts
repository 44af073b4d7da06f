import { DRAIN_LIMIT } from "./sink-client.js";

/**
 * Reads a response body to its end so a keep-alive connection can carry the next request,
 * keeping the first `keepBytes` bytes (`complete` when that is the whole body). A body larger than `drainLimit` is cancelled instead (the
 * connection is then closed, which costs less than reading an unbounded body), and a body that
 * fails half-way (reset, timeout) ends the read: the status line has already said what happened.
 * Never throws.
 *
 * @example
 * const { head } = await consumeResponse(response, 1024); // first KiB, for the failure text
 */
export async function consumeResponse(
  response: Response,
  keepBytes: number,
  drainLimit: number = DRAIN_LIMIT,
): Promise<{ readonly head: Uint8Array; readonly complete: boolean }> {
  const body = response.body;
  if (body === null) return { head: new Uint8Array(0), complete: true };
  const kept = new Uint8Array(keepBytes);
  let keptLength = 0;
  let total = 0;
  let finished = false;
  const reader = body.getReader();
  try {
    while (total <= drainLimit) {
      const { done, value } = await reader.read();
      if (done) {
        finished = true;
        break;
      }
      const take = Math.min(value.length, keepBytes - keptLength);
      if (take > 0) kept.set(value.subarray(0, take), keptLength);
      keptLength += take;
      total += value.length;
    }
  } catch {
    // The body broke off; what was read so far is all there is.
  }
  if (!finished) {
    try {
      await reader.cancel();
    } catch {
      // Cancelling an errored stream rejects with its error; nothing more to do.
    }
  }
  reader.releaseLock();
  return { head: kept.subarray(0, keptLength), complete: finished && total === keptLength };
}
