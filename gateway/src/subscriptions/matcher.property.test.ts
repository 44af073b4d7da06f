import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { AttributeValue, CloudEvent } from "../event/cloud-event.js";
import { subscription } from "./matcher.case.js";
import { createLinearMatcher, createMatcher, type Matcher } from "./matcher.js";
import type { Filter, Subscription } from "./subscription.js";

// Few names and values, the values prefixes and suffixes of each other ("a" < "ab" < "abc",
// "e" < "ue" < "true"), so subscriptions share keys and events hit several index paths at once.
// "constructor" and "__proto__" check that nothing inherited from Object.prototype is found.
const names = fc.constantFrom("source", "type", "subject", "count", "constructor", "__proto__");
// Non-ASCII: "é" precomposed and as "e" + U+0301 (no normalisation: they differ), and emoji
// whose surrogate pairs share their first code unit, so a trie splits keys inside a pair.
const unicode = ["é", "e\u0301", "😀", "😁", "😀x", "x😀", "a😁"] as const;
const value = fc.constantFrom(
  ...["a", "ab", "abc", "b", "ba", "1", "12", "true", "ue", "e", "f"],
  ...unicode,
);
/** Values that are prefixes or suffixes of each other: a < ab < abc, 1 < 12, e < ue < true. */
const chain = fc.constantFrom("a", "ab", "abc", "1", "12", "e", "ue", "true", ...unicode);
// CESQL is never indexed: these subscriptions are checked against every event.
const sql = fc.constantFrom(
  "subject LIKE 'a%'",
  "subject LIKE '_x'",
  "count > 1",
  "EXISTS subject",
  "subject IN ('a', 'ab', '😀')",
  "LENGTH(subject) = 1",
);
const attributeValue: fc.Arbitrary<AttributeValue> = fc.oneof(
  value,
  fc.constantFrom(true, false, 1, 12, -1),
);

const attributes = fc.dictionary(names, value, { minKeys: 1, maxKeys: 2, noNullPrototype: true });
const { filter } = fc.letrec<{ filter: Filter }>((tie) => ({
  filter: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    attributes.map((exact): Filter => ({ exact })),
    attributes.map((prefix): Filter => ({ prefix })),
    attributes.map((suffix): Filter => ({ suffix })),
    fc.array(tie("filter"), { minLength: 1, maxLength: 3 }).map((all): Filter => ({ all })),
    fc.array(tie("filter"), { minLength: 1, maxLength: 2 }).map((any): Filter => ({ any })),
    tie("filter").map((not): Filter => ({ not })),
    sql.map((sql): Filter => ({ sql })),
  ),
}));

// Two in three subscriptions have a single condition on one of two names, so the tries hold keys
// that are prefixes (suffixes) of each other and one event walks past several of them. The others
// have source and types a quarter of the time each and short filter lists, so that all of their
// conditions hold for a fair share of the events.
const single = fc
  .record({
    kind: fc.constantFrom("exact", "prefix", "suffix"),
    name: fc.constantFrom("subject", "count"),
    value: chain,
  })
  .map(({ kind, name, value }) => ({
    source: undefined,
    types: undefined,
    filters: [{ [kind]: { [name]: value } } as Filter],
  }));
const general = fc.record({
  source: fc.option(value, { freq: 3, nil: undefined }),
  types: fc.option(fc.array(value, { maxLength: 3 }), { freq: 3, nil: undefined }),
  filters: fc.array(filter, { maxLength: 2 }),
});
const subscriptions: fc.Arbitrary<Subscription[]> = fc
  .array(fc.oneof({ arbitrary: single, weight: 2 }, { arbitrary: general, weight: 1 }), {
    maxLength: 30,
  })
  .map((list) =>
    list.map(({ source, types, filters }, i) =>
      subscription(`s${i}`, {
        filters,
        ...(source === undefined ? {} : { source }),
        ...(types === undefined ? {} : { types }),
      }),
    ),
  );

const event: fc.Arbitrary<CloudEvent> = fc
  .record({
    source: value,
    type: value,
    subject: fc.option(chain, { freq: 3, nil: undefined }),
    count: fc.option(fc.oneof(chain, fc.constantFrom(1, 12, 120)), { freq: 3, nil: undefined }),
    extra: fc.array(fc.tuple(names, attributeValue), { maxLength: 4 }),
  })
  .map(({ source, type, subject, count, extra }) => {
    if (subject !== undefined) extra.unshift(["subject", subject]);
    if (count !== undefined) extra.unshift(["count", count]);
    const attributes: Record<string, AttributeValue> = {
      specversion: "1.0",
      id: "1",
      source,
      type,
    };
    for (const [name, v] of extra) {
      // defineProperty: assigning `__proto__` would set the prototype rather than an attribute.
      Object.defineProperty(attributes, name, {
        value: v,
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
    return { attributes };
  });

/** `indexed` answers every event with the same subscription objects as `linear`, in its order. */
function expectSameMatches(indexed: Matcher, linear: Matcher, events: readonly CloudEvent[]): void {
  for (const e of events) {
    const expected = linear.match(e);
    const actual = indexed.match(e);
    expect(actual.map((s) => s.id)).toStrictEqual(expected.map((s) => s.id));
    expect(actual.every((s, i) => s === expected[i])).toBe(true);
  }
}

describe("createMatcher agrees with createLinearMatcher", () => {
  it("on random subscription sets and events: the same subscriptions, in the same order", () => {
    fc.assert(
      fc.property(
        subscriptions,
        fc.array(event, { minLength: 1, maxLength: 10 }),
        (subs, events) => {
          expectSameMatches(createMatcher(subs), createLinearMatcher(subs), events);
        },
      ),
      { numRuns: 3000 },
    );
  });

  it("also when part of the set was added one by one (API creates) after it was built", () => {
    fc.assert(
      fc.property(
        subscriptions,
        fc.nat(),
        fc.array(event, { minLength: 1, maxLength: 10 }),
        (subs, split, events) => {
          const at = subs.length === 0 ? 0 : split % (subs.length + 1);
          const indexed = createMatcher(subs.slice(0, at));
          for (const added of subs.slice(at)) indexed.add?.(added);
          expectSameMatches(indexed, createLinearMatcher(subs), events);
        },
      ),
      { numRuns: 2000 },
    );
  });
});
