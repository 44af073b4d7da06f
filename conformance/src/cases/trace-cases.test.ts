import { describe, expect, it } from "vitest";
import { newTraceparent, parseTraceparent } from "./trace-cases.js";

describe("parseTraceparent", () => {
  it("reads a version-00 traceparent", () => {
    expect(parseTraceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")).toEqual({
      traceId: "4bf92f3577b34da6a3ce929d0e0e4736",
      parentId: "00f067aa0ba902b7",
    });
    expect(parseTraceparent(newTraceparent())).toBeDefined();
  });

  it.each([
    ["upper-case", "00-4BF92F3577B34DA6A3CE929D0E0E4736-00F067AA0BA902B7-01"],
    ["all-zero trace-id", `00-${"0".repeat(32)}-00f067aa0ba902b7-01`],
    ["all-zero parent-id", `00-4bf92f3577b34da6a3ce929d0e0e4736-${"0".repeat(16)}-01`],
    ["another version", "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"],
    ["more after the flags", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-x"],
    ["a short trace-id", "00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01"],
    ["garbage", "garbage"],
  ])("refuses %s", (_, value) => {
    expect(parseTraceparent(value)).toBeUndefined();
  });

  it("refuses what is not a string", () => {
    expect(parseTraceparent(undefined)).toBeUndefined();
    expect(parseTraceparent(1)).toBeUndefined();
  });
});
