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

    it("rejects an sql filter when created, naming the subscription", () => {
      const subscriptions = [
        subscription("ok"),
        subscription("cesql", { filters: [{ sql: "TRUE" }] }),
      ];
      expect(() => create(subscriptions)).toThrowError(TypeError);
      expect(() => create(subscriptions)).toThrowError(
        /^subscription "cesql": sql dialect not supported yet$/,
      );
    });
  });
}
