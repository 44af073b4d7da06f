import { describe, expect, it } from "vitest";
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
