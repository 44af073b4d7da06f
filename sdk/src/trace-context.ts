/** The part of `@opentelemetry/api` the SDK uses (structural: no type dependency on it). */
export interface TraceApi {
  readonly context: { active(): unknown };
  readonly trace: {
    getSpanContext(context: unknown):
      | {
          readonly traceId: string;
          readonly spanId: string;
          readonly traceFlags: number;
          readonly traceState?: { serialize(): string };
        }
      | undefined;
  };
}

/** The distributed-tracing extension's attributes (W3C Trace Context header values). */
export interface TraceAttributes {
  readonly traceparent: string;
  readonly tracestate?: string;
}

// A variable specifier: bundlers leave the import alone, so a missing package fails at run
// time (and is tolerated) instead of failing the user's build.
const OTEL_API = "@opentelemetry/api";
let otel: Promise<TraceApi | undefined> | undefined;

/**
 * `@opentelemetry/api` when the application has it (an optional peer dependency), else
 * `undefined`; imported once, on first use. (`specifier` is for tests: not kept.)
 *
 * @example
 * const api = await loadTraceApi();
 */
export function loadTraceApi(specifier?: string): Promise<TraceApi | undefined> {
  if (specifier === undefined) {
    otel ??= loadTraceApi(OTEL_API);
    return otel;
  }
  return import(/* @vite-ignore */ specifier).then(
    (module: { trace?: unknown; context?: unknown; default?: TraceApi }) =>
      module.trace !== undefined && module.context !== undefined
        ? (module as unknown as TraceApi)
        : module.default,
    () => undefined,
  );
}

const ZERO_TRACE = /^0+$/;

/**
 * The active span's context as `traceparent` (version 00) and `tracestate`
 * (W3C Trace Context 3.2, 3.3), or `undefined` when no valid span is active.
 *
 * @example
 * traceAttributes(api); // { traceparent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01" }
 */
export function traceAttributes(api: TraceApi): TraceAttributes | undefined {
  const span = api.trace.getSpanContext(api.context.active());
  if (span === undefined || ZERO_TRACE.test(span.traceId) || ZERO_TRACE.test(span.spanId)) {
    return undefined;
  }
  const flags = (span.traceFlags & 0xff).toString(16).padStart(2, "0");
  const traceparent = `00-${span.traceId}-${span.spanId}-${flags}`;
  const tracestate = span.traceState?.serialize();
  return tracestate ? { traceparent, tracestate } : { traceparent };
}
