import {
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  SpanStatusCode,
  type Tracer,
  trace,
} from "@opentelemetry/api";
import { withProvenance, withUnauthenticatedProvenance } from "../auth/provenance.js";
import type { PublisherAuth } from "../auth/publisher-auth.js";
import type { CloudEvent } from "../event/cloud-event.js";
import type { Clock } from "../ports/clock.js";
import type { Logger } from "../ports/logger.js";
import type { AcceptResult } from "../routing/accept-events.js";
import type { GatewayMetrics } from "../telemetry/gateway-metrics.js";
import { createPublishTelemetry } from "../telemetry/publish-telemetry.js";
import type { TraceContext } from "../telemetry/trace-context.js";
import { cloudEventAttributes, heraldTracer, requestUrlAttributes } from "../telemetry/tracing.js";
import { withTraceContext } from "../telemetry/with-trace-context.js";
import type { IngestSource } from "./ingest-source.js";
import { type IngestLimits, parseRequest } from "./parse-request.js";
import type { PublishGate } from "./publish-gate.js";

export interface IngestOptions {
  readonly limits: IngestLimits;
  /** Publisher authentication; `undefined` accepts anyone (`--no-auth`). */
  readonly auth: PublisherAuth | undefined;
  readonly clock: Clock;
  readonly accept: (events: readonly CloudEvent[]) => Promise<AcceptResult>;
  /** Lets requests in until shutdown, and lets those in finish (or cuts them at the deadline). */
  readonly gate: PublishGate;
  readonly logger: Logger;
  /** Spans of ingest (default: the global provider's `@herald/gateway` tracer). */
  readonly tracer?: Tracer | undefined;
  /** Log every accepted event, data included, at debug level (off: payloads may be personal). */
  readonly logPayloads?: boolean;
  /** Counts accepted, duplicate and refused events. */
  readonly metrics?: Pick<GatewayMetrics, "accepted" | "rejected">;
}

/** Takes one ingest request; resolves when its events are accepted, or throws a coded error. */
export type IngestHandler = (source: IngestSource) => Promise<AcceptResult>;

/**
 * The whole of `POST /events`, shared by every transport: refuse while shutting down (the
 * `gate`; a request let in before is let finish, or cut with 503 at the drain deadline while its
 * body is still arriving, never once it stores); authenticate the publisher, and refuse one no publisher rule matches, before reading the
 * body (401/503); parse and validate the events;
 * check the publisher may publish each of them (403/429, all or nothing); stamp the gateway's
 * provenance (`recordedtime`, authcontext), replacing whatever the publisher sent there, and the
 * distributed-tracing extension where the event has none; accept them. The caller answers 202
 * when it resolves and turns a rejection into problem details.
 *
 * Tracing: a SERVER span `POST <path>` per request, the child of a valid incoming W3C
 * `traceparent` (a malformed one is ignored), with a child `store events` span around the
 * hand-off to the store. Events without a `traceparent` extension get the trace they started
 * in: the incoming `traceparent` (the extension carries the starting trace, not a hop's), else
 * the request span's context (or, with no tracing SDK, a new trace), so every later delivery
 * joins it.
 *
 * @example
 * const ingest = createIngestHandler({ limits, auth: undefined, clock, accept, gate: createPublishGate(), logger });
 * await ingest(requestSource(request));
 */
export function createIngestHandler(options: IngestOptions): IngestHandler {
  const { limits, auth, clock, accept, gate, logger, tracer = heraldTracer() } = options;
  const { logPayloads = false } = options;
  const publish = createPublishTelemetry({ tracer: options.tracer, metrics: options.metrics });

  /**
   * `span` is the request's (absent while no tracing SDK runs), `context` its context (for the
   * log lines), `started` the trace the events started in (into events without one).
   */
  async function handle(
    source: IngestSource,
    span: Span | undefined,
    context: TraceContext,
    started: TraceContext,
  ): Promise<AcceptResult> {
    const admission = gate.admit();
    try {
      const { mode, stamped } = await admission.prepare(prepare(source, started));
      admission.storing();
      return await store(mode, stamped, span, context);
    } finally {
      admission.leave();
    }
  }

  /** Everything before storing: authenticate, read and check the body, stamp the events. */
  async function prepare(source: IngestSource, started: TraceContext) {
    const claims = auth
      ? await auth.authenticate({ authorization: source.header("authorization"), url: source.url })
      : undefined;
    const grant = claims ? auth?.admit(claims) : undefined;
    const { mode, events } = await parseRequest(source, limits);
    if (claims) auth?.authorize(claims, events, grant);
    const recordedAt = clock.now();
    const stamped = events.map((event) =>
      withTraceContext(
        claims
          ? withProvenance(event, { claims, recordedAt })
          : withUnauthenticatedProvenance(event, { recordedAt }),
        started,
      ),
    );
    return { mode, stamped };
  }

  async function store(
    mode: string,
    stamped: readonly CloudEvent[],
    span: Span | undefined,
    context: TraceContext,
  ): Promise<AcceptResult> {
    if (span === undefined) {
      const result = await accept(stamped);
      logAccepted(mode, result, context, stamped);
      return result;
    }
    const recording = span.isRecording();
    if (recording) {
      const [only] = stamped;
      if (stamped.length === 1 && only !== undefined) {
        span.setAttributes(cloudEventAttributes(only));
      } else span.setAttribute("messaging.batch.message_count", stamped.length);
    }
    const store = tracer.startSpan(
      "store events",
      { kind: SpanKind.INTERNAL },
      trace.setSpan(ROOT_CONTEXT, span),
    );
    let result: AcceptResult;
    try {
      result = await accept(stamped);
      if (recording) {
        store.setAttributes({
          "messaging.batch.message_count": stamped.length,
          "herald.events.stored": result.events,
          "herald.events.duplicate": result.duplicates,
          "herald.deliveries": result.deliveries,
        });
      }
    } catch (err) {
      store.setStatus({ code: SpanStatusCode.ERROR, message: describe(err) });
      throw err;
    } finally {
      store.end();
    }
    logAccepted(mode, result, context, stamped);
    return result;
  }

  function logAccepted(
    mode: string,
    result: AcceptResult,
    context: TraceContext,
    stamped: readonly CloudEvent[],
  ): void {
    logger.debug("accepted", {
      mode,
      events: result.events,
      deliveries: result.deliveries,
      trace_id: context.traceId,
      span_id: context.spanId,
      ...(logPayloads ? { payloads: stamped.map(payloadOf) } : {}),
    });
  }

  return (source) =>
    publish(
      {
        traceparent: source.header("traceparent"),
        tracestate: source.header("tracestate"),
        span() {
          const url = requestUrlAttributes(source.url);
          // The route, `/events` or `/` (INGEST_PATHS), names the span: low-cardinality, as the
          // HTTP conventions want, however the path was spelt (the router takes `/%65vents` as
          // `/events`). `url.path` keeps the path as sent.
          const route = url["url.path"] === "/" ? "/" : "/events";
          return {
            name: `POST ${route}`,
            attributes: { "http.request.method": "POST", "http.route": route, ...url },
          };
        },
      },
      (span, context, started) => handle(source, span, context, started),
      (accepted) => ({ status: 202, accepted }),
    );
}

const utf8 = new TextDecoder("utf-8", { fatal: true });
/** Most data bytes a payload log line shows. */
const LOGGED_DATA_BYTES = 16_384;

/** An event for the debug log: its attributes and its data (text when it is UTF-8, else base64). */
function payloadOf(event: CloudEvent): Record<string, unknown> {
  const { data } = event;
  if (data === undefined) return { attributes: event.attributes };
  if (data.kind !== "binary") return { attributes: event.attributes, data: data.value };
  const bytes = data.value.subarray(0, LOGGED_DATA_BYTES);
  try {
    return { attributes: event.attributes, data: utf8.decode(bytes) };
  } catch {
    return { attributes: event.attributes, data_base64: btoa(String.fromCharCode(...bytes)) };
  }
}

const describe = (err: unknown) => (err instanceof Error ? err.message : String(err));
