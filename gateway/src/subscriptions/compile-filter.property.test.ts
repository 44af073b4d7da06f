import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { AttributeValue, CloudEvent } from "../event/cloud-event.js";
import { compileFilter, compileFilters } from "./compile-filter.js";
import type { Filter } from "./subscription.js";

/** Direct recursive reading of Subscriptions API 3.2.4.1.1, independent of the compiler. */
function reference(filter: Filter, event: CloudEvent): boolean {
  const text = (name: string): string | undefined =>
    Object.hasOwn(event.attributes, name) ? String(event.attributes[name]) : undefined;
  const every = (
    attrs: Readonly<Record<string, string>>,
    test: (a: string, v: string) => boolean,
  ) =>
    Object.entries(attrs).every(([name, value]) => {
      const actual = text(name);
      return actual !== undefined && test(actual, value);
    });
  if ("exact" in filter) return every(filter.exact, (a, v) => a === v);
  if ("prefix" in filter) return every(filter.prefix, (a, v) => a.startsWith(v));
  if ("suffix" in filter) return every(filter.suffix, (a, v) => a.endsWith(v));
  if ("all" in filter) return filter.all.every((f) => reference(f, event));
  if ("any" in filter) return filter.any.some((f) => reference(f, event));
  if ("not" in filter) return !reference(filter.not, event);
  throw new Error("no reference for sql");
}

// A small alphabet and name pool so values collide and prefixes/suffixes often hold. "constructor"
// with "f" / "}" checks that an inherited Object.prototype.constructor ("function Object() {...}")
// never counts as an attribute.
const names = fc.constantFrom("type", "subject", "flag", "count", "constructor");
const text = fc.string({
  unit: fc.constantFrom("a", "b", "f", "1", "t", "r", "u", "e"),
  maxLength: 4,
});
const filterValue = fc.oneof(
  text.filter((s) => s !== ""),
  fc.constantFrom("true", "false", "1", "12", "-1", "f", "}"),
);
const attributeValue: fc.Arbitrary<AttributeValue> = fc.oneof(
  text,
  fc.boolean(),
  fc.integer({ min: -2, max: 12 }),
);

const attributes = fc.dictionary(names, filterValue, { minKeys: 1, maxKeys: 3 });
const { filter } = fc.letrec<{ filter: Filter }>((tie) => ({
  filter: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    attributes.map((exact): Filter => ({ exact })),
    attributes.map((prefix): Filter => ({ prefix })),
    attributes.map((suffix): Filter => ({ suffix })),
    fc.array(tie("filter"), { minLength: 1, maxLength: 3 }).map((all): Filter => ({ all })),
    fc.array(tie("filter"), { minLength: 1, maxLength: 3 }).map((any): Filter => ({ any })),
    tie("filter").map((not): Filter => ({ not })),
  ),
}));

const event: fc.Arbitrary<CloudEvent> = fc
  .dictionary(names, attributeValue, { maxKeys: 5 })
  .map((extra) => ({ attributes: { specversion: "1.0", id: "1", source: "/s", ...extra } }));

describe("compiled filters agree with the reference reading of 3.2.4", () => {
  it("for one filter over many events", () => {
    fc.assert(
      fc.property(filter, fc.array(event, { minLength: 1, maxLength: 8 }), (f, events) => {
        const predicate = compileFilter(f);
        for (const e of events) expect(predicate(e)).toBe(reference(f, e));
      }),
      { numRuns: 1000 },
    );
  });

  it("for a filters list (ANDed, empty passes)", () => {
    fc.assert(
      fc.property(fc.array(filter, { maxLength: 3 }), event, (filters, e) => {
        expect(compileFilters(filters)(e)).toBe(filters.every((f) => reference(f, e)));
      }),
      { numRuns: 300 },
    );
  });
});
