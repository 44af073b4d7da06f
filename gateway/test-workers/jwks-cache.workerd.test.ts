import { exportJWK, generateKeyPair, SignJWT } from "jose";
import { describe, expect, it } from "vitest";
import { createCacheApiJwksFetch } from "../src/adapters/workers/cache-api-jwks-fetch.js";
import { binaryEvent, resetDatabase, testWorker } from "./harness.js";

/**
 * A JWKS endpoint behind an injected fetch that counts its calls and can go down; its answers
 * carry `headers` (e.g. `cache-control`).
 */
function issuerEndpoint(jwks: () => unknown, headers: Record<string, string> = {}) {
  const state = { calls: 0, down: false };
  return {
    state,
    fetch: async (request: Request) => {
      state.calls += 1;
      if (state.down) throw new TypeError("network down");
      expect(request.url).toBe("https://id.test/jwks.json");
      return Response.json(jwks(), { headers });
    },
  };
}

/**
 * Worker options over a Cache API cache of its own (shared by the workers given them, as by
 * isolates) and a clock the test moves.
 */
function freshCacheAndClock(fetch: ReturnType<typeof issuerEndpoint>["fetch"]) {
  const now = { ms: Date.now() };
  const cacheName = `jwks-${crypto.randomUUID()}`;
  const options = {
    fetch,
    jwksCache: () => caches.open(cacheName),
    clock: { now: () => now.ms },
  };
  return { now, options };
}

/** A config trusting `https://id.test`'s JWKS URL and letting publisher `p` publish anything. */
const issuerConfig = {
  auth: {
    issuers: [{ issuer: "https://id.test", audience: "herald", jwks: "https://id.test/jwks.json" }],
    publishers: [{ claims: { sub: "p" } }],
  },
  subscriptions: [],
};

/** A key `k` of the issuer (its public JWK) and a bearer header with a token it signed. */
async function issuerKey(expiresIn = "5m", kid = "k") {
  const { privateKey, publicKey } = await generateKeyPair("ES256");
  const jwk = { ...(await exportJWK(publicKey)), kid, alg: "ES256" };
  const token = await new SignJWT({})
    .setProtectedHeader({ alg: "ES256", kid })
    .setIssuer("https://id.test")
    .setAudience("herald")
    .setSubject("p")
    .setExpirationTime(expiresIn)
    .sign(privateKey);
  return { jwk, auth: { authorization: `Bearer ${token}` } };
}

describe("JWKS through the Cache API (workerd)", () => {
  it("a second isolate's first load is served from the cache; later loads go to the network", async () => {
    const cache = await caches.open(`jwks-${crypto.randomUUID()}`);
    const endpoint = issuerEndpoint(() => ({ keys: [{ kty: "EC", kid: "a" }] }));
    const request = () => new Request("https://id.test/jwks.json");
    const first = createCacheApiJwksFetch({ cache, fetch: endpoint.fetch });
    expect(await (await first(request())).json()).toStrictEqual({
      keys: [{ kty: "EC", kid: "a" }],
    });
    expect(endpoint.state.calls).toBe(1);

    const second = createCacheApiJwksFetch({ cache, fetch: endpoint.fetch });
    expect(await (await second(request())).json()).toStrictEqual({
      keys: [{ kty: "EC", kid: "a" }],
    });
    expect(endpoint.state.calls).toBe(1);
    // A refetch (unknown kid, max age) is the isolate asking for news: the network.
    await second(request());
    expect(endpoint.state.calls).toBe(2);
  });

  it("serves the cached set when the issuer is down, and fails without one", async () => {
    const cache = await caches.open(`jwks-${crypto.randomUUID()}`);
    const endpoint = issuerEndpoint(() => ({ keys: [{ kty: "EC", kid: "b" }] }));
    const now = { ms: 1_000_000 };
    const jwksFetch = createCacheApiJwksFetch({
      cache,
      fetch: endpoint.fetch,
      now: () => now.ms,
      maxAgeMs: 1_000,
      maxAgeBoundsMs: { minMs: 1_000, maxMs: 3_600_000 },
    });
    await jwksFetch(new Request("https://id.test/jwks.json"));
    endpoint.state.down = true;
    now.ms += 60_000;
    const stale = await jwksFetch(new Request("https://id.test/jwks.json"));
    expect(await stale.json()).toStrictEqual({ keys: [{ kty: "EC", kid: "b" }] });

    const empty = await caches.open(`jwks-${crypto.randomUUID()}`);
    const cold = createCacheApiJwksFetch({ cache: empty, fetch: endpoint.fetch });
    await expect(cold(new Request("https://id.test/jwks.json"))).rejects.toThrow("network down");
  });

  it("an unusable 200 answer never replaces the cached set; the cached one is served", async () => {
    const cache = await caches.open(`jwks-${crypto.randomUUID()}`);
    const good = { keys: [{ kty: "EC", kid: "c" }] };
    let answer: () => Response = () => Response.json(good);
    const network = async () => answer();
    const request = () => new Request("https://id.test/jwks.json");
    const warm = createCacheApiJwksFetch({ cache, fetch: network });
    await warm(request());
    for (const bad of [
      () => new Response("<html>down for maintenance</html>", { status: 200 }),
      () => Response.json({ keys: [{ kty: "EC", kid: "c", d: "private" }] }),
    ]) {
      answer = bad;
      expect(await (await warm(request())).json()).toStrictEqual(good);
      // A cold isolate still finds the good set in the cache.
      const cold = createCacheApiJwksFetch({ cache, fetch: network });
      expect(await (await cold(request())).json()).toStrictEqual(good);
    }
  });

  it("an endless 200 answer is cut at the size limit, not read into memory", async () => {
    const cache = await caches.open(`jwks-${crypto.randomUUID()}`);
    let pulled = 0;
    const chunk = new TextEncoder().encode(`{"keys":[],"pad":"${"x".repeat(65_536)}`);
    const endless = () =>
      new Response(
        new ReadableStream<Uint8Array>({
          pull(controller) {
            pulled += chunk.byteLength;
            controller.enqueue(chunk);
          },
        }),
        { status: 200 },
      );
    const jwksFetch = createCacheApiJwksFetch({ cache, fetch: async () => endless() });
    await expect(jwksFetch(new Request("https://id.test/jwks.json"))).rejects.toThrow(
      "the JWKS is larger than 1048576 bytes",
    );
    expect(pulled).toBeLessThan(2 * 1024 * 1024);
  });

  it("a Worker verifies tokens against a JWKS URL, and a new isolate needs no fetch", async () => {
    await resetDatabase();
    const { jwk, auth } = await issuerKey();
    const endpoint = issuerEndpoint(() => ({ keys: [jwk] }));
    const cacheName = `jwks-${crypto.randomUUID()}`;
    const options = { fetch: endpoint.fetch, jwksCache: () => caches.open(cacheName) };
    const one = testWorker(issuerConfig, options);
    expect((await one.request("/events", binaryEvent("j-1", auth))).status).toBe(202);
    expect((await one.request("/events", binaryEvent("j-2", auth))).status).toBe(202);
    expect(endpoint.state.calls).toBe(1);
    const two = testWorker(issuerConfig, options);
    expect((await two.request("/events", binaryEvent("j-3", auth))).status).toBe(202);
    expect(endpoint.state.calls).toBe(1);
  });

  it("a Worker whose Cache API cannot be opened still starts and verifies tokens, fetching the JWKS itself", async () => {
    await resetDatabase();
    const { jwk, auth } = await issuerKey();
    const endpoint = issuerEndpoint(() => ({ keys: [jwk] }));
    const gw = testWorker(issuerConfig, {
      fetch: endpoint.fetch,
      jwksCache: () => Promise.reject(new Error("the Cache API is not available")),
    });
    const res = await gw.request("/events", binaryEvent("no-cache-1", auth));
    expect(res.status).toBe(202);
    expect(endpoint.state.calls).toBe(1);
  });

  it("a set past its max age is refetched before the request is answered: work left running after a response is cancelled", async () => {
    await resetDatabase();
    const { jwk, auth } = await issuerKey("1h");
    let served: unknown[] = [jwk];
    const endpoint = issuerEndpoint(() => ({ keys: served }));
    const { now, options } = freshCacheAndClock(endpoint.fetch);
    const gw = testWorker(issuerConfig, options);
    expect((await gw.request("/events", binaryEvent("stale-1", auth))).status).toBe(202);
    // The issuer withdraws the key; ten minutes later the set is past its max age.
    served = [];
    now.ms += 600_000;
    const res = await gw.request("/events", binaryEvent("stale-2", auth));
    expect(endpoint.state.calls).toBe(2);
    // Refetched while the request waited, so the withdrawn key is refused now, not "later" by
    // a background refetch a Worker would have cancelled with the response.
    expect(res.status).toBe(401);
  });

  it("a new isolate whose cached set lacks a token's kid fetches the rotated set at once, as Node would", async () => {
    await resetDatabase();
    const old = await issuerKey("1h", "old");
    let served: unknown[] = [old.jwk];
    const endpoint = issuerEndpoint(() => ({ keys: served }));
    const cacheName = `jwks-${crypto.randomUUID()}`;
    const options = { fetch: endpoint.fetch, jwksCache: () => caches.open(cacheName) };
    const one = testWorker(issuerConfig, options);
    expect((await one.request("/events", binaryEvent("rot-1", old.auth))).status).toBe(202);
    // The issuer rotates a key in; a new isolate's first token is signed with it. Its first
    // load comes from the cache (the set without the new kid), which is no fetch from the
    // issuer: the unknown kid must still refetch, not wait out a cooldown that set started.
    const rotated = await issuerKey("1h", "new");
    served = [old.jwk, rotated.jwk];
    const two = testWorker(issuerConfig, options);
    const res = await two.request("/events", binaryEvent("rot-2", rotated.auth));
    expect(res.status).toBe(202);
    expect(endpoint.state.calls).toBe(2);
    // The cooldown holds from that fetch on: another unknown kid does not fetch again.
    const stray = await issuerKey("1h", "stray");
    expect((await two.request("/events", binaryEvent("rot-3", stray.auth))).status).toBe(401);
    expect(endpoint.state.calls).toBe(2);
  });

  it("a set from the cache keeps its age: one fetched nine minutes ago is refetched a minute later", async () => {
    await resetDatabase();
    const { jwk, auth } = await issuerKey("1h");
    let served: unknown[] = [jwk];
    const endpoint = issuerEndpoint(() => ({ keys: served }));
    const { now, options } = freshCacheAndClock(endpoint.fetch);
    const one = testWorker(issuerConfig, options);
    expect((await one.request("/events", binaryEvent("age-1", auth))).status).toBe(202);
    now.ms += 540_000;
    const two = testWorker(issuerConfig, options);
    expect((await two.request("/events", binaryEvent("age-2", auth))).status).toBe(202);
    expect(endpoint.state.calls).toBe(1);
    // The issuer withdraws the key; the set the cache served is ten minutes old a minute later.
    served = [];
    now.ms += 60_000;
    expect((await two.request("/events", binaryEvent("age-3", auth))).status).toBe(401);
    expect(endpoint.state.calls).toBe(2);
  });

  it("the issuer's Cache-Control reaches the key source through the cache: max-age=120 is refetched two minutes on, in a new isolate too", async () => {
    await resetDatabase();
    const { jwk, auth } = await issuerKey("1h");
    let served: unknown[] = [jwk];
    const endpoint = issuerEndpoint(() => ({ keys: served }), {
      "cache-control": "public, max-age=120",
    });
    const { now, options } = freshCacheAndClock(endpoint.fetch);
    const one = testWorker(issuerConfig, options);
    expect((await one.request("/events", binaryEvent("cc-1", auth))).status).toBe(202);
    now.ms += 60_000;
    // A new isolate's first load comes from the cache, with the issuer's max-age kept.
    const two = testWorker(issuerConfig, options);
    expect((await two.request("/events", binaryEvent("cc-2", auth))).status).toBe(202);
    expect(endpoint.state.calls).toBe(1);
    // The issuer withdraws the key: two minutes after the fetch both isolates see it gone.
    served = [];
    now.ms += 60_000;
    expect((await two.request("/events", binaryEvent("cc-3", auth))).status).toBe(401);
    expect((await one.request("/events", binaryEvent("cc-4", auth))).status).toBe(401);
    expect(endpoint.state.calls).toBe(3);
  });

  it("while the issuer is down the cached set serves at its real age: a day after its fetch it is refused, in an isolate that got it later too", async () => {
    await resetDatabase();
    const { jwk, auth } = await issuerKey("1000d");
    const endpoint = issuerEndpoint(() => ({ keys: [jwk] }));
    const { now, options } = freshCacheAndClock(endpoint.fetch);
    const one = testWorker(issuerConfig, options);
    expect((await one.request("/events", binaryEvent("down-1", auth))).status).toBe(202);
    endpoint.state.down = true;
    // Twelve hours on, a new isolate: the issuer fails, the cache's day-old-at-most set serves.
    now.ms += 12 * 3_600_000;
    const two = testWorker(issuerConfig, options);
    expect((await two.request("/events", binaryEvent("down-2", auth))).status).toBe(202);
    expect(endpoint.state.calls).toBe(2);
    // A day after the issuer gave the set it is no longer used, though this isolate got it
    // twelve hours ago: 503 until the issuer is back.
    now.ms += 12 * 3_600_000;
    const refused = await two.request("/events", binaryEvent("down-3", auth));
    expect(refused.status).toBe(503);
    expect(await refused.json()).toMatchObject({ code: "keys_unavailable" });
    endpoint.state.down = false;
    now.ms += 30_000;
    expect((await two.request("/events", binaryEvent("down-4", auth))).status).toBe(202);
  });
});
