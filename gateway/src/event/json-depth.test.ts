import { describe, expect, it } from "vitest";
import { jsonTooDeep } from "./json-depth.js";

describe("jsonTooDeep", () => {
  it("counts objects and arrays as levels; scalars do not nest", () => {
    expect(jsonTooDeep(1, 0)).toBe(false);
    expect(jsonTooDeep({ a: [1] }, 2)).toBe(false);
    expect(jsonTooDeep({ a: [1] }, 1)).toBe(true);
    expect(jsonTooDeep({ a: 1, b: { c: { d: {} } } }, 3)).toBe(true);
  });

  it("handles hostile depth without overflowing the stack", () => {
    const depth = 200_000;
    const value = JSON.parse("[".repeat(depth) + "]".repeat(depth));
    expect(jsonTooDeep(value)).toBe(true);
  });
});
