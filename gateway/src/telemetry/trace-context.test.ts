import { describe, expect, it } from "vitest";
import {
  formatTraceparent,
  incomingTraceContext,
  parseTraceparent,
  parseTracestate,
  randomHex,
  withParentRandomFlag,
} from "./trace-context.js";

const TRACE = "4bf92f3577b34da6a3ce929d0e0e4736";
const SPAN = "00f067aa0ba902b7";

describe("parseTraceparent (W3C Trace Context 3.2)", () => {
  it("reads version 00", () => {
    expect(parseTraceparent(`00-${TRACE}-${SPAN}-01`)).toStrictEqual({
      traceId: TRACE,
      spanId: SPAN,
      flags: 1,
    });
    expect(parseTraceparent(` 00-${TRACE}-${SPAN}-00 `)?.flags).toBe(0);
  });

  it("reads the known part of a later version, with or without more after a dash", () => {
    expect(parseTraceparent(`01-${TRACE}-${SPAN}-09`)?.flags).toBe(1);
    expect(parseTraceparent(`cc-${TRACE}-${SPAN}-01-what-the-future-holds`)?.spanId).toBe(SPAN);
    expect(parseTraceparent(`cc-${TRACE}-${SPAN}-01x`)).toBeUndefined();
  });

  it.each([
    ["missing", undefined],
    ["empty", ""],
    ["version ff", `ff-${TRACE}-${SPAN}-01`],
    ["version not hex", `0g-${TRACE}-${SPAN}-01`],
    ["version 00 too long", `00-${TRACE}-${SPAN}-01-00`],
    ["upper case", `00-${TRACE.toUpperCase()}-${SPAN}-01`],
    ["zero trace id", `00-${"0".repeat(32)}-${SPAN}-01`],
    ["zero span id", `00-${TRACE}-${"0".repeat(16)}-01`],
    ["short trace id", `00-${TRACE.slice(1)}-${SPAN}-01`],
    ["wrong separators", `00_${TRACE}_${SPAN}_01`],
    ["flags not hex", `00-${TRACE}-${SPAN}-zz`],
    ["huge", `00-${TRACE}-${SPAN}-01`.padEnd(100_000, "-")],
  ])("refuses %s", (_, value) => {
    expect(parseTraceparent(value)).toBeUndefined();
  });

  it("clears the reserved flag bits, keeping sampled and random (3.2.2.5: vendors MUST zero them)", () => {
    expect(parseTraceparent(`00-${TRACE}-${SPAN}-ff`)?.flags).toBe(0x03);
    expect(parseTraceparent(`00-${TRACE}-${SPAN}-fe`)?.flags).toBe(0x02);
    expect(formatTraceparent(parseTraceparent(`00-${TRACE}-${SPAN}-85`)!)).toBe(
      `00-${TRACE}-${SPAN}-01`,
    );
  });

  it("formats what it parses back to the same text", () => {
    const text = `00-${TRACE}-${SPAN}-03`;
    expect(formatTraceparent(parseTraceparent(text)!)).toBe(text);
  });
});

describe("parseTracestate (W3C Trace Context 3.3)", () => {
  it("keeps valid members in order, dropping empty ones and whitespace", () => {
    expect(parseTracestate("rojo=00f067aa0ba902b7 , ,congo=t61rcWkgMzE,tenant@vendor=x y")).toBe(
      "rojo=00f067aa0ba902b7,congo=t61rcWkgMzE,tenant@vendor=x y",
    );
  });

  it.each([
    ["an upper-case key", "Rojo=1"],
    ["a key starting with a digit (no tenant)", "1abc=1"],
    ["no equals sign", "rojo"],
    ["an empty key", "=1"],
    ["a value ending in a space", "rojo=1 =2"],
    ["a duplicate key", "a=1,a=2"],
    ["33 members", Array.from({ length: 33 }, (_, i) => `k${i}=v`).join(",")],
    ["only empty members", " , "],
  ])("refuses %s", (_, value) => {
    expect(parseTracestate(value)).toBeUndefined();
  });

  it("cuts a valid one over 512 characters: members over 128 first, then from the end (3.3.1.5)", () => {
    const short = Array.from(
      { length: 20 },
      (_, i) => `k${String(i).padStart(2, "0")}=${"v".repeat(20)}`,
    );
    const long = `big=${"x".repeat(200)}`;
    // 20 members of 24 characters and one of 204: 709 characters in all.
    const value = [short[0], long, ...short.slice(1)].join(",");
    // Without the long member: 20 * 24 + 19 = 499 characters, all kept.
    expect(parseTracestate(value)).toBe(short.join(","));
    // 25 members of 24 characters: 624; the first 20 fit (499), the last 5 go.
    const many = Array.from(
      { length: 25 },
      (_, i) => `m${String(i).padStart(2, "0")}=${"w".repeat(20)}`,
    );
    expect(parseTracestate(many.join(","))).toBe(many.slice(0, 20).join(","));
    // Nothing left when every member is over 128 characters.
    expect(parseTracestate(`a=${"x".repeat(256)},b=${"y".repeat(256)}`)).toBeUndefined();
  });

  it("takes a tracestate only with a valid traceparent", () => {
    expect(incomingTraceContext(undefined, "a=1")).toBeUndefined();
    expect(incomingTraceContext(`00-${TRACE}-${SPAN}-01`, "Bad=1")).toStrictEqual({
      traceId: TRACE,
      spanId: SPAN,
      flags: 1,
    });
    expect(incomingTraceContext(`00-${TRACE}-${SPAN}-01`, "a=1")?.tracestate).toBe("a=1");
  });
});

describe("withParentRandomFlag (Trace Context Level 2 3.2.2.5)", () => {
  const own = { traceId: TRACE, spanId: "b7ad6b7169203331", flags: 1 };

  it("gives a context in the parent's trace the parent's random flag, set or unset", () => {
    expect(withParentRandomFlag(own, { traceId: TRACE, spanId: SPAN, flags: 3 })).toStrictEqual({
      ...own,
      flags: 3,
    });
    expect(withParentRandomFlag(own, { traceId: TRACE, spanId: SPAN, flags: 2 }).flags).toBe(3);
    const random = { ...own, flags: 3 };
    expect(withParentRandomFlag(random, { traceId: TRACE, spanId: SPAN, flags: 1 }).flags).toBe(1);
  });

  it("leaves the sampled bit, another trace, and a context without a parent alone", () => {
    expect(withParentRandomFlag(own, { traceId: TRACE, spanId: SPAN, flags: 0 })).toBe(own);
    const other = { traceId: "0af7651916cd43dd8448eb211c80319c", spanId: SPAN, flags: 3 };
    expect(withParentRandomFlag(own, other)).toBe(own);
    expect(withParentRandomFlag(own, undefined)).toBe(own);
  });
});

describe("randomHex", () => {
  it("gives lower-case hex ids of the asked length, different each time", () => {
    const ids = new Set(Array.from({ length: 1000 }, () => randomHex(32)));
    expect(ids.size).toBe(1000);
    for (const id of ids) expect(id).toMatch(/^[0-9a-f]{32}$/);
    expect(randomHex(16)).toMatch(/^[0-9a-f]{16}$/);
  });
});
