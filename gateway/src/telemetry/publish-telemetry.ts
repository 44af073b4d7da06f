import {
  type Attributes,
  type Span,
  SpanKind,
  SpanStatusCode,
  type Tracer,
} from "@opentelemetry/api";
import { HeraldError } from "../errors/herald-error.js";
import type { AcceptResult } from "../routing/accept-events.js";
import type { GatewayMetrics } from "./gateway-metrics.js";
import { incomingTraceContext, type TraceContext } from "./trace-context.js";
import {
  heraldTracer,
  newTraceContext,
  remoteParent,
  traceContextOf,
  tracingSwitch,
} from "./tracing.js";

/** What a request that publishes events (`POST /events`, `POST /webhooks/{id}`) is about. */
export interface PublishRequest {
  /** The incoming W3C headers, as sent (a malformed one is ignored). */
  readonly traceparent: string | undefined;
  readonly tracestate: string | undefined;
  /** The SERVER span's name and attributes, asked for only when a span is started. */
  span(): { readonly name: string; readonly attributes: Attributes };
}

/**
 * Runs one publish request under the gateway's telemetry, the same way for every ingest route:
 * - with a tracing SDK: a SERVER span, the child of a valid incoming `traceparent`, with
 *   `http.response.status_code` and, for a refusal, `error.type` (the problem `code`; status
 *   ERROR only for a 5xx, as the HTTP conventions say); `handle` gets the span and its context;
 * - without one: no span at all; `handle` gets the incoming context, or a new trace;
 * - `started`, the trace the events started in, goes into events without one (the
 *   distributed-tracing extension): the incoming context when the producer sent one (the
 *   extension carries the starting trace, never a hop's), else the request's own;
 * - either way the events accepted and duplicate are counted, and a refusal by its code.
 * `context` is the request's own (its span's), for the log lines of the request. `answered`
 * tells the status and the acceptance of a result (none for e.g. a 204).
 *
 * @example
 * const publish = createPublishTelemetry({ tracer, metrics });
 * await publish(request, (span, context, started) => handle(source, span, context, started), (r) => ({ status: 202, accepted: r }));
 */
export function createPublishTelemetry(options: {
  readonly tracer?: Tracer | undefined;
  readonly metrics?: Pick<GatewayMetrics, "accepted" | "rejected"> | undefined;
}) {
  const { tracer = heraldTracer(), metrics } = options;
  const tracing = tracingSwitch(options.tracer);

  return async function publish<T>(
    request: PublishRequest,
    handle: (span: Span | undefined, context: TraceContext, started: TraceContext) => Promise<T>,
    answered: (result: T) => { readonly status: number; readonly accepted?: AcceptResult },
  ): Promise<T> {
    const incoming = incomingTraceContext(request.traceparent, request.tracestate);
    let span: Span | undefined;
    if (tracing()) {
      const { name, attributes } = request.span();
      span = tracer.startSpan(name, { kind: SpanKind.SERVER }, remoteParent(incoming));
      if (span.isRecording()) span.setAttributes(attributes);
    }
    try {
      const context = span === undefined ? (incoming ?? newTraceContext()) : traceContextOf(span);
      const result = await handle(span, context, incoming ?? context);
      const { status, accepted } = answered(result);
      span?.setAttribute("http.response.status_code", status);
      if (accepted !== undefined) metrics?.accepted(accepted.events, accepted.duplicates);
      return result;
    } catch (err) {
      const status = err instanceof HeraldError ? err.status : 500;
      const code = err instanceof HeraldError ? err.code : "internal_error";
      span?.setAttributes({ "http.response.status_code": status, "error.type": code });
      if (status >= 500) {
        span?.setStatus({
          code: SpanStatusCode.ERROR,
          message: err instanceof Error ? err.message : String(err),
        });
      }
      metrics?.rejected(code);
      throw err;
    } finally {
      span?.end();
    }
  };
}
