import { describe, expect, it } from "vitest";
import { compileSubscription } from "./compiled-subscription.js";
import { describeMatcher, subscription } from "./matcher.case.js";
import { createLinearMatcher, createMatcher } from "./matcher.js";
import type { Filter } from "./subscription.js";

describeMatcher("createMatcher", createMatcher);
describeMatcher("createLinearMatcher", createLinearMatcher);

describe("createMatcher", () => {
  it("compiles filters once, never while matching", () => {
    let reads = 0;
    const counted: Filter = {
      get prefix() {
        reads += 1;
        return { type: "com.example." };
      },
    };
    const matcher = createMatcher([subscription("a", { filters: [{ not: counted }] })]);
    const afterCompile = reads;
    const event = { attributes: { specversion: "1.0", id: "1", source: "/s", type: "other" } };
    for (let i = 0; i < 10; i += 1) expect(matcher.match(event).length).toBe(1);
    expect(afterCompile).toBe(1);
    expect(reads).toBe(1);
  });

  it("keeps a compile error's original as its cause", () => {
    let error: unknown;
    try {
      createMatcher([subscription("broken", { filters: [{ exact: {} }] })]);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(TypeError);
    expect((error as TypeError).cause).toBeInstanceOf(TypeError);
    expect(((error as TypeError).cause as TypeError).message).toBe(
      "exact filter: needs at least one attribute",
    );
  });
});

describe("rebuilding a matcher", () => {
  it("reuses what a subscription object compiled to", () => {
    const kept = subscription("kept", { types: ["a"], filters: [{ sql: "subject LIKE 'x%'" }] });
    const first = compileSubscription(kept, 0);
    const again = compileSubscription(kept, 7);
    expect(again.filters).toBe(first.filters);
    expect(again.types).toBe(first.types);
    expect(again.position).toBe(7);
    // An equal but different object (an update through the API) is compiled afresh.
    const updated = compileSubscription({ ...kept }, 0);
    expect(updated.filters).not.toBe(first.filters);
    const event = {
      attributes: { specversion: "1.0", id: "1", source: "/s", type: "a", subject: "xy" },
    };
    const ids = createMatcher([subscription("other"), kept])
      .match(event)
      .map((s) => s.id);
    expect(ids).toStrictEqual(["other", "kept"]);
  });
});
