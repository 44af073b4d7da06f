import { describe, expect, it } from "vitest";
import { createTokenBucket } from "./token-bucket.js";

describe("createTokenBucket", () => {
  it("starts full, empties by one token per take, and names when the next token comes", () => {
    const bucket = createTokenBucket({ count: 2, perMs: 1_000 }, 0);
    expect(bucket.full(0)).toBe(true);
    expect(bucket.take(0)).toBe(true);
    expect(bucket.take(0)).toBe(true);
    expect(bucket.take(0)).toBe(false);
    expect(bucket.nextAt(0)).toBe(500);
    expect(bucket.take(499)).toBe(false);
    expect(bucket.take(500)).toBe(true);
    expect(bucket.nextAt(500)).toBe(1_000);
    expect(bucket.full(500)).toBe(false);
  });

  it("never holds more than count tokens however long it waits", () => {
    const bucket = createTokenBucket({ count: 3, perMs: 60_000 }, 0);
    for (let i = 0; i < 3; i++) bucket.take(0);
    expect(bucket.full(1_000_000)).toBe(true);
    let taken = 0;
    while (bucket.take(1_000_000)) taken++;
    expect(taken).toBe(3);
  });

  it("allows at most count + (window / perMs) * count takes in any window", () => {
    const bucket = createTokenBucket({ count: 7, perMs: 1_000 }, 0);
    let taken = 0;
    for (let t = 0; t <= 10_000; t++) while (bucket.take(t)) taken++;
    // A full burst, then 7 per second: exactly 7 + 70.
    expect(taken).toBe(77);
  });

  it("nextAt is exact: a token is there at that time, not a millisecond before", () => {
    const bucket = createTokenBucket({ count: 3, perMs: 1_000 }, 0);
    while (bucket.take(0));
    let now = 0;
    for (let i = 0; i < 20; i++) {
      const at = bucket.nextAt(now);
      expect(at).toBeGreaterThan(now);
      expect(bucket.take(at - 1)).toBe(false);
      expect(bucket.take(at)).toBe(true);
      now = at;
    }
  });

  it("refuses rates that are not positive integers", () => {
    expect(() => createTokenBucket({ count: 0, perMs: 1 }, 0)).toThrow(TypeError);
    expect(() => createTokenBucket({ count: 1, perMs: 0.5 }, 0)).toThrow(TypeError);
  });
});
