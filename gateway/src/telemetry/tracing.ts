import {
  type Attributes,
  type Context,
  createTraceState,
  isSpanContextValid,
  ProxyTracerProvider,
  ROOT_CONTEXT,
  type Span,
  type SpanContext,
  type Tracer,
  trace,
} from "@opentelemetry/api";
import type { CloudEvent } from "../event/cloud-event.js";
import {
  parseTraceparent,
  parseTracestate,
  randomHex,
  type TraceContext,
} from "./trace-context.js";

/** The instrumentation scope of every Herald span. */
export const TRACER_NAME = "@herald/gateway";

/**
 * The gateway's tracer: the global provider's (the Node adapter registers the OpenTelemetry SDK
 * when `OTEL_*` variables ask for it), else the API's no-op one, which costs next to nothing.
 * The API's proxy tracer follows a provider registered later, so taking it early is fine.
 */
export function heraldTracer(): Tracer {
  return trace.getTracer(TRACER_NAME);
}

/**
 * Whether spans are worth starting: always with a tracer passed in, else while an SDK has
 * registered a global tracer provider (looked up at most once a second). Without one, the
 * gateway skips spans altogether and only passes trace context on, which costs next to nothing.
 */
export function tracingSwitch(given: Tracer | undefined): () => boolean {
  if (given !== undefined) return () => true;
  let on = false;
  let checkedAt = Number.NEGATIVE_INFINITY;
  return () => {
    const now = Date.now();
    if (now - checkedAt >= 1_000) {
      checkedAt = now;
      const provider = trace.getTracerProvider();
      on =
        !(provider instanceof ProxyTracerProvider) ||
        provider.getDelegateTracer(TRACER_NAME) !== undefined;
    }
    return on;
  };
}

/** A new trace of the gateway's own, for an event that came without one (marked sampled). */
export function newTraceContext(): TraceContext {
  return { traceId: randomHex(32), spanId: randomHex(16), flags: 1 };
}

/** The OpenTelemetry form of a remote trace context. */
export function spanContextOf(remote: TraceContext): SpanContext {
  return {
    traceId: remote.traceId,
    spanId: remote.spanId,
    traceFlags: remote.flags,
    isRemote: true,
    ...(remote.tracestate === undefined ? {} : { traceState: createTraceState(remote.tracestate) }),
  };
}

/** A context whose active span is the remote `parent`, or the root context without one. */
export function remoteParent(parent: TraceContext | undefined): Context {
  return parent === undefined
    ? ROOT_CONTEXT
    : trace.setSpanContext(ROOT_CONTEXT, spanContextOf(parent));
}

/**
 * The trace context `span` stands for. A recording span (or one the SDK sampled out) has its
 * own ids. The API's no-op span has its parent's ids, or none at all: then the gateway still
 * starts a trace of its own, so that sinks get a `traceparent` to correlate by. Such a trace is
 * marked sampled: Herald recorded nothing, and "not sampled" would make every downstream
 * parent-based sampler drop its spans too.
 */
export function traceContextOf(span: Span): TraceContext {
  const context = span.spanContext();
  if (!isSpanContextValid(context)) return newTraceContext();
  const state = context.traceState?.serialize();
  return {
    traceId: context.traceId,
    spanId: context.spanId,
    flags: context.traceFlags,
    ...(state === undefined || state === "" ? {} : { tracestate: state }),
  };
}

/**
 * The creation context an event carries in the distributed-tracing extension, if it is a valid
 * W3C trace context (a producer may send anything there; Herald keeps it but cannot follow it).
 */
export function eventTraceContext(event: CloudEvent): TraceContext | undefined {
  const parent = event.attributes.traceparent;
  if (typeof parent !== "string") return undefined;
  const context = parseTraceparent(parent);
  if (context === undefined) return undefined;
  const state = event.attributes.tracestate;
  const tracestate = typeof state === "string" ? parseTracestate(state) : undefined;
  return tracestate === undefined ? context : { ...context, tracestate };
}

/**
 * OpenTelemetry's CloudEvents span attributes (semantic conventions, "CloudEvents"):
 * `cloudevents.event_id`, `_source`, `_spec_version`, `_type` and `_subject` when present.
 */
export function cloudEventAttributes(event: CloudEvent): Attributes {
  const { id, source, specversion, type, subject } = event.attributes;
  const attributes: Attributes = {
    "cloudevents.event_id": String(id),
    "cloudevents.event_source": String(source),
    "cloudevents.event_spec_version": String(specversion),
    "cloudevents.event_type": String(type),
  };
  if (subject !== undefined) attributes["cloudevents.event_subject"] = String(subject);
  return attributes;
}

/**
 * The URL attributes the HTTP server span conventions require, `url.scheme` and `url.path`, of
 * a request target. An origin-form one (`/events?...`) came to `herald serve`, which speaks
 * plain HTTP; an absolute one names its scheme (Workers). No `url.query`: it may hold a token.
 *
 * @example
 * requestUrlAttributes("/events?access_token=x"); // { "url.scheme": "http", "url.path": "/events" }
 */
export function requestUrlAttributes(target: string): Attributes {
  if (target.startsWith("/")) {
    const query = target.indexOf("?");
    return { "url.scheme": "http", "url.path": query === -1 ? target : target.slice(0, query) };
  }
  if (!URL.canParse(target)) return { "url.scheme": "http", "url.path": "/" };
  const url = new URL(target);
  return { "url.scheme": url.protocol.slice(0, -1), "url.path": url.pathname };
}

/** Cuts a URL down to what may go into telemetry: no user info, no query, no fragment. */
export function safeUrl(url: string): string {
  if (!URL.canParse(url)) return "";
  const parsed = new URL(url);
  return `${parsed.protocol}//${parsed.host}${parsed.pathname}`;
}
