import type { DeliveryRate, Subscription } from "../subscriptions/subscription.js";
import { describeError } from "./failure-text.js";
import { parseRetryAfter } from "./retry-after.js";
import type { SinkClient } from "./sink-client.js";

/**
 * What a sink answered to the abuse-protection handshake (http-webhook.md 4.2): allowed, with the
 * rate it grants (`undefined`: no limit), or refused with a text for people that names the
 * answer's status and why, `retryAfterMs` when the refusal said when to ask again (`Retry-After`,
 * e.g. with a 429 or a 503), and `status` as the failure shows it (`heralderrorcode`, the dead
 * set): the answer's status when it is a failure status, 0 when there was no answer or it was a
 * 2xx (see `refusalStatus`).
 */
export type HandshakeResult =
  | { readonly allowed: true; readonly rate: DeliveryRate | undefined }
  | {
      readonly allowed: false;
      readonly status: number;
      readonly error: string;
      readonly retryAfterMs?: number;
    };

/** Asks a subscription's sink for permission to deliver (http-webhook.md 4.1). Never rejects. */
export type WebhookHandshake = (subscription: Subscription) => Promise<HandshakeResult>;

export interface WebhookHandshakeOptions {
  readonly client: SinkClient;
  /** `WebHook-Request-Origin`: names the sending system, not a host (4.1.2), e.g. "herald". */
  readonly origin: string;
  /** Epoch milliseconds, for a `Retry-After` given as an HTTP date (default `Date.now`). */
  readonly now?: () => number;
}

// 4.1.4 and 4.2.2: rates are "requests per minute".
const MINUTE_MS = 60_000;
const POSITIVE_INTEGER = /^[1-9][0-9]*$/;

/**
 * The status a refusal ends with: a 2xx answer refused only through its headers (no or another
 * `WebHook-Allowed-Origin`, an invalid `WebHook-Allowed-Rate`), and `heralderrorcode` 200 would
 * tell an operator the sink said OK; DESIGN.md's code is an HTTP status, 0 where there is none
 * that failed (network errors, timeouts), so such a refusal is 0 and its text says why. A
 * failure status (3xx, 4xx, 5xx: 405 for a sink that takes no `OPTIONS`) is kept.
 */
function refusalStatus(status: number): number {
  return status >= 200 && status <= 299 ? 0 : status;
}

/** `WebHook-Request-Rate` for a subscription's own rate, in requests per minute (at least 1). */
function requestRate(rate: DeliveryRate | undefined): string | undefined {
  if (rate === undefined) return undefined;
  return String(Math.max(1, Math.floor((rate.count * MINUTE_MS) / rate.perMs)));
}

/**
 * The sender side of the CloudEvents webhook handshake (http-webhook.md 4): an `OPTIONS` request
 * to the sink with `WebHook-Request-Origin` (4.1.2) and, when the subscription has a `rate`,
 * `WebHook-Request-Rate` in requests per minute (4.1.4). Consent is the `WebHook-Allowed-Origin`
 * header naming the origin or `*` (4.2.1), whatever the status: 4.2 says a handshake "cannot rely
 * on status codes". `WebHook-Allowed-Rate` (4.2.2) is `*` or absent for no limit, or requests per
 * minute (granted as at most that many in any minute); any other value is a refusal, as is no
 * answer at all (status 0; a refused 2xx is 0 as well, see `refusalStatus`). A refusal without consent keeps the answer's `Retry-After`, so the
 * retry waits as long as the sink asked. Callback consent (4.1.3) is not supported: no callback
 * is offered.
 *
 * @example
 * const handshake = createWebhookHandshake({ client: createNodeSinkClient(), origin: "herald" });
 * const result = await handshake(subscription);
 * if (!result.allowed) console.warn(result.status, result.error);
 */
export function createWebhookHandshake(options: WebhookHandshakeOptions): WebhookHandshake {
  const { client, origin, now = Date.now } = options;
  if (typeof client?.send !== "function") {
    throw new TypeError("createWebhookHandshake: client must be a SinkClient");
  }
  if (typeof origin !== "string" || !/^[\x21-\x7e]+$/.test(origin)) {
    throw new TypeError(
      "createWebhookHandshake: origin must be a non-empty token, e.g. a DNS name",
    );
  }
  return async function webhookHandshake(subscription) {
    const rate = requestRate(subscription.delivery.rate);
    const headers: Record<string, string> = { "webhook-request-origin": origin };
    if (rate !== undefined) headers["webhook-request-rate"] = rate;
    let answer: Awaited<ReturnType<SinkClient["send"]>>;
    try {
      answer = await client.send(
        { url: subscription.sink, method: "OPTIONS", headers, body: undefined },
        subscription.delivery.timeoutMs,
      );
    } catch (err) {
      return {
        allowed: false,
        status: 0,
        error: `webhook handshake failed: ${describeError(err)}`,
      };
    }
    const status = refusalStatus(answer.status);
    const allowedOrigin = answer.header("webhook-allowed-origin")?.trim();
    if (allowedOrigin === undefined) {
      const error = `webhook handshake refused: status ${answer.status} without WebHook-Allowed-Origin`;
      // A sink that is busy or down may say when to ask again; the retry waits for it as a
      // delivery's would.
      const retryAfterMs = parseRetryAfter(answer.retryAfter, now());
      return retryAfterMs === undefined
        ? { allowed: false, status, error }
        : { allowed: false, status, error, retryAfterMs };
    }
    // Origin names are DNS-like names: compared without regard to case.
    if (allowedOrigin !== "*" && allowedOrigin.toLowerCase() !== origin.toLowerCase()) {
      return {
        allowed: false,
        status,
        error: `webhook handshake refused: status ${answer.status} with WebHook-Allowed-Origin ${JSON.stringify(allowedOrigin)}, which does not allow ${JSON.stringify(origin)}`,
      };
    }
    const allowedRate = answer.header("webhook-allowed-rate")?.trim();
    if (allowedRate === undefined || allowedRate === "*") return { allowed: true, rate: undefined };
    if (!POSITIVE_INTEGER.test(allowedRate) || !Number.isSafeInteger(Number(allowedRate))) {
      return {
        allowed: false,
        status,
        error: `webhook handshake refused: status ${answer.status} with an invalid WebHook-Allowed-Rate ${JSON.stringify(allowedRate)} (a positive integer or *)`,
      };
    }
    return { allowed: true, rate: { count: Number(allowedRate), perMs: MINUTE_MS } };
  };
}
