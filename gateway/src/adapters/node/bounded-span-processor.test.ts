import type { Attributes, Context, Link, SpanKind } from "@opentelemetry/api";
import { type ExportResult, ExportResultCode } from "@opentelemetry/core";
import {
  BasicTracerProvider,
  type ReadableSpan,
  type Sampler,
  SamplingDecision,
  type SpanExporter,
} from "@opentelemetry/sdk-trace-base";
import { describe, expect, it } from "vitest";
import type { Logger } from "../../ports/logger.js";
import { createBoundedSpanProcessor, DROP_WARNING_INTERVAL_MS } from "./bounded-span-processor.js";

/** An exporter that holds every export until released, like a collector that is slow or down. */
function slowExporter() {
  const exported: ReadableSpan[] = [];
  const held: (() => void)[] = [];
  let open = false;
  const exporter: SpanExporter = {
    export(spans, done: (result: ExportResult) => void) {
      const finish = () => {
        exported.push(...spans);
        done({ code: ExportResultCode.SUCCESS });
      };
      if (open) finish();
      else held.push(finish);
    },
    shutdown: async () => {},
  };
  return {
    exporter,
    exported,
    /** Exports in flight. */
    held,
    /** Lets the held exports and every later one through. */
    release() {
      open = true;
      for (const finish of held.splice(0)) finish();
    },
  };
}

/** Samples everything, but only records (no export) spans named `unsampled ...`. */
const sampler: Sampler = {
  shouldSample: (
    _context: Context,
    _traceId: string,
    name: string,
    _kind: SpanKind,
    _attributes: Attributes,
    _links: Link[],
  ) => ({
    decision: name.startsWith("unsampled")
      ? SamplingDecision.RECORD
      : SamplingDecision.RECORD_AND_SAMPLED,
  }),
  toString: () => "test sampler",
};

function setUp(maxQueueSize: number) {
  const slow = slowExporter();
  let dropped = 0;
  let clock = 0;
  const warnings: Record<string, unknown>[] = [];
  const logger: Logger = {
    debug() {},
    info() {},
    warn: (_msg, fields) => warnings.push(fields ?? {}),
    error() {},
  };
  const processor = createBoundedSpanProcessor({
    exporter: slow.exporter,
    maxQueueSize,
    maxExportBatchSize: 2,
    // Only a full batch starts an export in these tests, never the timer.
    scheduledDelayMillis: 600_000,
    exportTimeoutMillis: 600_000,
    onDropped: (n) => {
      dropped += n;
    },
    logger,
    now: () => clock,
  });
  const provider = new BasicTracerProvider({ sampler, spanProcessors: [processor] });
  const tracer = provider.getTracer("test");
  return {
    ...slow,
    provider,
    warnings,
    dropped: () => dropped,
    advance: (ms: number) => {
      clock += ms;
    },
    end: (count: number, name = "span") => {
      for (let i = 0; i < count; i++) tracer.startSpan(name).end();
    },
  };
}

describe("createBoundedSpanProcessor (a real BatchSpanProcessor, a slow exporter)", () => {
  it("drops and counts exactly the spans that find the queue full, and no others", async () => {
    const t = setUp(4);
    t.end(2); // a full batch: handed to the exporter at once, and held there
    expect(t.held).toHaveLength(1);
    t.end(4); // the queue is full now
    expect(t.dropped()).toBe(0);
    t.end(3);
    expect(t.dropped()).toBe(3);

    t.release();
    await t.provider.forceFlush();
    // Every span was either exported or counted as dropped; the batch processor lost none.
    expect(t.exported).toHaveLength(6);
    expect(t.exported.length + t.dropped()).toBe(9);

    // The exports made room again: the count follows the queue down.
    t.end(4);
    await t.provider.forceFlush();
    expect(t.dropped()).toBe(3);
    expect(t.exported).toHaveLength(10);
  });

  it("counts neither spans that are not sampled nor spans after shutdown", async () => {
    const t = setUp(2);
    t.end(2); // exported, held
    t.end(2); // queued: full
    t.end(5, "unsampled");
    expect(t.dropped()).toBe(0);
    t.end(1);
    expect(t.dropped()).toBe(1);
    t.release();
    await t.provider.shutdown();
    t.end(3);
    expect(t.dropped()).toBe(1);
    expect(t.exported).toHaveLength(4);
  });

  it("warns about a full queue at most once per 10 s, with what was dropped since", async () => {
    const t = setUp(2);
    t.end(4); // one batch held, two queued
    t.end(3);
    expect(t.warnings).toEqual([{ dropped: 1, maxQueueSize: 2 }]);
    t.advance(DROP_WARNING_INTERVAL_MS - 1);
    t.end(1);
    expect(t.warnings).toHaveLength(1);
    t.advance(1);
    t.end(1);
    expect(t.warnings).toEqual([
      { dropped: 1, maxQueueSize: 2 },
      { dropped: 4, maxQueueSize: 2 },
    ]);
    expect(t.dropped()).toBe(5);
    t.release();
    await t.provider.shutdown();
  });
});
