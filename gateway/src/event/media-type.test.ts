import { describe, expect, it } from "vitest";
import { isMediaType, listsMediaTypes } from "./media-type.js";

describe("listsMediaTypes", () => {
  it.each([
    ["text/plain, application/json", true],
    ["application/cloudevents+json,application/cloudevents+json", true],
    ['text/plain; x="a, b", text/html', true],
    ['text/plain; x="a, b"', false],
    ['text/plain; x="a\\", b"', false],
    ["text/plain; charset=utf-8", false],
  ])("%s -> %s", (value, lists) => {
    expect(listsMediaTypes(value)).toBe(lists);
    // A list is never one media type (a comma is allowed only inside quotes).
    if (lists) expect(isMediaType(value)).toBe(false);
  });
});
