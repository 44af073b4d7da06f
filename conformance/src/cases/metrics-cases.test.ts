import { describe, expect, it } from "vitest";
import { metricsCases, sampleSum } from "./metrics-cases.js";

describe("sampleSum", () => {
  const text = [
    "# HELP herald_events_accepted_total Events accepted (stored).",
    "# TYPE herald_events_accepted_total counter",
    "herald_events_accepted_total 3",
    'herald_events_accepted_total{store="memory"} 4',
    "herald_events_accepted_total_created 1700000000",
    "herald_events_duplicate_total 9",
  ].join("\n");

  it("adds every sample of the metric, with or without labels, and no other metric", () => {
    expect(sampleSum(text, "herald_events_accepted_total")).toBe(7);
    expect(sampleSum(text, "herald_events_duplicate_total")).toBe(9);
  });

  it("is undefined for a metric without samples", () => {
    expect(sampleSum(text, "herald_queue_depth")).toBeUndefined();
  });
});

describe("metricsCases", () => {
  const names = (auth?: Parameters<typeof metricsCases>[0]) =>
    metricsCases(auth).map((c) => c.name);

  it("are all named herald:, so a run against another gateway can tell them apart", () => {
    expect(names().every((n) => n.startsWith("herald: metrics: "))).toBe(true);
    expect(names({ token: "t", adminToken: "a" }).every((n) => n.startsWith("herald: "))).toBe(
      true,
    );
  });

  it("add the 401 case with a token, and the 403 case with a separate admin token", () => {
    expect(names()).toHaveLength(2);
    expect(names({ token: "t" })).toHaveLength(3);
    expect(names({ token: "t", adminToken: "t" })).toHaveLength(3);
    expect(names({ token: "t", adminToken: "a" })).toHaveLength(4);
  });
});
