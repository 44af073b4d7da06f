import { type Clock, systemClock } from "../ports/clock.js";
import type { Subscription } from "../subscriptions/subscription.js";
import { buildBatchMessage } from "./build-batch-message.js";
import { buildDeliveryMessage, type DeliveryMessage } from "./build-delivery-message.js";
import { classifyStatus } from "./classify-status.js";
import type { Deliverer, DeliveryAttempt } from "./deliverer.js";
import type { DeliveryOutcome, SinkReply } from "./delivery-outcome.js";
import { bodyText, describeError, MAX_ERROR_BYTES, truncateUtf8 } from "./failure-text.js";
import { redactFailureText } from "./redact-secrets.js";
import { redirectText } from "./redirect-text.js";
import { parseRetryAfter } from "./retry-after.js";
import { createWebhookSigner, type WebhookSigner } from "./sign-webhook.js";
import type { SinkAnswer, SinkClient } from "./sink-client.js";
import { SinkTimeout } from "./sink-error.js";
import { webhookMessageId } from "./webhook-message-id.js";

export interface HttpDelivererOptions {
  /**
   * Outbound HTTP: the Node adapter's `createNodeSinkClient()`, or `createFetchSinkClient(fetch)`
   * over any Web `fetch` (Workers, a test double).
   */
  readonly client: SinkClient;
  /** Measures `Retry-After` dates and stamps `webhook-timestamp`; defaults to the system clock. */
  readonly clock?: Clock;
  /** Signs messages of subscriptions with a `signingSecret`; defaults to `createWebhookSigner()`. */
  readonly signer?: WebhookSigner;
  /**
   * `WebHook-Request-Origin` sent with every delivery of a subscription with `delivery.handshake`
   * (http-webhook.md 4.1.2: after the handshake the sender MUST send it on each delivery); the
   * same name the dispatcher's handshake uses (default "herald").
   */
  readonly origin?: string;
  /**
   * Largest reply event body kept from a sink, in bytes (the gateway passes
   * `limits.maxEventBytes`; default 262 144). A larger reply is incomplete and refused later.
   */
  readonly maxReplyBytes?: number;
}

/** Whether an answer carries a CloudEvent: binary mode, or a CloudEvents media type. */
function looksLikeEvent(answer: SinkAnswer): boolean {
  if (answer.header("ce-specversion") !== null) return true;
  const type = answer.header("content-type")?.split(";", 1)[0]?.trim().toLowerCase();
  return type?.startsWith("application/cloudevents") === true;
}

function replyOf(answer: SinkAnswer): SinkReply {
  return {
    status: answer.status,
    header: (name) => answer.header(name) ?? undefined,
    forEachHeader: (fn) => answer.forEachHeader(fn),
    body: answer.head,
    complete: answer.complete,
  };
}

const encoder = new TextEncoder();

/** The unsigned message of one attempt, in the subscription's content mode. */
function attemptMessage(attempt: DeliveryAttempt, subscription: Subscription): DeliveryMessage {
  const { events } = attempt;
  if (subscription.delivery.mode === "batch") return buildBatchMessage(events, subscription);
  const [event] = events;
  if (event === undefined || events.length > 1) {
    throw new TypeError(
      `${subscription.delivery.mode} mode sends one event per request, not ${events.length}`,
    );
  }
  return buildDeliveryMessage(event, subscription);
}

/**
 * A `Deliverer` over HTTP: one attempt per call, sent by the `SinkClient` within
 * `subscription.delivery.timeoutMs` (request and response body).
 * - Content mode: binary or structured with the attempt's one event (`buildDeliveryMessage`),
 *   batch with all of them in order (`buildBatchMessage`, HTTP binding 3.3).
 * - Signing: with `delivery.signingSecret`, the Standard Webhooks headers `webhook-id` (a digest
 *   of the subscription, target and events: `webhookMessageId`, the same on every retry),
 *   `webhook-timestamp` (the clock, in seconds) and
 *   `webhook-signature` over the exact body bytes sent (see `createWebhookSigner`).
 * - Another destination with the same settings (the dead-letter sink) is the same subscription
 *   with another `sink`: `deliver(attempt, { ...subscription, sink: deadLetterSink })`.
 *
 * The outcome:
 * - 2xx: `delivered`;
 * - 408, 429, 5xx: `retry` with `retryAfterMs` from `Retry-After` (seconds or HTTP-date, measured
 *   with the clock);
 * - network error or timeout: `retry` with status 0;
 * - anything else (3xx, other 4xx), or a message that cannot be built or signed: `dead`.
 * `error` is at most 1024 bytes: the start of the sink's response body (or `HTTP <status>` when
 * it is empty), led for a 3xx by the `Location` it points to (`redirectText`, credentials
 * hidden), the subscription's secrets hidden before it is cut (`redactFailureText`); or the
 * network error. Never throws.
 *
 * @example
 * const deliverer = createHttpDeliverer({ client: createNodeSinkClient() });
 * const outcome = await deliverer.deliver({ id: job.id, events: [job.event] }, subscription);
 * // { kind: "retry", status: 503, error: "down for maintenance", retryAfterMs: 120000 }
 */
export function createHttpDeliverer(options: HttpDelivererOptions): Deliverer {
  const {
    client,
    clock = systemClock,
    signer = createWebhookSigner(),
    origin = "herald",
    maxReplyBytes = 262_144,
  } = options;
  if (typeof client?.send !== "function") {
    throw new TypeError("createHttpDeliverer: options.client must be a SinkClient");
  }

  async function signed(
    message: DeliveryMessage,
    attempt: DeliveryAttempt,
    subscription: Subscription,
  ): Promise<DeliveryMessage> {
    const secrets = subscription.delivery.signingSecret;
    if (secrets === undefined) return message;
    // The signature covers the bytes on the wire, so encode once and send those very bytes.
    const body = typeof message.body === "string" ? encoder.encode(message.body) : message.body;
    const webhook = await signer({
      id: await webhookMessageId(attempt, subscription.id),
      timestamp: Math.floor(clock.now() / 1000),
      body: body ?? new Uint8Array(0),
      secrets,
    });
    return { ...message, headers: { ...message.headers, ...webhook }, body };
  }

  function outcomeOf(
    answer: SinkAnswer,
    wantsReply: boolean,
    sent: string,
    subscription: Subscription,
  ): DeliveryOutcome {
    const { status, head } = answer;
    if (status > 599) {
      // RFC 9110 15: "Values outside the range 100..599 are invalid". Not an answer to judge the
      // delivery by (as a bad status line is not): retried, like other answers not to trust.
      return {
        kind: "retry",
        status: 0,
        error: `invalid response: status ${status} is not an HTTP status code (100-599)`,
        failure: "network",
      };
    }
    const kind = classifyStatus(status);
    if (kind === "delivered") {
      // Knative's reply contract: a 200 or 201 with an event is a reply; other 2xx are not.
      return wantsReply && (status === 200 || status === 201) && looksLikeEvent(answer)
        ? { kind, status, reply: replyOf(answer) }
        : { kind, status };
    }
    const body = head.length > 0 ? bodyText(head, answer.header("content-type")) : "";
    const location = status >= 300 && status < 400 ? answer.header("location") : null;
    const text =
      location !== null
        ? redirectText(status, location, sent, body, Number.POSITIVE_INFINITY)
        : body || `HTTP ${status}`;
    // Secrets hidden before the text is cut, and what a cut left of one dropped: the body shown
    // is the start of a longer answer when it was not read whole or did not fit.
    const cut = !answer.complete || head.length > MAX_ERROR_BYTES;
    const error = redactFailureText(text, subscription, cut);
    if (kind === "dead") return { kind, status, error };
    const retryAfterMs = parseRetryAfter(answer.retryAfter, clock.now());
    return retryAfterMs === undefined
      ? { kind, status, error }
      : { kind, status, error, retryAfterMs };
  }

  return {
    async deliver(attempt, subscription): Promise<DeliveryOutcome> {
      // Replies only from the subscription's own sink: the dead-letter sink's answer is not one.
      const wantsReply =
        subscription.delivery.reply !== undefined && (attempt.target ?? "sink") === "sink";
      let message: DeliveryMessage;
      try {
        const unsigned = attemptMessage(attempt, subscription);
        let extra = attempt.headers;
        if (subscription.delivery.handshake === true) {
          extra = { ...extra, "webhook-request-origin": origin };
        }
        if (wantsReply) {
          // The reply is read as the bytes it came in: ask for them uncompressed (without
          // Accept-Encoding any coding is acceptable, RFC 9110 12.5.3), unless the subscription
          // chose an encoding itself.
          extra =
            unsigned.headers["accept-encoding"] === undefined
              ? { ...extra, prefer: "reply", "accept-encoding": "identity" }
              : { ...extra, prefer: "reply" };
        }
        message = await signed(
          extra === undefined
            ? unsigned
            : { ...unsigned, headers: { ...unsigned.headers, ...extra } },
          attempt,
          subscription,
        );
      } catch (err) {
        return {
          kind: "dead",
          status: 0,
          error: truncateUtf8(`cannot build the request: ${describeError(err)}`),
          failure: "request",
        };
      }
      try {
        const answer = await client.send(
          message,
          subscription.delivery.timeoutMs,
          wantsReply ? maxReplyBytes : undefined,
        );
        return outcomeOf(answer, wantsReply, message.url, subscription);
      } catch (err) {
        // A `SinkError` (timeout, network) or a client breaking its contract: worth a retry.
        const failure = err instanceof SinkTimeout ? "timeout" : "network";
        return { kind: "retry", status: 0, error: describeError(err), failure };
      }
    },
  };
}
