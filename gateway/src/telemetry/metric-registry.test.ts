import { describe, expect, it } from "vitest";
import { createMetricRegistry } from "./metric-registry.js";

describe("createMetricRegistry (Prometheus text format 0.0.4)", () => {
  it("renders counters by label set, with HELP and TYPE once per family", async () => {
    const registry = createMetricRegistry();
    const c = registry.counter("x_total", "Things.");
    c.add(1, { reason: "a" });
    c.add(2, { reason: "a" });
    c.add(1, { reason: 'q"uo\\te\n' });
    c.add(-5, { reason: "a" });
    expect(await registry.render()).toBe(
      [
        "# HELP x_total Things.",
        "# TYPE x_total counter",
        'x_total{reason="a"} 3',
        'x_total{reason="q\\"uo\\\\te\\n"} 1',
        "",
      ].join("\n"),
    );
  });

  it("renders cumulative histogram buckets, +Inf, sum and count", async () => {
    const registry = createMetricRegistry();
    const h = registry.histogram("d_seconds", "Latency.", [0.1, 1]);
    for (const v of [0.05, 0.1, 0.5, 3]) h.record(v, { outcome: "ok" });
    const text = await registry.render();
    expect(text).toContain('d_seconds_bucket{outcome="ok",le="0.1"} 2');
    expect(text).toContain('d_seconds_bucket{outcome="ok",le="1"} 3');
    expect(text).toContain('d_seconds_bucket{outcome="ok",le="+Inf"} 4');
    expect(text).toContain('d_seconds_sum{outcome="ok"} 3.65');
    expect(text).toContain('d_seconds_count{outcome="ok"} 4');
  });

  it("reads gauges at render time and leaves out one whose read fails", async () => {
    const registry = createMetricRegistry();
    let depth = 3;
    registry.gauge("depth", "Depth.", async () => depth);
    registry.gauge("broken", "Broken.", () => {
      throw new Error("store down");
    });
    expect(await registry.render()).toBe("# HELP depth Depth.\n# TYPE depth gauge\ndepth 3\n");
    depth = 5;
    expect(await registry.render()).toContain("depth 5");
  });

  it("forgets the series of one label value in every family, and only those", async () => {
    const registry = createMetricRegistry();
    const c = registry.counter("x_total", "Things.");
    const h = registry.histogram("d_seconds", "Latency.", [1]);
    for (const subscription of ["a", "b"]) {
      c.add(1, { subscription, outcome: "ok" });
      h.record(0.5, { subscription });
    }
    c.add(1, { reason: "a" });
    registry.forget("subscription", "a");
    const text = await registry.render();
    expect(text).not.toContain('subscription="a"');
    expect(text).toContain('x_total{subscription="b",outcome="ok"} 1');
    expect(text).toContain('d_seconds_count{subscription="b"} 1');
    expect(text).toContain('x_total{reason="a"} 1');
    // Counting again starts a fresh series.
    c.add(1, { subscription: "a", outcome: "ok" });
    expect(await registry.render()).toContain('x_total{subscription="a",outcome="ok"} 1');
  });
});
