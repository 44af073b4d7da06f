import { describe, expect, it } from "vitest";
import {
  conformanceSubscriptions,
  FILTER_TYPE,
  type FilterExpression,
  type FilterSinkName,
  SINK_PATHS,
} from "../config/subscriptions.js";
import { FILTER_PROBES } from "./filter-cases.js";

/** Subscriptions API 0.1 §3.2.4.1 as written, to check the probe tables against the filters. */
function matches(f: FilterExpression, e: Record<string, string>): boolean {
  const each = (m: Readonly<Record<string, string>>, test: (v: string, want: string) => boolean) =>
    Object.entries(m).every(([k, want]) => e[k] !== undefined && test(e[k], want));
  if ("exact" in f) return each(f.exact, (v, w) => v === w);
  if ("prefix" in f) return each(f.prefix, (v, w) => v.startsWith(w));
  if ("suffix" in f) return each(f.suffix, (v, w) => v.endsWith(w));
  if ("all" in f) return f.all.every((g) => matches(g, e));
  if ("any" in f) return f.any.some((g) => matches(g, e));
  return !matches(f.not, e);
}

describe("filter probes", () => {
  const subs = conformanceSubscriptions("http://127.0.0.1:1");
  const event = { id: "x", source: "/herald/conformance/run/t", type: FILTER_TYPE };

  it.each(Object.keys(FILTER_PROBES) as FilterSinkName[])(
    "agree with the %s subscription's definition",
    (name) => {
      const sub = subs.find((s) => s.sink.endsWith(SINK_PATHS[name]))!;
      for (const probe of FILTER_PROBES[name]) {
        const e: Record<string, string> = { ...event };
        for (const [k, v] of Object.entries(probe.attributes)) e[k] = String(v);
        const routed =
          (sub.source === undefined || sub.source === e.source) &&
          (sub.types === undefined || sub.types.includes(e.type!)) &&
          sub.filters.every((f) => matches(f, e));
        expect(routed, JSON.stringify(probe)).toBe(probe.match);
      }
    },
  );

  it("never route a probe of one case to another case's subscription by accident", () => {
    for (const [name, probes] of Object.entries(FILTER_PROBES)) {
      for (const probe of probes.filter((p) => p.match)) {
        const e: Record<string, string> = { ...event };
        for (const [k, v] of Object.entries(probe.attributes)) e[k] = String(v);
        const others = subs.filter(
          (s) =>
            s.id !== "conformance-binary" &&
            s.id !== "conformance-structured" &&
            !s.sink.endsWith(SINK_PATHS[name as FilterSinkName]) &&
            (s.source === undefined || s.source === e.source) &&
            (s.types === undefined || s.types.includes(e.type!)) &&
            s.filters.every((f) => matches(f, e)),
        );
        expect(
          others.map((s) => s.id),
          `${name} ${JSON.stringify(probe)}`,
        ).toEqual([]);
      }
    }
  });
});
