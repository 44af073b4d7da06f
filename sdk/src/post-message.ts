import { backoffDelay, type RetrySettings } from "./backoff.js";
import type { Message } from "./encode-message.js";
import { errorFromResponse, isRetryableStatus, readAnswer } from "./error-from-response.js";
import { type HeraldError, NetworkFailed, RetryLater, TimedOut } from "./errors.js";
import { isBearerToken } from "./producer-options.js";

/** How a producer talks to the gateway: everything fixed at `createProducer`. */
export interface Transport {
  readonly endpoint: string;
  readonly fetch: typeof fetch;
  /** Sent with every request (the producer's `headers`). */
  readonly headers: Readonly<Record<string, string>>;
  /** The bearer token for one attempt, if any (asked again on every attempt). */
  readonly token: (() => string | Promise<string>) | undefined;
  readonly timeoutMs: number;
  readonly retry: RetrySettings;
  readonly random: () => number;
  readonly now: () => number;
  readonly sleep: (ms: number) => Promise<void>;
}

/** `promise`, or a rejection with the signal's reason when it aborts first. */
function orAbort<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  let abort = () => {};
  const aborted = new Promise<never>((_, reject) => {
    abort = () => reject(signal.reason);
    signal.addEventListener("abort", abort, { once: true });
  });
  // Settled either way, the listener goes: the signal lives on in the attempt's fetch.
  return Promise.race([promise, aborted]).finally(() => signal.removeEventListener("abort", abort));
}

/**
 * Why a request got no answer, from the error and its causes: `fetch` says only "fetch failed",
 * and what went wrong ("connect ECONNREFUSED 127.0.0.1:8080", "getaddrinfo ENOTFOUND ...") is in
 * its `cause`. An error without a message (Node's AggregateError) gives its `code`.
 */
function reasonOf(err: unknown): string {
  const parts: string[] = [];
  let at = err;
  for (let depth = 0; at !== undefined && at !== null && depth < 4; depth++) {
    const { message, code, cause } = at as { message?: unknown; code?: unknown; cause?: unknown };
    // A message or code that is an empty string says nothing either.
    const text = typeof message === "string" && message ? message : code;
    if (typeof text === "string" && text && !parts.includes(text)) parts.push(text);
    else if (depth === 0) parts.push(String(at));
    at = cause;
  }
  return parts.join(": ");
}

/** What a token function gave, for a message that does not print a secret. */
function describe(value: unknown): string {
  if (typeof value !== "string") return value === null ? "null" : typeof value;
  return value === "" ? "an empty string" : "a string with other characters";
}

/**
 * The token function's bearer token for one attempt, within the attempt's `signal`. What it gives
 * is checked as a string `token` is (a `TypeError` otherwise, not retried); its own error is
 * thrown as it is; `TimedOut` when it has not settled by the timeout.
 */
async function tokenOf(
  token: () => string | Promise<string>,
  signal: AbortSignal,
  timeoutMs: number,
): Promise<string | TimedOut> {
  let value: unknown;
  try {
    value = await orAbort(Promise.resolve().then(token), signal);
  } catch (err) {
    if (err !== signal.reason) throw err;
    return new TimedOut(`the token function did not settle within ${timeoutMs} ms`, { cause: err });
  }
  if (!isBearerToken(value)) {
    throw new TypeError(
      `the token function gave ${describe(value)}; it must give a non-empty string of visible ASCII (no spaces)`,
    );
  }
  return value;
}

async function attempt(
  transport: Transport,
  message: Message,
  extra: Readonly<Record<string, string>>,
): Promise<HeraldError | undefined> {
  const headers: Record<string, string> = { ...transport.headers, ...extra, ...message.headers };
  // One signal per attempt, token included: a token function that never settles must not hang it.
  const signal = AbortSignal.timeout(transport.timeoutMs);
  if (transport.token !== undefined) {
    const token = await tokenOf(transport.token, signal, transport.timeoutMs);
    if (token instanceof TimedOut) return token;
    headers.authorization = `Bearer ${token}`;
  }
  let response: Response;
  // Called unbound: a user's `fetch` may be Workers' own, which refuses any other `this`.
  const send = transport.fetch;
  try {
    response = await send(transport.endpoint, {
      method: "POST",
      headers,
      body: (message.body ?? null) as BodyInit | null,
      // A followed 301/302/303 turns the POST into a GET without the body: the event would be
      // lost and the GET's 2xx taken for an acceptance. A redirect is an error instead.
      redirect: "manual",
      // One signal per request: Node's fetch never removes its listener from the signal it is
      // given, so a signal shared by many requests collects listeners (and warnings).
      signal,
    });
  } catch (err) {
    const name = (err as { name?: unknown } | null)?.name;
    return name === "TimeoutError" || name === "AbortError"
      ? new TimedOut(`no answer from ${transport.endpoint} within ${transport.timeoutMs} ms`, {
          cause: err,
        })
      : new NetworkFailed(`cannot reach ${transport.endpoint}: ${reasonOf(err)}`, { cause: err });
  }
  if (response.ok) {
    // Reading the (short) body to its end hands the connection back to the pool for reuse; a
    // long one is cut off at the cap and cancelled, as an error's is.
    await readAnswer(response);
    return undefined;
  }
  return errorFromResponse(response, transport.now());
}

/**
 * Posts `message` to the gateway, retrying 408, 429, 5xx, network errors and timeouts with
 * capped exponential backoff and full jitter, or after `Retry-After` when the gateway says how
 * long. The message (so each event's `id`) is the same on every attempt: the gateway's dedupe on
 * `source` + `id` makes a retry of an event that was in fact stored harmless. Other refusals are
 * thrown at once. Resolves when the gateway answered 2xx; rejects with a `HeraldError`.
 *
 * @example
 * await postMessage(transport, encodeBinary(envelope), {});
 */
export async function postMessage(
  transport: Transport,
  message: Message,
  extraHeaders: Readonly<Record<string, string>>,
): Promise<void> {
  const { retry } = transport;
  for (let retried = 0; ; retried++) {
    const error = await attempt(transport, message, extraHeaders);
    if (error === undefined) return;
    const retryable =
      error instanceof NetworkFailed ||
      error instanceof TimedOut ||
      isRetryableStatus(error.status);
    if (!retryable || retried >= retry.retries) throw error;
    const retryAfterMs = error instanceof RetryLater ? error.retryAfterMs : undefined;
    if (retryAfterMs !== undefined && retryAfterMs > retry.maxRetryAfterMs) throw error;
    await transport.sleep(retryAfterMs ?? backoffDelay(retried, retry, transport.random));
  }
}
