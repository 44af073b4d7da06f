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
