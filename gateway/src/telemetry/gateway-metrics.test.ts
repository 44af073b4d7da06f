import { metrics } from "@opentelemetry/api";
import {
  AggregationTemporality,
  InMemoryMetricExporter,
  MeterProvider,
  PeriodicExportingMetricReader,
} from "@opentelemetry/sdk-metrics";
import { afterEach, expect, it } from "vitest";
import { createGatewayMetrics } from "./gateway-metrics.js";

// What the OpenTelemetry side of the metrics exports, read through a real SDK meter provider.
let provider: MeterProvider | undefined;
afterEach(async () => {
  metrics.disable();
  await provider?.shutdown();
  provider = undefined;
});

async function collect(record: (m: ReturnType<typeof createGatewayMetrics>) => void) {
  const exporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
  const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 60_000 });
  provider = new MeterProvider({ readers: [reader] });
  metrics.setGlobalMeterProvider(provider);
  const gatewayMetrics = createGatewayMetrics({ queueDepth: async () => 7 });
  record(gatewayMetrics);
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
