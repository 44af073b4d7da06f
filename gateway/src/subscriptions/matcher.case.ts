import { describe, expect, it } from "vitest";
import type { AttributeValue, CloudEvent } from "../event/cloud-event.js";
import type { Matcher } from "./matcher.js";
import { DEFAULT_DELIVERY, type Filter, type Subscription } from "./subscription.js";

/** Builds a normalised subscription for tests. */
export function subscription(
  id: string,
  match: { source?: string; types?: readonly string[]; filters?: readonly Filter[] } = {},
): Subscription {
  return {
    id,
    ...match,
    filters: match.filters ?? [],
    sink: `http://127.0.0.1:9000/${id}`,
    protocol: "HTTP",
    protocolsettings: { headers: {} },
    delivery: DEFAULT_DELIVERY,
  };
}

function event(attributes: Record<string, AttributeValue> = {}): CloudEvent {
  const base = {
    specversion: "1.0",
    id: "1",
    source: "/orders",
    type: "com.example.order.created",
  };
  return { attributes: { ...base, ...attributes } };
}

/**
 * The contract every `Matcher` implementation passes (Subscriptions API 3.2.1 source/types/filters,
 * 3.2.4 filters), so an indexed matcher can replace the linear one without changing behaviour.
 *
 * @example
 * describeMatcher("createMatcher", createMatcher);
 */
export function describeMatcher(
  name: string,
  create: (subscriptions: readonly Subscription[]) => Matcher,
): void {
  const ids = (matcher: Matcher, e: CloudEvent) => matcher.match(e).map((s) => s.id);

  describe(`${name}: Matcher contract`, () => {
    it("matches every event when a subscription has no source, types or filters", () => {
      const matcher = create([subscription("everything")]);
      expect(ids(matcher, event())).toStrictEqual(["everything"]);
      expect(ids(matcher, event({ source: "/x", type: "y" }))).toStrictEqual(["everything"]);
    });

    it("returns the subscription objects it was given", () => {
      const sub = subscription("a");
      const [matched] = create([sub]).match(event());
      expect(matched).toBe(sub);
    });

    it("matches source exactly (3.2.1 source)", () => {
      const matcher = create([subscription("orders", { source: "/orders" })]);
      expect(ids(matcher, event())).toStrictEqual(["orders"]);
      expect(ids(matcher, event({ source: "/orders/eu" }))).toStrictEqual([]);
      expect(ids(matcher, event({ source: "/Orders" }))).toStrictEqual([]);
      expect(ids(matcher, event({ source: "/order" }))).toStrictEqual([]);
    });

    it("matches when the type is one of types (3.2.1 types)", () => {
      const types = ["com.example.order.created", "com.example.order.deleted"];
      const matcher = create([subscription("orders", { types })]);
      expect(ids(matcher, event())).toStrictEqual(["orders"]);
      expect(ids(matcher, event({ type: "com.example.order.deleted" }))).toStrictEqual(["orders"]);
      expect(ids(matcher, event({ type: "com.example.order" }))).toStrictEqual([]);
      expect(ids(matcher, event({ type: "com.example.order.created.v2" }))).toStrictEqual([]);
    });

    it("requires source, types and every filter together", () => {
      const matcher = create([
        subscription("s", {
          source: "/orders",
          types: ["com.example.order.created"],
          filters: [{ prefix: { subject: "orders/" } }, { not: { exact: { region: "eu" } } }],
        }),
      ]);
      expect(ids(matcher, event({ subject: "orders/1" }))).toStrictEqual(["s"]);
      expect(ids(matcher, event({ subject: "orders/1", region: "us" }))).toStrictEqual(["s"]);
      expect(ids(matcher, event({ subject: "orders/1", region: "eu" }))).toStrictEqual([]);
      expect(ids(matcher, event({ subject: "users/1" }))).toStrictEqual([]);
      expect(ids(matcher, event())).toStrictEqual([]);
      expect(ids(matcher, event({ subject: "orders/1", source: "/users" }))).toStrictEqual([]);
      expect(ids(matcher, event({ subject: "orders/1", type: "t" }))).toStrictEqual([]);
    });

    it("compares non-string extension values through their string form", () => {
      const matcher = create([
        subscription("flagged", { filters: [{ exact: { urgent: "true" } }] }),
        subscription("big", { filters: [{ prefix: { amount: "1000" } }] }),
      ]);
      expect(ids(matcher, event({ urgent: true }))).toStrictEqual(["flagged"]);
      expect(ids(matcher, event({ urgent: false }))).toStrictEqual([]);
      expect(ids(matcher, event({ amount: 100000 }))).toStrictEqual(["big"]);
      expect(ids(matcher, event({ urgent: true, amount: 10000 }))).toStrictEqual([
        "flagged",
        "big",
      ]);
    });

    it("returns every match in configuration order", () => {
      const matcher = create([
        subscription("c", { filters: [{ suffix: { type: ".created" } }] }),
        subscription("a", { source: "/orders" }),
        subscription("z", { source: "/users" }),
        subscription("b"),
        subscription("d", { types: ["com.example.order.created"] }),
      ]);
      expect(ids(matcher, event())).toStrictEqual(["c", "a", "b", "d"]);
      expect(ids(matcher, event({ source: "/users", type: "x" }))).toStrictEqual(["z", "b"]);
    });

    it("returns one shared, frozen empty array when nothing matches", () => {
      const matcher = create([
        subscription("a", { source: "/a" }),
        subscription("b", { source: "/b" }),
      ]);
      const first = matcher.match(event());
      expect(first).toStrictEqual([]);
      expect(Object.isFrozen(first)).toBe(true);
      expect(matcher.match(event({ source: "/c" }))).toBe(first);
      expect(create([]).match(event())).toStrictEqual([]);
    });

    it("is unaffected by later changes to the array it was given", () => {
      const subscriptions = [subscription("a")];
      const matcher = create(subscriptions);
      subscriptions.push(subscription("b"));
      subscriptions.shift();
      expect(ids(matcher, event())).toStrictEqual(["a"]);
    });

    it("rejects a filter that does not compile when created, naming the subscription", () => {
      const subscriptions = [
        subscription("ok"),
        subscription("broken", { filters: [{ exact: {} }] }),
      ];
      expect(() => create(subscriptions)).toThrowError(TypeError);
      expect(() => create(subscriptions)).toThrowError(
        /^subscription "broken": exact filter: needs at least one attribute$/,
      );
    });

    it("matches each of several types, and repeated ones once", () => {
      const matcher = create([
        subscription("ab", { types: ["a", "b", "a"] }),
        subscription("b", { types: ["b"] }),
        subscription("none", { types: [] }),
      ]);
      expect(ids(matcher, event({ type: "a" }))).toStrictEqual(["ab"]);
      expect(ids(matcher, event({ type: "b" }))).toStrictEqual(["ab", "b"]);
      expect(ids(matcher, event({ type: "c" }))).toStrictEqual([]);
    });

    it("matches every prefix of a value, shortest or longest first in the list", () => {
      const matcher = create([
        subscription("abc", { filters: [{ prefix: { subject: "abc" } }] }),
        subscription("a", { filters: [{ prefix: { subject: "a" } }] }),
        subscription("ab", { filters: [{ prefix: { subject: "ab" } }] }),
        subscription("b", { filters: [{ prefix: { subject: "b" } }] }),
      ]);
      expect(ids(matcher, event({ subject: "abcd" }))).toStrictEqual(["abc", "a", "ab"]);
      expect(ids(matcher, event({ subject: "abc" }))).toStrictEqual(["abc", "a", "ab"]);
      expect(ids(matcher, event({ subject: "ab" }))).toStrictEqual(["a", "ab"]);
      expect(ids(matcher, event({ subject: "xabc" }))).toStrictEqual([]);
      expect(ids(matcher, event())).toStrictEqual([]);
    });

    it("matches every suffix of a value, and only at its end", () => {
      const matcher = create([
        subscription("created", { filters: [{ suffix: { type: ".created" } }] }),
        subscription("d", { filters: [{ suffix: { type: "d" } }] }),
        subscription("order", { filters: [{ suffix: { type: "order" } }] }),
      ]);
      expect(ids(matcher, event())).toStrictEqual(["created", "d"]);
      expect(ids(matcher, event({ type: "created" }))).toStrictEqual(["d"]);
      expect(ids(matcher, event({ type: "com.example.order" }))).toStrictEqual(["order"]);
      expect(ids(matcher, event({ type: "com.example.order.x" }))).toStrictEqual([]);
    });

    it("looks numbers and booleans up by their string form in every kind of filter", () => {
      const matcher = create([
        subscription("twelve", { filters: [{ exact: { count: "12" } }] }),
        subscription("starts-1", { filters: [{ prefix: { count: "1" } }] }),
        subscription("ends-2", { filters: [{ suffix: { count: "2" } }] }),
        subscription("true", { filters: [{ suffix: { flag: "ue" } }] }),
      ]);
      expect(ids(matcher, event({ count: 12 }))).toStrictEqual(["twelve", "starts-1", "ends-2"]);
      expect(ids(matcher, event({ count: 102 }))).toStrictEqual(["starts-1", "ends-2"]);
      expect(ids(matcher, event({ count: -12 }))).toStrictEqual(["ends-2"]);
      expect(ids(matcher, event({ count: "12" }))).toStrictEqual(["twelve", "starts-1", "ends-2"]);
      expect(ids(matcher, event({ flag: true }))).toStrictEqual(["true"]);
      expect(ids(matcher, event({ flag: false }))).toStrictEqual([]);
    });

    it("treats constructor and __proto__ as attribute names like any other", () => {
      // Computed keys for __proto__: `{ __proto__: x }` would set the prototype, not an attribute.
      const matcher = create([
        subscription("exact-ctor", { filters: [{ exact: { constructor: "c" } }] }),
        subscription("prefix-ctor", { filters: [{ prefix: { constructor: "f" } }] }),
        subscription("suffix-ctor", { filters: [{ suffix: { constructor: "}" } }] }),
        subscription("exact-proto", { filters: [{ exact: { ["__proto__"]: "p" } }] }),
        subscription("prefix-proto", { filters: [{ prefix: { ["__proto__"]: "[" } }] }),
      ]);
      // Without the attributes, nothing inherited from Object.prototype may count.
      expect(ids(matcher, event())).toStrictEqual([]);
      expect(ids(matcher, event({ constructor: "c" }))).toStrictEqual(["exact-ctor"]);
      expect(ids(matcher, event({ constructor: "f}" }))).toStrictEqual([
        "prefix-ctor",
        "suffix-ctor",
      ]);
      expect(ids(matcher, event({ ["__proto__"]: "p" }))).toStrictEqual(["exact-proto"]);
      expect(ids(matcher, event({ ["__proto__"]: "[x" }))).toStrictEqual(["prefix-proto"]);
    });

    it("checks subscriptions with only not, any or no filters against every event", () => {
      const matcher = create([
        subscription("not-created", { filters: [{ not: { exact: { type: "x.created" } } }] }),
        subscription("typed", { types: ["x.created"] }),
        subscription("any", {
          filters: [{ any: [{ exact: { type: "x.created" } }, { prefix: { subject: "s" } }] }],
        }),
        subscription("all-of-nothing-indexable", {
          filters: [
            { all: [{ not: { exact: { subject: "s1" } } }, { any: [{ suffix: { type: "d" } }] }] },
          ],
        }),
        subscription("everything"),
      ]);
      expect(ids(matcher, event({ type: "x.created" }))).toStrictEqual([
        "typed",
        "any",
        "all-of-nothing-indexable",
        "everything",
      ]);
      expect(ids(matcher, event({ type: "y", subject: "s1" }))).toStrictEqual([
        "not-created",
        "any",
        "everything",
      ]);
      expect(ids(matcher, event({ type: "y" }))).toStrictEqual(["not-created", "everything"]);
    });

    it("uses conditions inside a top-level all, and every condition still applies", () => {
      const matcher = create([
        subscription("nested", {
          filters: [
            { all: [{ exact: { subject: "s" } }, { all: [{ prefix: { region: "eu-" } }] }] },
          ],
        }),
      ]);
      expect(ids(matcher, event({ subject: "s", region: "eu-west" }))).toStrictEqual(["nested"]);
      expect(ids(matcher, event({ subject: "s", region: "us-east" }))).toStrictEqual([]);
      expect(ids(matcher, event({ subject: "t", region: "eu-west" }))).toStrictEqual([]);
      expect(ids(matcher, event({ region: "eu-west" }))).toStrictEqual([]);
    });

    it("returns a subscription once when several of its conditions hold", () => {
      const matcher = create([
        subscription("all-at-once", {
          source: "/orders",
          types: ["com.example.order.created", "com.example.order.created"],
          filters: [
            { exact: { source: "/orders", type: "com.example.order.created" } },
            { prefix: { type: "com.example." } },
            { suffix: { type: ".created", source: "s" } },
            { all: [{ exact: { type: "com.example.order.created" } }] },
          ],
        }),
        subscription("prefix-twice", {
          filters: [{ prefix: { subject: "a" } }, { prefix: { subject: "ab" } }],
        }),
      ]);
      expect(ids(matcher, event())).toStrictEqual(["all-at-once"]);
      expect(ids(matcher, event({ subject: "abc" }))).toStrictEqual([
        "all-at-once",
        "prefix-twice",
      ]);
      expect(ids(matcher, event({ subject: "a" }))).toStrictEqual(["all-at-once"]);
    });

    it("keeps configuration order across every kind of condition", () => {
      const matcher = create([
        subscription("suffix", { filters: [{ suffix: { subject: "/1" } }] }),
        subscription("not", { filters: [{ not: { exact: { subject: "nope" } } }] }),
        subscription("exact-ext", { filters: [{ exact: { region: "eu" } }] }),
        subscription("source", { source: "/orders" }),
        subscription("prefix", { filters: [{ prefix: { subject: "orders/" } }] }),
        subscription("types", { types: ["other", "com.example.order.created"] }),
        subscription("everything"),
        subscription("exact-type", { filters: [{ exact: { type: "com.example.order.created" } }] }),
      ]);
      const all = ["suffix", "not", "exact-ext", "source", "prefix", "types", "everything"];
      expect(ids(matcher, event({ subject: "orders/1", region: "eu" }))).toStrictEqual([
        ...all,
        "exact-type",
      ]);
      expect(ids(matcher, event({ subject: "nope", type: "other" }))).toStrictEqual([
        "source",
        "types",
        "everything",
      ]);
    });

    it("matches on many distinct attribute names", () => {
      const names = Array.from({ length: 40 }, (_, i) => `ext${i}`);
      const matcher = create(
        names.map((name, i) =>
          subscription(name, {
            filters: [
              { [["exact", "prefix", "suffix"][i % 3] ?? "exact"]: { [name]: "v" } } as Filter,
            ],
          }),
        ),
      );
      expect(ids(matcher, event({ ext0: "v", ext1: "vw", ext2: "wv", ext39: "v" }))).toStrictEqual([
        "ext0",
        "ext1",
        "ext2",
        "ext39",
      ]);
      expect(ids(matcher, event({ ext3: "w", ext4: "wv", ext5: "vw" }))).toStrictEqual([]);
    });
  });
}
