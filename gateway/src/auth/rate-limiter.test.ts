import { describe, expect, test } from "vitest";
import type { Clock } from "../ports/clock.js";
import { createRateLimiter } from "./rate-limiter.js";

function manualClock(start = 1_000_000) {
  let now = start;
  const clock: Clock = { now: () => now };
  return {
    clock,
    advance: (ms: number) => {
      now += ms;
    },
  };
}

const perSecond = (count: number) => ({ count, periodMs: 1_000 });

describe("createRateLimiter", () => {
  test("a full bucket allows a burst of count, then says when to come back", () => {
    const { clock, advance } = manualClock();
    const limiter = createRateLimiter({ rate: perSecond(3), clock });
    expect(limiter.take("a")).toEqual({ ok: true });
    expect(limiter.take("a", 2)).toEqual({ ok: true });
    expect(limiter.take("a")).toEqual({ ok: false, retryAfterSeconds: 1 });
    advance(333);
    expect(limiter.take("a")).toEqual({ ok: false, retryAfterSeconds: 1 });
    advance(1);
    expect(limiter.take("a")).toEqual({ ok: true });
    expect(limiter.take("a")).toEqual({ ok: false, retryAfterSeconds: 1 });
  });

  test("refills continuously, never above count", () => {
    const { clock, advance } = manualClock();
    const limiter = createRateLimiter({ rate: perSecond(10), clock });
    expect(limiter.take("a", 10)).toEqual({ ok: true });
    advance(500);
    expect(limiter.take("a", 5)).toEqual({ ok: true });
    expect(limiter.take("a", 1).ok).toBe(false);
    advance(60_000);
    expect(limiter.take("a", 10)).toEqual({ ok: true });
    expect(limiter.take("a", 1).ok).toBe(false);
  });

  test("a batch takes one token per event, all or none", () => {
    const { clock } = manualClock();
    const limiter = createRateLimiter({ rate: perSecond(5), clock });
    expect(limiter.take("a", 4)).toEqual({ ok: true });
    expect(limiter.take("a", 2).ok).toBe(false);
    // The refused batch took nothing: one token is still there.
    expect(limiter.take("a", 1)).toEqual({ ok: true });
  });

  test("Retry-After is in whole seconds, rounded up, for the tokens missing", () => {
    const { clock } = manualClock();
    const limiter = createRateLimiter({ rate: { count: 60, periodMs: 60_000 }, clock });
    expect(limiter.take("a", 60)).toEqual({ ok: true });
    expect(limiter.take("a", 1)).toEqual({ ok: false, retryAfterSeconds: 1 });
    expect(limiter.take("a", 10)).toEqual({ ok: false, retryAfterSeconds: 10 });
    const slow = createRateLimiter({ rate: { count: 2, periodMs: 60_000 }, clock });
    expect(slow.take("a", 2)).toEqual({ ok: true });
    expect(slow.take("a", 1)).toEqual({ ok: false, retryAfterSeconds: 30 });
  });

  test("a request larger than the bucket waits for a full bucket, then leaves a debt", () => {
    const { clock, advance } = manualClock();
    const limiter = createRateLimiter({ rate: perSecond(10), clock });
    expect(limiter.take("a", 1)).toEqual({ ok: true });
    expect(limiter.take("a", 25)).toEqual({ ok: false, retryAfterSeconds: 1 });
    advance(100);
    expect(limiter.take("a", 25)).toEqual({ ok: true });
    // 15 tokens in debt: a single event waits for 16 tokens, 1.6 s.
    expect(limiter.take("a", 1)).toEqual({ ok: false, retryAfterSeconds: 2 });
    advance(1_500);
    expect(limiter.take("a", 1).ok).toBe(false);
    advance(100);
    expect(limiter.take("a", 1)).toEqual({ ok: true });
  });

  test("keys have separate buckets", () => {
    const { clock } = manualClock();
    const limiter = createRateLimiter({ rate: perSecond(1), clock });
    expect(limiter.take("noisy")).toEqual({ ok: true });
    expect(limiter.take("noisy").ok).toBe(false);
    expect(limiter.take("quiet")).toEqual({ ok: true });
  });

  test("taking zero tokens always passes and keeps no bucket", () => {
    const { clock } = manualClock();
    const limiter = createRateLimiter({ rate: perSecond(1), clock });
    expect(limiter.take("a", 0)).toEqual({ ok: true });
    expect(limiter.size).toBe(0);
  });

  test("a clock that steps back refills nothing and breaks nothing", () => {
    const { clock, advance } = manualClock();
    const limiter = createRateLimiter({ rate: perSecond(1), clock });
    expect(limiter.take("a")).toEqual({ ok: true });
    advance(-10_000);
    expect(limiter.take("a")).toEqual({ ok: false, retryAfterSeconds: 1 });
    advance(1_000);
    expect(limiter.take("a")).toEqual({ ok: true });
  });
});

describe("createRateLimiter: bounded memory", () => {
  test("never holds more than maxKeys buckets; the least recently used goes first", () => {
    const { clock } = manualClock();
    const limiter = createRateLimiter({ rate: perSecond(1), clock, maxKeys: 2 });
    limiter.take("a");
    limiter.take("b");
    expect(limiter.take("a").ok).toBe(false);
    limiter.take("c");
    expect(limiter.size).toBe(2);
    // b was least recently used: dropped, so it starts again full; a is still limited.
    expect(limiter.take("a").ok).toBe(false);
    expect(limiter.take("b")).toEqual({ ok: true });
  });

  test("idle buckets (refilled to full) are dropped as requests pass", () => {
    const { clock, advance } = manualClock();
    const limiter = createRateLimiter({ rate: perSecond(10), clock });
    for (let i = 0; i < 100; i++) limiter.take(`publisher-${i}`);
    expect(limiter.size).toBe(100);
    advance(1_000);
    for (let i = 0; i < 60; i++) limiter.take("busy");
    expect(limiter.size).toBeLessThanOrEqual(1);
  });

  test("a bucket dropped while idle behaves as if it had been kept", () => {
    const { clock, advance } = manualClock();
    const limiter = createRateLimiter({ rate: perSecond(2), clock });
    expect(limiter.take("a", 2)).toEqual({ ok: true });
    advance(1_000);
    limiter.take("b");
    expect(limiter.take("a", 2)).toEqual({ ok: true });
    expect(limiter.take("a").ok).toBe(false);
  });
});

describe("createRateLimiter: programming mistakes", () => {
  test("bad options and bad n are TypeErrors", () => {
    expect(() => createRateLimiter({ rate: { count: 0, periodMs: 1_000 } })).toThrow(TypeError);
    expect(() => createRateLimiter({ rate: { count: 1.5, periodMs: 1_000 } })).toThrow(TypeError);
    expect(() => createRateLimiter({ rate: { count: 1, periodMs: 0 } })).toThrow(TypeError);
    expect(() => createRateLimiter({ rate: perSecond(1), maxKeys: 0 })).toThrow(TypeError);
    const limiter = createRateLimiter({ rate: perSecond(1) });
    expect(() => limiter.take("a", -1)).toThrow(TypeError);
    expect(() => limiter.take("a", 1.5)).toThrow(TypeError);
  });
});
