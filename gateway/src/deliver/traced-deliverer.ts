import {
  type Attributes,
  type Link,
  SpanKind,
  SpanStatusCode,
  type Tracer,
} from "@opentelemetry/api";
import type { Subscription } from "../subscriptions/subscription.js";
import type { GatewayMetrics } from "../telemetry/gateway-metrics.js";
import {
  formatTraceparent,
  randomHex,
  type TraceContext,
  withParentRandomFlag,
} from "../telemetry/trace-context.js";
import {
  cloudEventAttributes,
  eventTraceContext,
  heraldTracer,
  newTraceContext,
  remoteParent,
  safeUrl,
  spanContextOf,
  traceContextOf,
  tracingSwitch,
} from "../telemetry/tracing.js";
import type { Deliverer, DeliveryAttempt } from "./deliverer.js";
import type { DeliveryOutcome } from "./delivery-outcome.js";
import { redactSecrets } from "./redact-secrets.js";
import { canRetry } from "./retry-policy.js";

export interface TracedDelivererOptions {
  /** Default: the global provider's `@herald/gateway` tracer. */
  readonly tracer?: Tracer | undefined;
  readonly metrics?: Pick<GatewayMetrics, "attempt">;
  /** Monotonic milliseconds for attempt latency (default `performance.now`). */
  readonly now?: () => number;
}

/** The span attributes of a sink URL, worked out once per URL. */
function sinkAttributes(sink: string): Attributes {
  const attributes: Attributes = { "http.request.method": "POST", "url.full": safeUrl(sink) };
  if (URL.canParse(sink)) {
    const url = new URL(sink);
    attributes["server.address"] = url.hostname;
    attributes["server.port"] = Number(url.port || (url.protocol === "https:" ? 443 : 80));
  }
  return attributes;
}

/**
 * `messaging.system` of the delivery spans. The conventions' list names brokers (kafka,
 * rabbitmq, ...); Herald is none of them, and a custom value is allowed.
 */
const MESSAGING_SYSTEM = "herald";

// Sinks come from the config and the API, so few URLs repeat; the bound guards against churn.
const MAX_SINKS = 1024;

/**
 * Wraps a `Deliverer` so that each attempt is a CLIENT span and sends its own W3C trace context:
 * - name `deliver <subscription id>`, or `dead-letter <subscription id>` for the attempt to the
 *   dead-letter sink;
 * - parent: the creation context in the event's distributed-tracing extension, so every attempt
 *   (retries, dead-lettering, a redrive days later, after restarts) joins the trace the event
 *   started in; a batch has no one parent and starts its own trace;
 * - links: each event's creation context (semantic conventions for CloudEvents processing);
 * - attributes: the CloudEvents ones and `messaging.message.id` (one event) or
 *   `messaging.batch.message_count`; the messaging conventions' `messaging.system` (`herald`),
 *   `messaging.operation.name` (`deliver`, `dead-letter`), `messaging.operation.type` (`send`:
 *   the span is not the creation context, so CLIENT, not PRODUCER), `messaging.destination.name`
 *   (the subscription id); `herald.subscription.id`, `herald.delivery.attempt`,
 *   `http.request.method`, `url.full` (without credentials or query), `server.address`,
 *   `server.port`, `http.response.status_code`, `error.type`; a failed attempt has status ERROR
 *   with the failure text, secrets redacted;
 * - headers `traceparent` (and `tracestate`) of the span. Without a tracing SDK nothing is
 *   recorded, but the header still names the event's trace with a fresh span id.
 * Latency and outcome go to `metrics.attempt`.
 *
 * @example
 * const deliverer = createTracedDeliverer(createHttpDeliverer({ client }), { metrics });
 */
export function createTracedDeliverer(
  inner: Deliverer,
  options: TracedDelivererOptions = {},
): Deliverer {
  const { tracer = heraldTracer(), metrics, now = () => performance.now() } = options;
  const tracing = tracingSwitch(options.tracer);
  const sinks = new Map<string, Attributes>();
  function attributesOf(sink: string): Attributes {
    let found = sinks.get(sink);
    if (found === undefined) {
      found = sinkAttributes(sink);
      if (sinks.size >= MAX_SINKS) sinks.clear();
      sinks.set(sink, found);
    }
    return found;
  }

  return {
    async deliver(attempt, subscription) {
      const target = attempt.target ?? "sink";
      const events = attempt.events;
      const [only] = events;
      const single = events.length === 1 ? only : undefined;
      const parent = single === undefined ? undefined : eventTraceContext(single);
      if (!tracing()) {
        // No tracing SDK: no span, but the attempt still names the event's trace.
        const own = { ...(parent ?? newTraceContext()), spanId: randomHex(16) };
        const headers: Record<string, string> = { traceparent: formatTraceparent(own) };
        if (own.tracestate !== undefined) headers.tracestate = own.tracestate;
        const started = now();
        const outcome = await inner.deliver(
          { ...attempt, headers: attempt.headers ? { ...attempt.headers, ...headers } : headers },
          subscription,
        );
        metrics?.attempt(
          subscription.id,
          target,
          metricOutcome(outcome, attempt, subscription),
          (now() - started) / 1000,
        );
        return outcome;
      }
      // Messaging span conventions: the name is `{messaging.operation.name} {destination}`.
      const operation = target === "sink" ? "deliver" : "dead-letter";
      const span = tracer.startSpan(
        `${operation} ${subscription.id}`,
        { kind: SpanKind.CLIENT },
        remoteParent(parent),
      );
      let own: TraceContext;
      if (span.isRecording()) {
        // Attributes and links only for a span that is kept: without a tracing SDK (or when the
        // sampler drops it) a delivery pays for none of them.
        span.setAttributes(attributesOf(subscription.sink));
        span.setAttributes(
          single === undefined
            ? { "messaging.batch.message_count": events.length }
            : {
                ...cloudEventAttributes(single),
                "messaging.message.id": String(single.attributes.id),
              },
        );
        span.setAttributes({
          "messaging.system": MESSAGING_SYSTEM,
          "messaging.operation.name": operation,
          "messaging.operation.type": "send",
          "messaging.destination.name": subscription.id,
          "herald.subscription.id": subscription.id,
        });
        if (attempt.attempt !== undefined) {
          span.setAttribute("herald.delivery.attempt", attempt.attempt);
        }
        const links: Link[] = [];
        for (const event of events) {
          const creation = event === single ? parent : eventTraceContext(event);
          if (creation !== undefined) links.push({ context: spanContextOf(creation) });
        }
        if (links.length > 0) span.addLinks(links);
        own = withParentRandomFlag(traceContextOf(span), parent);
      } else {
        own = { ...(parent ?? traceContextOf(span)), spanId: randomHex(16) };
      }
      const headers: Record<string, string> = { traceparent: formatTraceparent(own) };
      if (own.tracestate !== undefined) headers.tracestate = own.tracestate;
      const started = now();
      const outcome = await inner.deliver(
        { ...attempt, headers: { ...attempt.headers, ...headers } },
        subscription,
      );
      const seconds = (now() - started) / 1000;
      if (span.isRecording()) {
        if (outcome.status > 0) span.setAttribute("http.response.status_code", outcome.status);
        if (outcome.kind !== "delivered") {
          // HTTP client conventions: the status code, else what kept an answer from coming.
          span.setAttribute(
            "error.type",
            outcome.status > 0 ? String(outcome.status) : (outcome.failure ?? "network"),
          );
          span.setStatus({
            code: SpanStatusCode.ERROR,
            message: redactSecrets(outcome.error, subscription),
          });
        }
      }
      span.end();
      metrics?.attempt(
        subscription.id,
        target,
        metricOutcome(outcome, attempt, subscription),
        seconds,
      );
      return outcome;
    },
  };
}

/**
 * An attempt's `outcome` label: its kind, except that a transient failure with no retry left
 * (the last attempt, or the one attempt at the dead-letter sink) ends the delivery: `dead`.
 */
function metricOutcome(
  outcome: DeliveryOutcome,
  attempt: DeliveryAttempt,
  subscription: Subscription,
): DeliveryOutcome["kind"] {
  if (outcome.kind !== "retry") return outcome.kind;
  if (attempt.target === "dead_letter_sink") return "dead";
  if (attempt.attempt === undefined) return "retry";
  return canRetry(attempt.attempt - 1, subscription.delivery) ? "retry" : "dead";
}
