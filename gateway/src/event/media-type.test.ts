import { describe, expect, it } from "vitest";
import { isMediaType, listsMediaTypes, parseMediaType } from "./media-type.js";

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

describe("isMediaType", () => {
  it.each([
    ["text/plain", true],
    ["text/plain; charset=utf-8", true],
    ["text/plain ; charset=utf-8 ;", true],
    ["text/plain;;  ; x=y", true],
    ['text/plain; x="a \\" b"', true],
    ["text/plain; ", true],
    ["text / plain", false],
    ["text/plain; x", false],
    ["text/plain; x=", false],
    ["text/plain; x=y z", false],
  ])("%s -> %s", (value, valid) => {
    expect(isMediaType(value)).toBe(valid);
  });

  it("refuses a run of empty parameters in linear time (was exponential: a hung event loop)", () => {
    // `a/b;   ;   ;...@`: the spaces between two `;` could be matched two ways each, and every
    // split was tried before the `@` failed; 12 of them took 0.2 s, 30 would take years. So the
    // bad value, checked once, must take less than a valid value as long, checked 100 times.
    const bad = `a/b${";   ".repeat(12)}@`;
    const good = `a/b${"; x=y".repeat(10)}`;
    let start = performance.now();
    for (let i = 0; i < 100; i++) expect(isMediaType(good)).toBe(true);
    const hundredGood = performance.now() - start;
    start = performance.now();
    expect(isMediaType(bad)).toBe(false);
    expect(performance.now() - start).toBeLessThan(hundredGood);
  });
});

describe("parseMediaType", () => {
  it("keeps a ; inside a quoted parameter value in that value", () => {
    const type = parseMediaType('text/plain; x="a;charset=latin1"; y="b\\";c"');
    expect(type?.essence).toBe("text/plain");
    expect([...(type?.params ?? [])]).toEqual([
      ["x", "a;charset=latin1"],
      ["y", 'b";c'],
    ]);
  });
});
