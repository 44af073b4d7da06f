import { type Context, TraceFlags } from "@opentelemetry/api";
import {
  BatchSpanProcessor,
  type ReadableSpan,
  type Span,
  type SpanExporter,
  type SpanProcessor,
} from "@opentelemetry/sdk-trace-base";
import type { Logger } from "../../ports/logger.js";

export interface BoundedSpanProcessorOptions {
  readonly exporter: SpanExporter;
  /** Spans waiting for export at most; the next one is dropped and counted. */
  readonly maxQueueSize: number;
  readonly maxExportBatchSize: number;
  readonly scheduledDelayMillis: number;
  /** How long the batch processor waits for one export before starting the next. */
  readonly exportTimeoutMillis: number;
  /** Called with 1 for each span dropped because the queue was full. */
  readonly onDropped: (spans: number) => void;
  readonly logger: Logger;
  /** Milliseconds clock for the warning's rate limit (default `Date.now`). */
  readonly now?: () => number;
}

/** A full queue is reported at most this often: a down collector must not flood the log. */
export const DROP_WARNING_INTERVAL_MS = 10_000;

/**
 * A `BatchSpanProcessor` whose drops are counted. The SDK's processor drops spans silently
 * (only a diag line) when its queue is full, so this one keeps its own count of the spans the
 * batch processor holds: +1 for each sampled span handed to it, -n when the batch processor
 * hands n spans to the exporter. It drops a span itself when the count reaches `maxQueueSize`,
 * before the batch processor would, so every drop is counted exactly once. Memory stays
 * bounded by the queue plus the batches in export (each export ends by the exporter's timeout),
 * and `onEnd` never waits: a slow or unreachable collector costs spans, never delivery time.
 *
 * @example
 * const processor = createBoundedSpanProcessor({ exporter: new OTLPTraceExporter(),
 *   maxQueueSize: 2048, maxExportBatchSize: 512, scheduledDelayMillis: 5000,
 *   exportTimeoutMillis: 30000, onDropped: (n) => metrics.spansDropped(n), logger });
 */
export function createBoundedSpanProcessor(options: BoundedSpanProcessorOptions): SpanProcessor {
  const { exporter, maxQueueSize, onDropped, logger, now = Date.now } = options;
  let queued = 0;
  let stopped = false;
  let lastWarning: number | undefined;
  let droppedSinceWarning = 0;

  const counting: SpanExporter = {
    export(spans, done) {
      queued -= spans.length;
      exporter.export(spans, done);
    },
    shutdown: () => exporter.shutdown(),
    forceFlush: () => exporter.forceFlush?.() ?? Promise.resolve(),
  };
  const batch = new BatchSpanProcessor(counting, {
    maxQueueSize,
    maxExportBatchSize: options.maxExportBatchSize,
    scheduledDelayMillis: options.scheduledDelayMillis,
    exportTimeoutMillis: options.exportTimeoutMillis,
  });

  const drop = () => {
    onDropped(1);
    droppedSinceWarning++;
    const at = now();
    if (lastWarning === undefined || at - lastWarning >= DROP_WARNING_INTERVAL_MS) {
      logger.warn("trace export queue full: dropping spans (is the collector slow or down?)", {
        dropped: droppedSinceWarning,
        maxQueueSize,
      });
      lastWarning = at;
      droppedSinceWarning = 0;
    }
  };

  return {
    onStart(span: Span, parentContext: Context) {
      batch.onStart(span, parentContext);
    },
    onEnd(span: ReadableSpan) {
      // The batch processor ignores unsampled spans and everything after shutdown: so does
      // the count.
      if (stopped || (span.spanContext().traceFlags & TraceFlags.SAMPLED) === 0) return;
      if (queued >= maxQueueSize) {
        drop();
        return;
      }
      queued++;
      batch.onEnd(span);
    },
    forceFlush: () => batch.forceFlush(),
    shutdown() {
      stopped = true;
      return batch.shutdown();
    },
  };
}
