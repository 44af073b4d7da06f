import { metrics, ValueType } from "@opentelemetry/api";
import {
  AggregationTemporality,
  InMemoryMetricExporter,
  MeterProvider,
  PeriodicExportingMetricReader,
  type ViewOptions,
} from "@opentelemetry/sdk-metrics";
import { afterEach, expect, it } from "vitest";
import { createGatewayMetrics } from "./gateway-metrics.js";

// What the OpenTelemetry side of the metrics exports, read through a real SDK meter provider.
let provider: MeterProvider | undefined;
let lastExporter: InMemoryMetricExporter | undefined;
afterEach(async () => {
  metrics.disable();
  // This test's resources are taken before the first await: a hook that outlives its timeout
  // must not stop or close what the next test has started meanwhile.
  const held = provider;
  provider = undefined;
  await held?.shutdown();
});

async function collect(
  record: (m: ReturnType<typeof createGatewayMetrics>) => void | Promise<void>,
) {
  const exporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
  lastExporter = exporter;
  const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 60_000 });
  provider = new MeterProvider({ readers: [reader] });
  metrics.setGlobalMeterProvider(provider);
  const gatewayMetrics = createGatewayMetrics({ queueDepth: async () => 7 });
  await record(gatewayMetrics);
  await reader.forceFlush();
  const points = new Map<string, { value: unknown; attributes: object }[]>();
  for (const resource of exporter.getMetrics()) {
    for (const scope of resource.scopeMetrics) {
      for (const metric of scope.metrics) {
        points.set(
          metric.descriptor.name,
          metric.dataPoints.map((p) => ({ value: p.value, attributes: p.attributes })),
        );
      }
    }
  }
  return points;
}

/**
 * Gateway metrics exported with delta temporality (`views` on the provider): `exported()` runs one
 * export and gives its points of an instrument, by name, as `{ value, ...attributes }`.
 */
function deltaExports(views: ViewOptions[] = []) {
  const exporter = new InMemoryMetricExporter(AggregationTemporality.DELTA);
  const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 60_000 });
  provider = new MeterProvider({ readers: [reader], views });
  metrics.setGlobalMeterProvider(provider);
  const m = createGatewayMetrics({ queueDepth: async () => 0 });
  const exported = async () => {
    await reader.forceFlush();
    const all =
      exporter
        .getMetrics()
        .at(-1)
        ?.scopeMetrics.flatMap((scope) => scope.metrics) ?? [];
    return (name: string) =>
      (all.find((x) => x.descriptor.name === name)?.dataPoints ?? []).map((p) => ({
        value: p.value,
        ...p.attributes,
      }));
  };
  return { m, exported };
}

it("exports accepted, duplicate, attempt and dead counts with their attributes", async () => {
  const points = await collect((m) => {
    m.accepted(3, 1);
    m.accepted(2, 0);
    m.attempt("s1", "sink", "delivered", 0.01);
    m.attempt("s1", "sink", "delivered", 0.02);
    m.attempt("s1", "dead_letter_sink", "dead", 0.5);
    m.dead("s1", "store", 1);
  });
  expect(points.get("herald.events.accepted")).toEqual([{ value: 5, attributes: {} }]);
  expect(points.get("herald.events.duplicate")).toEqual([{ value: 1, attributes: {} }]);
  expect(points.get("herald.deliveries")).toEqual(
    expect.arrayContaining([
      {
        value: 2,
        attributes: { "herald.subscription.id": "s1", target: "sink", outcome: "delivered" },
      },
      {
        value: 1,
        attributes: { "herald.subscription.id": "s1", target: "dead_letter_sink", outcome: "dead" },
      },
    ]),
  );
  const durations = points.get("herald.delivery.duration") ?? [];
  const delivered = durations.find(
    (p) => (p.attributes as Record<string, string>).outcome === "delivered",
  );
  expect(delivered?.value).toMatchObject({ count: 2 });
  expect(points.get("herald.dead_events")).toEqual([
    { value: 1, attributes: { "herald.subscription.id": "s1", ending: "store" } },
  ]);
  expect(points.get("herald.queue.depth")).toEqual([{ value: 7, attributes: {} }]);
});

it("gives every OpenTelemetry instrument the description and a unit of its Prometheus twin", async () => {
  const descriptors = new Map<string, { description: string; unit: string }>();
  let help = "";
  await collect(async (m) => {
    m.accepted(1, 1);
    m.rejected("invalid_event");
    m.attempt("s1", "sink", "delivered", 0.01);
    m.dead("s1", "store", 1);
    m.spansDropped(1);
    help = await m.render();
  });
  for (const resource of lastExporter?.getMetrics() ?? []) {
    for (const scope of resource.scopeMetrics) {
      for (const metric of scope.metrics) {
        const { name, description, unit } = metric.descriptor;
        descriptors.set(name, { description, unit });
      }
    }
  }
  const twins: Record<string, string> = {
    "herald.events.accepted": "herald_events_accepted_total",
    "herald.events.duplicate": "herald_events_duplicate_total",
    "herald.events.rejected": "herald_events_rejected_total",
    "herald.deliveries": "herald_deliveries_total",
    "herald.delivery.duration": "herald_delivery_duration_seconds",
    "herald.dead_events": "herald_dead_events_total",
    "herald.queue.depth": "herald_queue_depth",
    "herald.telemetry.spans_dropped": "herald_telemetry_spans_dropped_total",
  };
  expect([...descriptors.keys()].sort()).toEqual(Object.keys(twins).sort());
  for (const [otelName, promName] of Object.entries(twins)) {
    const line = help.split("\n").find((l) => l.startsWith(`# HELP ${promName} `));
    expect(line, promName).toBeDefined();
    const text = line?.slice(`# HELP ${promName} `.length);
    expect(descriptors.get(otelName)?.description, otelName).toBe(text);
    expect(descriptors.get(otelName)?.unit, otelName).not.toBe("");
  }
});

it("exports counts as integers (OTLP asInt) and latency as a double histogram", async () => {
  const types = new Map<string, ValueType>();
  await collect((m) => {
    m.accepted(1, 1);
    m.rejected("invalid_event");
    m.attempt("s1", "sink", "delivered", 0.01);
    m.dead("s1", "store", 1);
    m.spansDropped(1);
  });
  for (const resource of lastExporter?.getMetrics() ?? []) {
    for (const scope of resource.scopeMetrics) {
      for (const metric of scope.metrics)
        types.set(metric.descriptor.name, metric.descriptor.valueType);
    }
  }
  expect(types.size).toBe(8);
  for (const [name, type] of types) {
    expect(type, name).toBe(name === "herald.delivery.duration" ? ValueType.DOUBLE : ValueType.INT);
  }
});

it("goes on from a forgotten subscription's OTLP attempt count when its id comes back", async () => {
  // A reload removes a subscription and a later one adds it back: the SDK still holds the
  // count it last observed, so counting from 0 again would lose attempts under the same start time.
  const exporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
  const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 60_000 });
  provider = new MeterProvider({ readers: [reader] });
  metrics.setGlobalMeterProvider(provider);
  const m = createGatewayMetrics({ queueDepth: async () => 0 });
  const delivered = async () => {
    await reader.forceFlush();
    const last = exporter.getMetrics().at(-1);
    const metric = last?.scopeMetrics
      .flatMap((scope) => scope.metrics)
      .find((x) => x.descriptor.name === "herald.deliveries");
    const point = metric?.dataPoints.find(
      (p) =>
        p.attributes["herald.subscription.id"] === "s1" && p.attributes.outcome === "delivered",
    );
    return { value: point?.value, start: point?.startTime };
  };
  for (let i = 0; i < 3; i++) m.attempt("s1", "sink", "delivered", 0.01);
  const first = await delivered();
  expect(first.value).toBe(3);

  m.forgetSubscription("s1");
  expect(await m.render()).not.toContain('subscription="s1"');
  for (let i = 0; i < 3; i++) m.attempt("s1", "sink", "delivered", 0.01);
  expect(await m.render()).toContain(
    'herald_deliveries_total{subscription="s1",target="sink",outcome="delivered"} 6\n',
  );
  expect(await delivered()).toEqual({ value: 6, start: first.start });

  m.forgetSubscription("s1");
  m.attempt("s1", "sink", "delivered", 0.01);
  expect(await delivered()).toEqual({ value: 7, start: first.start });
});

it("with delta temporality, a forgotten subscription's OTLP series end, and churn never overflows", async () => {
  // `OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE=delta`: each export holds what changed
  // since the last one, and the SDK forgets the rest. The attempt counter was observed (an
  // observable counter), whose every attribute set the SDK remembers to compute deltas, so
  // past the cardinality limit (2000; 2 here) a new subscription's attempts went to the
  // `otel.metric.overflow` series, as a delta of 0 (lost), however many had been deleted.
  const limit = (instrumentName: string) => ({ instrumentName, aggregationCardinalityLimit: 2 });
  const { m, exported } = deltaExports([limit("herald.deliveries"), limit("herald.dead_events")]);
  for (const id of ["tail-1", "tail-2", "tail-3", "tail-4"]) {
    m.attempt(id, "sink", "delivered", 0.01);
    m.dead(id, "store", 1);
    const points = await exported();
    expect(points("herald.deliveries")).toEqual([
      { value: 1, "herald.subscription.id": id, target: "sink", outcome: "delivered" },
    ]);
    expect(points("herald.dead_events")).toEqual([
      { value: 1, "herald.subscription.id": id, ending: "store" },
    ]);
    m.forgetSubscription(id);
  }
  // Nothing new: nothing of the deleted ones is exported again.
  const after = await exported();
  expect(after("herald.deliveries")).toEqual([]);
  expect(after("herald.dead_events")).toEqual([]);
});

it("hands attempts to the SDK at collection: every one is exported once, a deleted subscription's last ones too", async () => {
  const { m, exported: exports } = deltaExports();
  const exported = async () => (await exports())("herald.deliveries");
  for (let i = 0; i < 250; i++) m.attempt("a", "sink", "delivered", 0.01);
  m.attempt("a", "sink", "retry", 0.01);
  m.attempt("gone", "sink", "delivered", 0.01);
  m.forgetSubscription("gone"); // deleted before the next collection
  expect(await exported()).toEqual(
    expect.arrayContaining([
      { value: 250, "herald.subscription.id": "a", target: "sink", outcome: "delivered" },
      { value: 1, "herald.subscription.id": "a", target: "sink", outcome: "retry" },
      { value: 1, "herald.subscription.id": "gone", target: "sink", outcome: "delivered" },
    ]),
  );
  m.attempt("a", "sink", "delivered", 0.01);
  expect(await exported()).toEqual([
    { value: 1, "herald.subscription.id": "a", target: "sink", outcome: "delivered" },
  ]);
  expect(await exported()).toEqual([]);
});

it("holds no label sets of forgotten subscriptions when no SDK collects (the API's no-op meter)", () => {
  // No meter provider: no collection ever runs, so nothing else hands the attempts over.
  const m = createGatewayMetrics({ queueDepth: async () => 0 });
  for (let i = 0; i < 5000; i++) {
    m.attempt(`s${i}`, "sink", "delivered", 0.01);
    m.attempt(`s${i}`, "sink", "retry", 0.01);
    m.forgetSubscription(`s${i}`);
  }
  m.attempt("live", "sink", "delivered", 0.01);
  // Every deleted subscription's sets were kept until a collection: 10,001 here.
  expect(m.heldLabelSets()).toBeLessThanOrEqual(1025);
});

it("hands attempts over before a collection when many label sets wait, each counted once", async () => {
  const points = await collect((m) => {
    for (let i = 0; i < 3000; i++) m.attempt(`s${i % 1500}`, "sink", "delivered", 0.01);
  });
  const deliveries = points.get("herald.deliveries") ?? [];
  expect(deliveries).toHaveLength(1500);
  expect(deliveries.every((p) => p.value === 2)).toBe(true);
});
