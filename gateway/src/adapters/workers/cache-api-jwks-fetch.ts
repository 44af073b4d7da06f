import { JWKS_MAX_AGE, jwksMaxAgeMs, jwksMaxAgePolicy } from "../../auth/jwks-max-age.js";
import {
  CLEARTEXT_REDIRECT,
  JWKS_CACHED_AT,
  JWKS_STALE,
  readJwks,
  redirectedToCleartext,
  sharedCacheAnswer,
} from "../../auth/read-jwks.js";
import { describeError } from "../../deliver/failure-text.js";
import type { FetchLike } from "../../ports/fetch.js";
import type { Logger } from "../../ports/logger.js";

/** The Cache API as far as this module uses it (`caches.open(name)`'s result). */
export interface JwksCache {
  match(request: Request): Promise<Response | undefined>;
  put(request: Request, response: Response): Promise<void>;
}

export interface CacheApiJwksFetchOptions {
  /** Where sets are shared between isolates, e.g. `await caches.open("herald-jwks")`. */
  readonly cache: JwksCache;
  /** The network (default: the global `fetch`). */
  readonly fetch?: FetchLike;
  /**
   * A cached set serves an isolate's first load while younger than its max age: what the
   * issuer's answer said (`Cache-Control`, `Expires`), else this (default 10 minutes), within
   * `maxAgeBoundsMs`, as `createRemoteKeySource` reads it (keep the two options alike).
   */
  readonly maxAgeMs?: number;
  readonly maxAgeBoundsMs?: { readonly minMs: number; readonly maxMs: number };
  /** How long a set stays in the cache at all, as a fallback when the issuer is down (1 day). */
  readonly keepMs?: number;
  readonly now?: () => number;
  readonly logger?: Logger;
}

const FETCHED_AT = "x-herald-fetched-at";
/** The issuer's headers that say how long its set may be used, kept in the cache under a prefix. */
const FRESHNESS = ["cache-control", "expires", "date", "age"];
const UPSTREAM = "x-herald-upstream-";

/** A cache that keeps nothing: every isolate goes to the network, as without the Cache API. */
const NO_CACHE: JwksCache = {
  match: async () => undefined,
  put: async () => {},
};

/**
 * Opens the cache JWKS are shared through, or, where the Cache API is unavailable (Cloudflare
 * documents it so for Workers behind Cloudflare Access), a cache that keeps nothing, with a
 * warning: sharing key sets saves identity-provider calls, it must not keep the gateway from
 * starting (which would answer 503 to every request).
 *
 * @example
 * const cache = await openJwksCache(() => caches.open("herald-jwks"), logger);
 */
export async function openJwksCache(
  open: () => Promise<JwksCache>,
  logger?: Logger,
): Promise<JwksCache> {
  try {
    return await open();
  } catch (error) {
    logger?.warn("auth: the Cache API is not available; each isolate fetches JWKS itself", {
      error: String(error),
    });
    return NO_CACHE;
  }
}

/**
 * A `fetch` for `createRemoteKeySource` that suits isolates: each isolate keeps its key set in
 * memory (the remote key source), and this shares fetched sets between isolates through the
 * Cache API, so a cold isolate does not call the identity provider:
 * - the first request of an isolate for a URL is served from the cache when the cached set is
 *   younger than `maxAgeMs`, marked `JWKS_CACHED_AT` (its fetch time): that load starts no
 *   cooldown in the key source, so a token whose kid the cached set lacks (a key rotated in
 *   since) is refetched at once, and the set keeps its age;
 * - every other request (a token with an unknown `kid`, a set past its max age) goes to the
 *   network, so key rotation is seen at once; a good answer replaces the cached set, and is
 *   passed on with the issuer's caching headers (`Cache-Control`, `Expires`, `Date`, `Age`),
 *   which the cached copy keeps too: the key source reads its max age from them;
 * - when the network fails, answers an error, or answers a set that is no usable JWKS (not
 *   JSON, private keys, over `MAX_JWKS_BYTES`), the cached set (up to `keepMs` old) is served,
 *   marked `JWKS_STALE` (why) and `JWKS_CACHED_AT` (its fetch time): the key source counts that
 *   as a failed fetch and keeps the set's age, so stale keys serve as long as on Node, not
 *   renewed by each pass through the cache; only a usable set is cached.
 *
 * @example
 * const fetchJwks = createCacheApiJwksFetch({ cache: await caches.open("herald-jwks") });
 * createRemoteKeySource({ url, fetch: fetchJwks });
 */
export function createCacheApiJwksFetch(options: CacheApiJwksFetchOptions): FetchLike {
  const { cache, keepMs = 86_400_000, now = () => Date.now() } = options;
  const bounds = options.maxAgeBoundsMs ?? JWKS_MAX_AGE;
  const maxAge = jwksMaxAgePolicy({
    defaultMs: options.maxAgeMs ?? JWKS_MAX_AGE.defaultMs,
    minMs: bounds.minMs,
    maxMs: bounds.maxMs,
  });
  const network = options.fetch ?? ((request: Request) => fetch(request));
  const warm = new Set<string>();

  /**
   * The cached set as the issuer answered it (its caching headers back in place), marked with its
   * fetch time, if it is younger than `maxAgeOf(its headers)`.
   */
  async function cached(
    key: Request,
    maxAgeOf: (headers: Headers, fetchedAt: number) => number,
  ): Promise<Response | undefined> {
    try {
      const hit = await cache.match(key);
      if (hit === undefined) return undefined;
      const at = Number(hit.headers.get(FETCHED_AT));
      const headers = new Headers({
        "content-type": hit.headers.get("content-type") ?? "application/json",
        [JWKS_CACHED_AT]: String(at),
      });
      for (const name of FRESHNESS) {
        const value = hit.headers.get(UPSTREAM + name);
        if (value !== null) headers.set(name, value);
      }
      if (Number.isFinite(at) && now() - at < maxAgeOf(headers, at)) {
        // Marked as this cache's: the key source reads JWKS_CACHED_AT/JWKS_STALE from no other.
        return sharedCacheAnswer(new Response(hit.body, { status: 200, headers }));
      }
      await hit.body?.cancel();
    } catch (error) {
      options.logger?.warn("auth: JWKS cache read failed", { error: String(error) });
    }
    return undefined;
  }

  /** The cached set (up to `keepMs` old) in place of a failed fetch, marked with why it failed. */
  async function stale(key: Request, failure: unknown): Promise<Response | undefined> {
    const hit = await cached(key, () => keepMs);
    // One line of ASCII, as a header value must be.
    hit?.headers.set(JWKS_STALE, encodeURIComponent(describeError(failure)));
    return hit;
  }

  return async function cacheApiJwksFetch(request) {
    // The Cache API keys by GET request and URL; the set is the same for every caller.
    const key = new Request(request.url, { method: "GET" });
    const first = !warm.has(request.url);
    warm.add(request.url);
    if (first) {
      // Marked as the cache's, with its age (`JWKS_CACHED_AT`): the key source then starts no
      // cooldown on it (the issuer was not asked) and refetches it when it is max age old, not
      // max age after this isolate read it.
      const hit = await cached(key, (headers, at) => jwksMaxAgeMs(headers, at, maxAge));
      if (hit !== undefined) return hit;
    }
    let response: Response;
    try {
      response = await network(request);
    } catch (error) {
      const old = await stale(key, error);
      if (old !== undefined) return old;
      throw error;
    }
    if (redirectedToCleartext(request.url, response)) {
      // Neither served nor cached: the cached set (fetched over TLS), or the error.
      await response.body?.cancel();
      const old = await stale(key, new Error(CLEARTEXT_REDIRECT));
      if (old !== undefined) return old;
      throw new Error(CLEARTEXT_REDIRECT);
    }
    if (!response.ok) {
      const old = await stale(key, new Error(`the JWKS URL answered HTTP ${response.status}`));
      if (old !== undefined) {
        await response.body?.cancel();
        return old;
      }
      return response;
    }
    // Only a usable set is cached: a 200 maintenance page, a set with private keys or one over
    // the size limit must neither replace the good set every isolate falls back on nor be read
    // into memory whole.
    let text: string;
    try {
      ({ text } = await readJwks(response));
    } catch (error) {
      // The key source logs the cause it finds in JWKS_STALE.
      const old = await stale(key, error);
      if (old !== undefined) return old;
      throw error;
    }
    const contentType = response.headers.get("content-type") ?? "application/json";
    // The cache's own Cache-Control keeps the entry `keepMs` (the fallback); the issuer's
    // caching headers ride beside it, for the max age of the set.
    const stored = new Headers({
      "content-type": contentType,
      "cache-control": `max-age=${Math.ceil(keepMs / 1000)}`,
      [FETCHED_AT]: String(now()),
    });
    const passed = new Headers({ "content-type": contentType });
    for (const name of FRESHNESS) {
      const value = response.headers.get(name);
      if (value === null) continue;
      stored.set(UPSTREAM + name, value);
      passed.set(name, value);
    }
    try {
      await cache.put(key, new Response(text, { status: 200, headers: stored }));
    } catch (error) {
      options.logger?.warn("auth: JWKS cache write failed", { error: String(error) });
    }
    return new Response(text, { status: response.status, headers: passed });
  };
}
