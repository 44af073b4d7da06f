/** Socket errors of a server that is not up (yet), or a name that does not resolve (yet). */
const NETWORK_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "EPIPE",
  "ENOTFOUND",
  "EAI_AGAIN",
]);

const TRANSIENT_MESSAGE =
  /^(timeout|connection refused)$|temporarily unavailable|no responders|no suitable peers for placement/i;

/**
 * Whether opening the store may work if tried again shortly: the server is not listening yet, a
 * request timed out or found no responder (JetStream still starting, a cluster electing its meta
 * leader), JetStream said it is temporarily unavailable, or it found no peers to place a stream's
 * replicas on (a new cluster whose servers have not all joined the meta group yet; one that never
 * will, such as `replicas: 3` on one server, fails once `startupWait` is up). Wrong credentials,
 * TLS refused, a JetStream without the account enabled and settings JetStream refuses are not:
 * trying again changes nothing. Looks through `cause`s.
 *
 * @example
 * isTransientNatsError(new Error("cannot reach NATS", { cause: refused })); // true
 */
export function isTransientNatsError(err: unknown): boolean {
  for (let e = err, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    const { name, message } = e;
    const code = (e as { code?: unknown }).code;
    if (typeof code === "string" && NETWORK_CODES.has(code)) return true;
    if (name === "TimeoutError" || name === "NoRespondersError") return true;
    if (name === "JetStreamApiError" && (e as { status?: unknown }).status === 503) return true;
    if (TRANSIENT_MESSAGE.test(message)) {
      return true;
    }
  }
  return false;
}
