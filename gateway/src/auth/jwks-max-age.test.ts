import { describe, expect, it } from "vitest";
import { bestTime } from "../../test/support/one-pass.js";
import { JWKS_MAX_AGE, jwksMaxAgeMs, jwksMaxAgePolicy } from "./jwks-max-age.js";

const at = Date.UTC(2027, 0, 15, 8, 0, 0);
const httpDate = (ms: number) => new Date(ms).toUTCString();
const maxAge = (headers: Record<string, string>) => jwksMaxAgeMs(new Headers(headers), at);
const { defaultMs, minMs, maxMs } = JWKS_MAX_AGE;

describe("jwksMaxAgeMs", () => {
  it("takes max-age, within the bounds", () => {
    expect(maxAge({ "cache-control": "public, max-age=300" })).toBe(300_000);
    expect(maxAge({ "cache-control": "max-age=300, must-revalidate, no-transform" })).toBe(300_000);
    expect(maxAge({ "Cache-Control": 'MAX-AGE="900"' })).toBe(900_000);
    expect(maxAge({ "cache-control": "max-age=0" })).toBe(minMs);
    expect(maxAge({ "cache-control": "max-age=5" })).toBe(minMs);
    expect(maxAge({ "cache-control": "max-age=86400" })).toBe(maxMs);
    expect(maxAge({ "cache-control": "max-age=99999999999999999999" })).toBe(maxMs);
  });

  it("no-store and no-cache mean the floor, whatever else is said", () => {
    expect(maxAge({ "cache-control": "no-store" })).toBe(minMs);
    expect(maxAge({ "cache-control": "max-age=3600, no-cache" })).toBe(minMs);
    expect(maxAge({ "cache-control": 'no-cache="set-cookie, x-a", max-age=3600' })).toBe(minMs);
    expect(maxAge({ "cache-control": "No-Store", expires: httpDate(at + 3_600_000) })).toBe(minMs);
  });

  it("a malformed or contradictory max-age is stale (RFC 9111 4.2.1); a bad directive hides no other", () => {
    expect(maxAge({ "cache-control": "max-age=ten" })).toBe(minMs);
    expect(maxAge({ "cache-control": "max-age=-5" })).toBe(minMs);
    expect(maxAge({ "cache-control": "max-age=300 600" })).toBe(minMs);
    expect(maxAge({ "cache-control": "max-age=300, max-age=600" })).toBe(minMs);
    expect(maxAge({ "cache-control": "max-age=300, max-age=300" })).toBe(300_000);
    expect(maxAge({ "cache-control": 'x="a,b" junk, max-age=300' })).toBe(300_000);
    expect(maxAge({ "cache-control": "=, ,,max-age=300" })).toBe(300_000);
  });

  it("subtracts the Age a cache on the way added", () => {
    expect(maxAge({ "cache-control": "max-age=3600", age: "3000" })).toBe(600_000);
    expect(maxAge({ "cache-control": "max-age=3600", age: "3590" })).toBe(minMs);
    expect(maxAge({ "cache-control": "max-age=600", age: "junk" })).toBe(600_000);
  });

  it("reads Expires against Date (or the time received) when there is no max-age", () => {
    expect(maxAge({ expires: httpDate(at + 900_000) })).toBe(900_000);
    // The issuer's clock is an hour behind: Expires - Date still gives 15 minutes.
    expect(maxAge({ date: httpDate(at - 3_600_000), expires: httpDate(at - 2_700_000) })).toBe(
      900_000,
    );
    expect(maxAge({ expires: httpDate(at - 1_000) })).toBe(minMs);
    expect(maxAge({ expires: "0" })).toBe(minMs);
    expect(maxAge({ expires: httpDate(at + 900_000), age: "300" })).toBe(600_000);
    // max-age wins over Expires.
    expect(maxAge({ "cache-control": "max-age=120", expires: httpDate(at + 900_000) })).toBe(
      120_000,
    );
  });

  it("an answer without caching headers gets the default; s-maxage is for shared caches", () => {
    expect(maxAge({})).toBe(defaultMs);
    expect(maxAge({ "cache-control": "public" })).toBe(defaultMs);
    expect(maxAge({ "cache-control": "s-maxage=60" })).toBe(defaultMs);
    expect(maxAge({ age: "500" })).toBe(defaultMs);
  });

  it("reads a Cache-Control of one directive repeated in time linear in its length", () => {
    // The JWKS server chooses its headers: 16 KB of "a," (8,000 directives, as much as Node's
    // fetch takes; a Worker's fetch takes more) held the event loop 0.2-0.4 s per fetch, each
    // repeat copying the list of those before it, and 64 KB took 80 s. Compared with the same
    // number of distinct directives, so the machine's speed cancels out: the copying was over 40
    // times slower, a linear read is about as fast.
    const count = 8_000;
    const repeated = new Headers({ "cache-control": "a,".repeat(count) });
    const distinct = new Headers({
      "cache-control": Array.from({ length: count }, (_, i) => `d${i}`).join(","),
    });
    expect(jwksMaxAgeMs(repeated, at)).toBe(defaultMs);
    expect(jwksMaxAgeMs(new Headers({ "cache-control": "max-age=1,".repeat(count) }), at)).toBe(
      minMs,
    );
    const baseline = bestTime(() => jwksMaxAgeMs(distinct, at));
    expect(bestTime(() => jwksMaxAgeMs(repeated, at))).toBeLessThan(baseline * 5);
  });

  it("applies the policy it is given", () => {
    const policy = jwksMaxAgePolicy({ minMs: 1_000, maxMs: 10_000, defaultMs: 5_000 });
    expect(jwksMaxAgeMs(new Headers(), at, policy)).toBe(5_000);
    expect(jwksMaxAgeMs(new Headers({ "cache-control": "no-cache" }), at, policy)).toBe(1_000);
    expect(jwksMaxAgeMs(new Headers({ "cache-control": "max-age=60" }), at, policy)).toBe(10_000);
  });
});

describe("jwksMaxAgePolicy", () => {
  it("fills gaps from the defaults and refuses bounds that cannot hold", () => {
    expect(jwksMaxAgePolicy({ defaultMs: 60_000 })).toEqual({ ...JWKS_MAX_AGE, defaultMs: 60_000 });
    expect(() => jwksMaxAgePolicy({ defaultMs: 1_000 })).toThrow(/minMs <= defaultMs <= maxMs/);
    expect(() => jwksMaxAgePolicy({ maxMs: 1_000 })).toThrow(TypeError);
    expect(() => jwksMaxAgePolicy({ minMs: -1, defaultMs: 0 })).toThrow(/>= 0/);
    expect(() => jwksMaxAgePolicy({ minMs: Number.NaN })).toThrow(TypeError);
  });
});
