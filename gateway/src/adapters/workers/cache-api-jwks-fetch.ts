import {
  CLEARTEXT_REDIRECT,
  JWKS_CACHED_AT,
  readJwks,
  redirectedToCleartext,
} from "../../auth/read-jwks.js";
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
  /** A cached set younger than this serves an isolate's first load (default 10 minutes). */
  readonly maxAgeMs?: number;
  /** How long a set stays in the cache at all, as a fallback when the issuer is down (1 day). */
  readonly keepMs?: number;
  readonly now?: () => number;
  readonly logger?: Logger;
}

const FETCHED_AT = "x-herald-fetched-at";

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
 *   network, so key rotation is seen at once; a good answer replaces the cached set;
 * - when the network fails, answers an error, or answers a set that is no usable JWKS (not
 *   JSON, private keys, over `MAX_JWKS_BYTES`), the cached set (up to `keepMs` old) is served:
 *   stale keys beat no keys, as in `remote-key-source.ts`; only a usable set is cached.
 *
 * @example
 * const fetchJwks = createCacheApiJwksFetch({ cache: await caches.open("herald-jwks") });
 * createRemoteKeySource({ url, fetch: fetchJwks });
 */
export function createCacheApiJwksFetch(options: CacheApiJwksFetchOptions): FetchLike {
  const { cache, maxAgeMs = 600_000, keepMs = 86_400_000, now = () => Date.now() } = options;
  const network = options.fetch ?? ((request: Request) => fetch(request));
  const warm = new Set<string>();

  async function cached(key: Request, maxAge: number): Promise<Response | undefined> {
    try {
      const hit = await cache.match(key);
      const at = Number(hit?.headers.get(FETCHED_AT));
      if (hit !== undefined && Number.isFinite(at) && now() - at < maxAge) return hit;
      await hit?.body?.cancel();
    } catch (error) {
      options.logger?.warn("auth: JWKS cache read failed", { error: String(error) });
    }
    return undefined;
  }

  return async function cacheApiJwksFetch(request) {
    // The Cache API keys by GET request and URL; the set is the same for every caller.
    const key = new Request(request.url, { method: "GET" });
    const first = !warm.has(request.url);
    warm.add(request.url);
    if (first) {
      const hit = await cached(key, maxAgeMs);
      if (hit !== undefined) {
        // Marked as the cache's, with its age: the key source then starts no cooldown on it
        // (the issuer was not asked) and refetches it when it is max age old, not max age
        // after this isolate read it.
        const headers = new Headers(hit.headers);
        headers.set(JWKS_CACHED_AT, hit.headers.get(FETCHED_AT) ?? "");
        return new Response(hit.body, { status: hit.status, headers });
      }
    }
    let response: Response;
    try {
      response = await network(request);
    } catch (error) {
      const stale = await cached(key, keepMs);
      if (stale !== undefined) return stale;
      throw error;
    }
    if (redirectedToCleartext(request.url, response)) {
      // Neither served nor cached: the cached set (fetched over TLS), or the error.
      await response.body?.cancel();
      const stale = await cached(key, keepMs);
      if (stale !== undefined) return stale;
      throw new Error(CLEARTEXT_REDIRECT);
    }
    if (!response.ok) {
      const stale = await cached(key, keepMs);
      if (stale !== undefined) {
        await response.body?.cancel();
        return stale;
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
      const stale = await cached(key, keepMs);
      if (stale !== undefined) {
        options.logger?.warn(
          "auth: the JWKS URL answered an unusable set; serving the cached one",
          {
            error: error instanceof Error ? error.message : String(error),
          },
        );
        return stale;
      }
      throw error;
    }
    const headers = new Headers({
      "content-type": response.headers.get("content-type") ?? "application/json",
      "cache-control": `max-age=${Math.ceil(keepMs / 1000)}`,
      [FETCHED_AT]: String(now()),
    });
    try {
      await cache.put(key, new Response(text, { status: 200, headers }));
    } catch (error) {
      options.logger?.warn("auth: JWKS cache write failed", { error: String(error) });
    }
    return new Response(text, { status: response.status, headers });
  };
}
