import { describe, expect, it } from "vitest";
import type { AttributeValue, CloudEvent } from "../event/cloud-event.js";
import { compileSubscription } from "./compiled-subscription.js";
import { subscription } from "./matcher.case.js";
import type { Filter, Subscription } from "./subscription.js";
import { createSubscriptionIndex } from "./subscription-index.js";

function candidateIds(
  subscriptions: readonly Subscription[],
  attributes: Record<string, AttributeValue>,
) {
  const index = createSubscriptionIndex(subscriptions.map(compileSubscription));
  const event: CloudEvent = {
    attributes: { specversion: "1.0", id: "1", source: "/s", type: "t", ...attributes },
  };
  const { check, sure } = index.candidates(event);
  return [...check, ...sure]
    .flat()
    .sort((a, b) => a.position - b.position)
    .map((entry) => entry.subscription.id);
}

const many = (n: number, make: (i: number) => Subscription) =>
  Array.from({ length: n }, (_, i) => make(i));

describe("createSubscriptionIndex", () => {
  it("offers only the subscriptions filed under the event's values", () => {
    const subscriptions = [
      ...many(1000, (i) => subscription(`type-${i}`, { filters: [{ exact: { type: `t${i}` } }] })),
      ...many(1000, (i) => subscription(`source-${i}`, { source: `/s${i}` })),
      ...many(1000, (i) =>
        subscription(`prefix-${i}`, { filters: [{ prefix: { subject: `p${i}/` } }] }),
      ),
      ...many(1000, (i) =>
        subscription(`suffix-${i}`, { filters: [{ suffix: { subject: `.${i}` } }] }),
      ),
    ];
    expect(
      candidateIds(subscriptions, { type: "t7", source: "/s8", subject: "p9/x.10" }),
    ).toStrictEqual(["type-7", "source-8", "prefix-9", "suffix-10"]);
    expect(candidateIds(subscriptions, { type: "none", subject: "q" })).toStrictEqual([]);
  });

  it("files a subscription under its least shared condition", () => {
    const subscriptions = many(100, (i) =>
      subscription(`s${i}`, {
        source: "/shared",
        types: ["shared"],
        filters: [{ all: [{ prefix: { subject: "shared/" } }, { exact: { id: `e${i}` } }] }],
      }),
    );
    expect(
      candidateIds(subscriptions, { source: "/shared", type: "shared", id: "e5" }),
    ).toStrictEqual(["s5"]);
  });

  it("files types under each of them, once", () => {
    const subscriptions = [subscription("ab", { types: ["a", "b", "a"] })];
    expect(candidateIds(subscriptions, { type: "a" })).toStrictEqual(["ab"]);
    expect(candidateIds(subscriptions, { type: "b" })).toStrictEqual(["ab"]);
  });

  it("offers subscriptions without an indexable condition for every event", () => {
    const subscriptions = [
      subscription("not", { filters: [{ not: { exact: { type: "x" } } }] }),
      subscription("any", { filters: [{ any: [{ exact: { type: "x" } }] }] }),
      subscription("everything"),
      subscription("typed", { types: ["x"] }),
    ];
    expect(candidateIds(subscriptions, { type: "y" })).toStrictEqual(["not", "any", "everything"]);
  });

  it("never finds an inherited property as an attribute", () => {
    const subscriptions = [
      subscription("ctor", { filters: [{ prefix: { constructor: "f" } }] }),
      subscription("to-string", { filters: [{ prefix: { toString: "f" } }] }),
    ];
    expect(candidateIds(subscriptions, {})).toStrictEqual([]);
  });

  it("builds an index of 10,000 subscriptions", () => {
    const subscriptions = many(10_000, (i) => {
      const on = { subject: `/x/${i}/y` };
      const filter: Filter =
        i % 3 === 0 ? { exact: on } : i % 3 === 1 ? { prefix: on } : { suffix: on };
      return subscription(`s${i}`, { filters: [filter] });
    });
    expect(candidateIds(subscriptions, { subject: "/x/3/y" })).toStrictEqual(["s3"]);
  });

  it("lists as sure only subscriptions whose whole condition is the one they are filed under", () => {
    const index = createSubscriptionIndex(
      [
        subscription("types", { types: ["t", "u"] }),
        subscription("source", { source: "/s" }),
        subscription("prefix", { filters: [{ all: [{ prefix: { subject: "a" } }] }] }),
        subscription("two-attributes", { filters: [{ exact: { type: "t", subject: "ab" } }] }),
        subscription("with-not", { types: ["t"], filters: [{ not: { exact: { subject: "x" } } }] }),
        subscription("with-any", {
          filters: [{ suffix: { subject: "b" } }, { any: [{ exact: { x: "y" } }] }],
        }),
      ].map(compileSubscription),
    );
    const { check, sure } = index.candidates({
      attributes: { specversion: "1.0", id: "1", source: "/s", type: "t", subject: "ab" },
    });
    const ids = (lists: typeof check) =>
      lists
        .flat()
        .map((entry) => entry.subscription.id)
        .sort();
    expect(ids(sure)).toStrictEqual(["prefix", "source", "types"]);
    expect(ids(check)).toStrictEqual(["two-attributes", "with-any", "with-not"]);
  });
});

describe("createSubscriptionIndex remove", () => {
  it("holds nothing of subscriptions added and removed again", () => {
    const index = createSubscriptionIndex([]);
    const kinds = (i: number): Subscription => {
      switch (i % 5) {
        case 0:
          return subscription(`s${i}`, { source: `/s/${i}` });
        case 1:
          return subscription(`s${i}`, { types: [`t.${i}`, "shared"] });
        case 2:
          return subscription(`s${i}`, { filters: [{ prefix: { subject: `a/b${i}/` } }] });
        case 3:
          return subscription(`s${i}`, { filters: [{ suffix: { subject: `.x${i}` } }] });
        default:
          return subscription(`s${i}`, { filters: [{ not: { exact: { subject: `${i}` } } }] });
      }
    };
    const keep = compileSubscription(subscription("keep", { source: "/keep" }), 0);
    index.add(keep);
    const baseline = index.size();
    for (let round = 0; round < 3; round++) {
      const entries = many(500, (i) => kinds(i + round * 500)).map((s, i) =>
        compileSubscription(s, i + 1),
      );
      for (const entry of entries) index.add(entry);
      expect(index.size().entries).toBe(501);
      for (const entry of entries) expect(index.remove(entry.subscription.id)).toBe(entry);
      // A deleted subscription's values, trie nodes and counts go with it.
      expect(index.size()).toStrictEqual(baseline);
    }
    const event: CloudEvent = {
      attributes: {
        specversion: "1.0",
        id: "1",
        source: "/keep",
        type: "shared",
        subject: "a/b2/.x3",
      },
    };
    const { check, sure } = index.candidates(event);
    expect([...check, ...sure].flat().map((entry) => entry.subscription.id)).toStrictEqual([
      "keep",
    ]);
  });

  it("files an inserted entry in its position's place", () => {
    const entries = many(5, (i) => subscription(`s${i}`, { types: ["t"] })).map(
      compileSubscription,
    );
    const index = createSubscriptionIndex(entries);
    const removed = index.remove("s2");
    expect(removed?.position).toBe(2);
    index.insert(compileSubscription(subscription("s2", { types: ["t"] }), 2));
    const { check, sure } = index.candidates({
      attributes: { specversion: "1.0", id: "1", source: "/s", type: "t" },
    });
    expect([...check, ...sure].flat().map((entry) => entry.subscription.id)).toStrictEqual([
      "s0",
      "s1",
      "s2",
      "s3",
      "s4",
    ]);
  });
});
