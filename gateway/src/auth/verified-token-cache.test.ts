import { beforeAll, describe, expect, it } from "vitest";
import { cpuTime } from "../../test/support/one-pass.js";
import {
  AUDIENCE,
  claimsAt,
  ISSUER,
  jwksOf,
  makeKey,
  manualClock,
  signToken,
  T0,
  T0_SEC,
  type TestKey,
} from "../../test/support/test-issuer.js";
import { Unauthorized } from "./auth-errors.js";
import { createInlineKeySource } from "./inline-key-source.js";
import type { KeySource } from "./key-source.js";
import type { VerifiedToken } from "./verified-token.js";
import {
  type CachedVerification,
  createVerifiedTokenCache,
  tokenCacheKey,
} from "./verified-token-cache.js";
import { createTokenVerifier } from "./verify-token.js";

function entry(subject: string, expiresAt = T0 + 60_000, generation = 0): CachedVerification {
  const token: VerifiedToken = { issuer: ISSUER, subject, claims: { sub: subject }, expiresAt };
  return { token, kid: "k1", generation };
}

describe("tokenCacheKey", () => {
  it("is the SHA-256 of the token, not the token", async () => {
    const key = await tokenCacheKey("eyJ.a.b");
    expect(key).toHaveLength(32);
    expect(key).not.toContain("eyJ");
    expect(await tokenCacheKey("eyJ.a.b")).toBe(key);
    expect(await tokenCacheKey("eyJ.a.c")).not.toBe(key);
    const hex = [...key].map((c) => c.charCodeAt(0).toString(16).padStart(2, "0")).join("");
    const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode("eyJ.a.b"));
    expect(hex).toBe(Buffer.from(digest).toString("hex"));
  });
});

describe("createVerifiedTokenCache", () => {
  it("evicts the least recently used entry beyond its bound", () => {
    const cache = createVerifiedTokenCache({ maxEntries: 2, clock: manualClock() });
    cache.set("a", entry("a"));
    cache.set("b", entry("b"));
    expect(cache.get("a")?.token.subject).toBe("a"); // a is now the most recent
    cache.set("c", entry("c"));
    expect(cache.size).toBe(2);
    expect(cache.get("b")).toBeUndefined();
    expect(cache.get("a")).toBeDefined();
    expect(cache.get("c")).toBeDefined();
  });

  it("keeps exactly the most recently used entries through random gets, sets and deletes", () => {
    // A reference LRU (an array, most recent last) against the cache, over a seeded sequence.
    const maxEntries = 8;
    const cache = createVerifiedTokenCache({ maxEntries, clock: manualClock() });
    let model: string[] = [];
    let seed = 7;
    const next = (n: number) => {
      seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
      return seed % n;
    };
    for (let step = 0; step < 5_000; step++) {
      const key = `k${next(14)}`;
      const op = next(10);
      if (op < 5) {
        const held = model.includes(key);
        expect(cache.get(key)?.token.subject, `step ${step}: get ${key}`).toBe(
          held ? key : undefined,
        );
        if (held) model = [...model.filter((k) => k !== key), key];
      } else if (op < 9) {
        cache.set(key, entry(key));
        model = [...model.filter((k) => k !== key), key].slice(-maxEntries);
      } else {
        cache.delete(key);
        model = model.filter((k) => k !== key);
      }
      expect(cache.size, `step ${step}`).toBe(model.length);
    }
    for (const key of model) expect(cache.get(key)).toBeDefined();
  });

  // A miss at the bound must cost about what one below it costs: with the LRU's order in the
  // Map's insertion order, evicting the first key walked every slot deleted so far (~10x more
  // per miss under churn at 10,000 entries). A ratio in one process; a wide margin for noise.
  it("misses at the bound cost about what misses below it cost (no walk over evicted keys)", () => {
    const maxEntries = 20_000;
    let n = 0;
    const batch = (cache: ReturnType<typeof createVerifiedTokenCache>) =>
      cpuTime(() => {
        for (let i = 0; i < maxEntries; i++) {
          const key = `t${n++}`;
          cache.get(key);
          cache.set(key, entry(key));
          cache.get(`t${n - 5_000}`); // a recent one, moved to the young end
        }
      });
    const fresh = () => createVerifiedTokenCache({ maxEntries, clock: manualClock() });
    batch(fresh()); // warm-up: the JIT
    // CPU time, best of 3 on both sides, as for DedupeKeys and RememberedKeys, whose single
    // wall-clock batch below the bound failed their ratios on a loaded machine.
    const below = Math.min(batch(fresh()), batch(fresh()), batch(fresh()));
    const cache = fresh();
    for (let round = 0; round < 4; round++) batch(cache);
    const at = Math.min(batch(cache), batch(cache), batch(cache));
    expect(at / below).toBeLessThan(4);
  });

  it("never serves an entry at or after its expiry, and does not keep expired ones", () => {
    const clock = manualClock();
    const cache = createVerifiedTokenCache({ clock });
    cache.set("a", entry("a", T0 + 1000));
    clock.set(T0 + 999);
    expect(cache.get("a")).toBeDefined();
    clock.set(T0 + 1000);
    expect(cache.get("a")).toBeUndefined();
    expect(cache.size).toBe(0);
    cache.set("b", entry("b", T0 + 1000));
    expect(cache.size).toBe(0);
  });

  it("keys entries with the default SHA-256 digest, or the one given", async () => {
    expect(await createVerifiedTokenCache().keyOf("eyJ.a.b")).toBe(await tokenCacheKey("eyJ.a.b"));
    const digest = (token: string) => `#${token.length}`;
    expect(createVerifiedTokenCache({ digest }).keyOf("eyJ.a.b")).toBe("#7");
  });

  it("deletes and clears", () => {
    const cache = createVerifiedTokenCache({ clock: manualClock() });
    cache.set("a", entry("a"));
    cache.set("b", entry("b"));
    cache.delete("a");
    expect(cache.get("a")).toBeUndefined();
    cache.clear();
    expect(cache.size).toBe(0);
  });

  it("defaults to 10 000 entries and refuses a useless bound", () => {
    const cache = createVerifiedTokenCache({ clock: manualClock() });
    for (let i = 0; i < 10_001; i++) cache.set(String(i), entry(String(i)));
    expect(cache.size).toBe(10_000);
    expect(cache.get("0")).toBeUndefined();
    expect(() => createVerifiedTokenCache({ maxEntries: 0 })).toThrow(TypeError);
  });
});

describe("createTokenVerifier with its cache", () => {
  let key: TestKey;
  beforeAll(async () => {
    key = await makeKey("ES256", "k1");
  });

  /** A verifier over an inline source that counts full verifications. */
  function setup(clockToleranceSec: number) {
    const clock = manualClock();
    const inline = createInlineKeySource(jwksOf(key));
    let lookups = 0;
    const keys: KeySource = {
      kind: "jwks",
      keysFor: (query) => {
        lookups += 1;
        return inline.keysFor(query);
      },
      generation: () => inline.generation(),
    };
    const cache = createVerifiedTokenCache({ clock });
    const verifier = createTokenVerifier({
      issuers: [{ issuer: ISSUER, audience: AUDIENCE, keys, clockToleranceSec }],
      cache,
      clock,
    });
    return { clock, cache, verifier, lookups: () => lookups };
  }

  it("verifies a reused token once, then serves it from the cache", async () => {
    const { verifier, cache, lookups } = setup(0);
    const token = await signToken(key);
    const first = await verifier.verify(token);
    const second = await verifier.verify(token);
    expect(second).toBe(first);
    expect(lookups()).toBe(1);
    expect(cache.get(await tokenCacheKey(token))).toMatchObject({ kid: "k1", generation: 0 });
  });

  it("never accepts a token after its exp, with or without clock tolerance", async () => {
    const strict = setup(0);
    const token = await signToken(key, claimsAt(T0_SEC, { exp: T0_SEC + 60 }));
    await strict.verifier.verify(token);
    strict.clock.set(T0 + 59_999);
    await expect(strict.verifier.verify(token)).resolves.toBeDefined();
    expect(strict.lookups()).toBe(1);
    strict.clock.set(T0 + 60_000);
    const refused = await strict.verifier.verify(token).catch((err) => err);
    expect(refused).toBeInstanceOf(Unauthorized);
    expect(refused).toMatchObject({ reason: "expired" });

    // With tolerance the signature check may still pass a moment after exp; the cache never does.
    const lenient = setup(30);
    await lenient.verifier.verify(token);
    lenient.clock.set(T0 + 60_000);
    await lenient.verifier.verify(token);
    await lenient.verifier.verify(token);
    expect(lenient.lookups()).toBe(3);
    expect(lenient.cache.size).toBe(0);
  });

  it("caches no refusal", async () => {
    const { verifier, cache, lookups } = setup(0);
    const expired = await signToken(key, claimsAt(T0_SEC - 7200));
    await expect(verifier.verify(expired)).rejects.toBeInstanceOf(Unauthorized);
    await expect(verifier.verify(expired)).rejects.toBeInstanceOf(Unauthorized);
    expect(lookups()).toBe(2);
    expect(cache.size).toBe(0);
  });

  it("re-verifies a cached token whose issuer's key-set generation moved on", async () => {
    const clock = manualClock();
    const inline = createInlineKeySource(jwksOf(key));
    let generation = 0;
    let lookups = 0;
    const keys: KeySource = {
      kind: "jwks",
      keysFor: async (query) => {
        lookups += 1;
        return { ...(await inline.keysFor(query)), generation };
      },
      generation: () => Promise.resolve(generation),
    };
    const verifier = createTokenVerifier({
      issuers: [{ issuer: ISSUER, audience: AUDIENCE, keys }],
      clock,
    });
    const token = await signToken(key);
    await verifier.verify(token);
    await verifier.verify(token);
    expect(lookups).toBe(1);
    generation = 1;
    await verifier.verify(token);
    await verifier.verify(token);
    expect(lookups).toBe(2);
  });

  it("is off with cache: false", async () => {
    const clock = manualClock();
    const inline = createInlineKeySource(jwksOf(key));
    let lookups = 0;
    const verifier = createTokenVerifier({
      issuers: [
        {
          issuer: ISSUER,
          audience: AUDIENCE,
          keys: {
            ...inline,
            keysFor: (query) => {
              lookups += 1;
              return inline.keysFor(query);
            },
          },
        },
      ],
      cache: false,
      clock,
    });
    const token = await signToken(key);
    await verifier.verify(token);
    await verifier.verify(token);
    expect(lookups).toBe(2);
  });
});
