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
  });

  it("goes on from a forgotten series' value when the same labels come back", async () => {
    // A reload removes a subscription and a later one adds it back: starting again from 0 is a
    // counter reset Prometheus misses once the new count reaches the last one it scraped.
    const registry = createMetricRegistry();
    const c = registry.counter("x_total", "Things.");
    const h = registry.histogram("d_seconds", "Latency.", [1]);
    for (let i = 0; i < 3; i++) {
      c.add(1, { subscription: "a", outcome: "ok" });
      h.record(0.5, { subscription: "a" });
    }
    registry.forget("subscription", "a");
    expect(await registry.render()).not.toContain('subscription="a"');
    c.add(1, { subscription: "a", outcome: "ok" });
    h.record(2, { subscription: "a" });
    const text = await registry.render();
    expect(text).toContain('x_total{subscription="a",outcome="ok"} 4\n');
    expect(text).toContain('d_seconds_bucket{subscription="a",le="1"} 3\n');
    expect(text).toContain('d_seconds_bucket{subscription="a",le="+Inf"} 4\n');
    expect(text).toContain('d_seconds_sum{subscription="a"} 3.5\n');
    expect(text).toContain('d_seconds_count{subscription="a"} 4\n');
  });

  it("keeps the values of the last 2000 forgotten series of a family only", async () => {
    const registry = createMetricRegistry();
    const c = registry.counter("x_total", "Things.");
    for (let i = 0; i <= 2000; i++) {
      c.add(5, { subscription: `s${i}` });
      registry.forget("subscription", `s${i}`);
    }
    c.add(1, { subscription: "s0" });
    c.add(1, { subscription: "s1" });
    const text = await registry.render();
    expect(text).toContain('x_total{subscription="s0"} 1\n');
    expect(text).toContain('x_total{subscription="s1"} 6\n');
  });

  it("forgets one label value's series without looking at the others' labels", () => {
    const registry = createMetricRegistry();
    const c = registry.counter("x_total", "Things.");
    const h = registry.histogram("y_seconds", "Times.", [1]);
    let reads = 0;
    // Label objects that count how often their values are read.
    const counted = (labels: Record<string, string>) =>
      new Proxy(labels, {
        get(target, key, receiver) {
          reads += 1;
          return Reflect.get(target, key, receiver);
        },
        getOwnPropertyDescriptor(target, key) {
          reads += 1;
          return Reflect.getOwnPropertyDescriptor(target, key);
        },
      });
    const n = 1000;
    for (let i = 0; i < n; i++) {
      c.add(1, counted({ subscription: `s${i}`, outcome: "200" }));
      h.record(0.5, counted({ subscription: `s${i}` }));
    }
    reads = 0;
    for (let i = 0; i < n; i++) registry.forget("subscription", `s${i}`);
    // Walking every series per forget read ~n²/2 labels (500,000 here); now a few per series.
    expect(reads).toBeLessThan(10 * n);
    // Nothing is kept to find them by once they are gone.
    expect(registry.indexed()).toBe(0);
    c.add(1, { subscription: "new", outcome: "200" });
    registry.forget("subscription", "new");
    expect(registry.indexed()).toBe(0);
  });
});
