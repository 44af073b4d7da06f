import type { JSONWebKeySet } from "jose";
import { describeError } from "../deliver/failure-text.js";
import { fetchKeepingAbort } from "../http/fetch-keeping-abort.js";
import { type Clock, systemClock } from "../ports/clock.js";
import type { FetchLike } from "../ports/fetch.js";
import { type Logger, silentLogger } from "../ports/logger.js";
import { safeUrl } from "../telemetry/tracing.js";
import { KeysUnavailable, Unauthorized } from "./auth-errors.js";
import { createKeyMatcher, type KeyMatcher } from "./jwk-set.js";
import { JWKS_MAX_AGE, jwksMaxAgeMs, jwksMaxAgePolicy } from "./jwks-max-age.js";
import type { KeySource } from "./key-source.js";
import {
  CLEARTEXT_REDIRECT,
  isSharedCacheAnswer,
  JWKS_CACHED_AT,
  JWKS_STALE,
  readJwks,
  redirectedToCleartext,
} from "./read-jwks.js";

/** Redirects a JWKS request follows at most (fetch's own limit is 20). */
const MAX_JWKS_REDIRECTS = 5;
const isRedirect = (status: number) =>
  status === 301 || status === 302 || status === 303 || status === 307 || status === 308;

/** Options of `createRemoteKeySource`. */
export interface RemoteKeySourceOptions {
  /** The issuer's JWKS URL (http or https), e.g. an OIDC provider's `jwks_uri`. */
  readonly url: string;
  /** Outbound HTTP; default the global `fetch`. */
  readonly fetch?: FetchLike;
  readonly clock?: Clock;
  /**
   * Least time between two fetches, in ms, default 30 000: an identity provider that is down
   * cannot make the gateway fetch more often than this, nor can tokens naming unknown `kid`s
   * (one refetch for them per cooldown; the first load of the set does not count, so a key
   * rotated in just after start is picked up at once).
   */
  readonly cooldownMs?: number;
  /**
   * How long (ms) a set whose answer has no caching headers is used before it is refetched on
   * next use (default 600 000). An answer's `Cache-Control: max-age` (less its `Age`),
   * `no-cache`/`no-store` or `Expires` decides instead, within `maxAgeBoundsMs` (`jwksMaxAgeMs`).
   */
  readonly maxAgeMs?: number;
  /**
   * The least and most time (ms) a set is used before it is refetched, whatever its answer says
   * (default 60 000 and 3 600 000): the floor keeps a `max-age=0` or `no-store` issuer from a
   * fetch per token, the ceiling makes a withdrawn key stop verifying within it.
   */
  readonly maxAgeBoundsMs?: { readonly minMs: number; readonly maxMs: number };
  /**
   * How long (ms) after its fetch a set still serves when refetching it fails (default
   * 86 400 000, a day): past that its keys are not used, and tokens of the issuer are refused
   * with `KeysUnavailable` (503) until a fetch succeeds. Stale keys beat no keys for an outage,
   * but not forever: a key the issuer withdrew must stop working even if the JWKS URL cannot be
   * reached (or is kept from being reached).
   */
  readonly keepStaleMs?: number;
  /** A fetch that takes longer is abandoned (ms, default 5 000). */
  readonly timeoutMs?: number;
  /** Fetch failures and key changes are logged here; default silent. */
  readonly logger?: Logger;
  /**
   * Whether a set past its max age is refetched in the background while the old one answers
   * (default `true`). `false` where work a request leaves running after its response is
   * cancelled (Cloudflare Workers): the request that finds the set old waits for the refetch
   * (at most `timeoutMs`; a failure keeps the old set), or the set would never be renewed.
   */
  readonly refreshInBackground?: boolean;
}

/** A `KeySource` over a JWKS URL. */
export interface RemoteKeySource extends KeySource {
  /**
   * Fetches the set now, ignoring the cooldown; resolves `true` when it got a valid set. Never
   * rejects: a failure keeps the keys fetched before.
   */
  refresh(): Promise<boolean>;
  /**
   * Fetches the set at start, so the first token does not wait for it: a failure is logged once,
   * as a warning with its cause, and starts no cooldown (the next token tries again). Waits for
   * the fetch under way, if any; does nothing when a set is held. Never rejects.
   */
  warmUp(): Promise<boolean>;
}

/** One fetched set, the generation it belongs to and when it arrived. */
interface Installed {
  readonly match: KeyMatcher;
  /** Each key's JSON, to tell whether a later set dropped or changed one. */
  readonly fingerprints: ReadonlySet<string>;
  readonly generation: number;
  /** When the issuer gave the set (a shared cache's copy: when the cache got it). */
  readonly fetchedAt: number;
  /** When it is due for a refetch (`fetchedAt` plus its max age). */
  readonly expiresAt: number;
}

/** What a download got: the set, its answer's headers, and what `JWKS_*` headers said. */
interface Downloaded {
  readonly jwks: JSONWebKeySet;
  readonly headers: Headers;
  /** `JWKS_CACHED_AT`: the set came from a shared cache, fetched then. */
  readonly cachedAt?: number;
  /** `JWKS_STALE`: the issuer failed (this is why) and a shared cache's old set answered. */
  readonly staleBecause?: string;
}

/** How long past its timeout a fetch may still be pending before it counts as abandoned. */
const ABANDONED_AFTER_MS = 1_000;

function positive(name: string, value: number): number {
  if (!Number.isFinite(value) || value < 0) throw new TypeError(`${name} must be >= 0`);
  return value;
}

/**
 * A `KeySource` over a JWKS URL. The set is fetched by `warmUp` (at start) or on first use, and
 * kept for its max age: what its answer's `Cache-Control` (`max-age` less `Age`, `no-cache`,
 * `no-store`) or `Expires` says, else `maxAgeMs`, always within `maxAgeBoundsMs`
 * (`jwksMaxAgeMs`). It is fetched again when a token names a `kid` it does not hold (key
 * rotation; that token waits for the fetch) or when it is past its max age (in the background:
 * the old set serves meanwhile). Unknown `kid`s refetch at most once per `cooldownMs`; the first
 * load of the set does not count against that, so a key rotated in just after start is picked
 * up at once, while tokens naming made-up kids still cost the issuer one fetch per cooldown.
 * After a failed fetch nothing is fetched again within `cooldownMs`. A failed refetch keeps the
 * old keys (stale keys beat no keys) until they are `keepStaleMs` old; `keysFor` rejects with
 * `KeysUnavailable` (503, `Retry-After` at the end of the cooldown) when no set was ever
 * fetched or the one held is older than that. The generation grows when a refetch drops or
 * changes a key, never when it only adds keys. An `https` URL whose answer came by way of a
 * redirect to plain `http` counts as a failed fetch: fetch would follow that downgrade.
 *
 * @example
 * const keys = createRemoteKeySource({ url: "https://id.example.com/.well-known/jwks.json" });
 * void keys.warmUp();
 */
export function createRemoteKeySource(options: RemoteKeySourceOptions): RemoteKeySource {
  const {
    url,
    fetch: fetchSet = (request: Request) => fetch(request),
    clock = systemClock,
    cooldownMs = 30_000,
    maxAgeMs = JWKS_MAX_AGE.defaultMs,
    maxAgeBoundsMs = JWKS_MAX_AGE,
    keepStaleMs = 86_400_000,
    timeoutMs = 5_000,
    logger = silentLogger,
    refreshInBackground = true,
  } = options;
  const protocol = URL.canParse(url) ? new URL(url).protocol : "";
  // The URL as logs show it: no user info, query or fragment (a credential may ride there).
  const shownUrl = safeUrl(url);
  if (protocol !== "https:" && protocol !== "http:") {
    throw new TypeError("a JWKS URL must be an absolute http(s) URL");
  }
  positive("cooldownMs", cooldownMs);
  positive("timeoutMs", timeoutMs);
  const maxAge = jwksMaxAgePolicy({
    defaultMs: maxAgeMs,
    minMs: maxAgeBoundsMs.minMs,
    maxMs: maxAgeBoundsMs.maxMs,
  });
  if (!(positive("keepStaleMs", keepStaleMs) >= maxAge.maxMs)) {
    throw new TypeError("keepStaleMs must be at least maxAgeBoundsMs.maxMs");
  }

  let current: Installed | undefined;
  let attemptedAt: number | undefined;
  // Whether the attempt at `attemptedAt` was the one that first loaded a set, and whether the
  // last attempt got a set.
  let firstLoadAttempt = false;
  let lastFetchOk = false;
  // Whether a fetch failed since the last good one (to say when the issuer is back), and whether
  // the set held was said to be too old to use (said once, not per token).
  let failing = false;
  let saidTooOld = false;
  let inflight: { readonly done: Promise<boolean>; readonly since: number } | undefined;
  // Read through a function: the set changes across awaits, which TypeScript's narrowing ignores.
  const installed = (): Installed | undefined => current;
  const coolingDown = () => attemptedAt !== undefined && clock.now() - attemptedAt < cooldownMs;
  // A kid the set lacks may be a key rotated in since: one refetch per cooldown, and one within
  // the cooldown the first load started (a key rotated in just after start), unless it failed.
  const mayRefetchForKid = () => !coolingDown() || (lastFetchOk && firstLoadAttempt);
  // A set this old is no longer used, even when no newer one can be had.
  const tooOld = (set: Installed) => clock.now() - set.fetchedAt >= keepStaleMs;

  /** The set and what its answer's headers say about it. */
  async function download(): Promise<Downloaded> {
    const signal = AbortSignal.timeout(timeoutMs);
    // Redirects are followed here, one hop at a time, not by fetch: only the last hop shows in
    // its answer, so https -> http -> https would pass a check of the final URL while the keys'
    // path went through cleartext. An https URL's every hop must be https.
    let at = url;
    let response: Response;
    for (let hops = 0; ; hops++) {
      response = await fetchKeepingAbort(
        fetchSet,
        new Request(at, {
          headers: { accept: "application/jwk-set+json, application/json" },
          redirect: "manual",
          signal,
        }),
      );
      const location = isRedirect(response.status) ? response.headers.get("location") : null;
      if (location === null) break;
      await response.body?.cancel();
      if (hops >= MAX_JWKS_REDIRECTS) {
        throw new Error(`the JWKS URL redirected more than ${MAX_JWKS_REDIRECTS} times`);
      }
      const next = URL.canParse(location, at) ? new URL(location, at) : undefined;
      if (next === undefined) throw new Error("the JWKS URL redirected to an invalid Location");
      if (protocol === "https:" && next.protocol !== "https:") throw new Error(CLEARTEXT_REDIRECT);
      at = next.href;
    }
    // A `fetch` given to this source may follow redirects itself despite `manual`: then only the
    // final URL can be checked.
    if (redirectedToCleartext(url, response)) {
      await response.body?.cancel();
      throw new Error(CLEARTEXT_REDIRECT);
    }
    if (!response.ok) {
      await response.body?.cancel();
      throw new Error(`the JWKS URL answered HTTP ${response.status}`);
    }
    const { headers } = response;
    // Only Herald's own shared cache says these; from the JWKS server they are ignored.
    const shared = isSharedCacheAnswer(response);
    const cachedAt = shared ? Number(headers.get(JWKS_CACHED_AT) ?? Number.NaN) : Number.NaN;
    const stale = shared ? headers.get(JWKS_STALE) : null;
    const { jwks } = await readJwks(response);
    return {
      jwks,
      headers,
      ...(Number.isFinite(cachedAt) ? { cachedAt } : {}),
      ...(stale === null ? {} : { staleBecause: decodeStale(stale) }),
    };
  }

  function install(jwks: JSONWebKeySet, fetchedAt: number, headers: Headers): void {
    const fingerprints = new Set(jwks.keys.map((key) => JSON.stringify(key)));
    const before = installed();
    let generation = before?.generation ?? 0;
    if (before !== undefined && [...before.fingerprints].some((key) => !fingerprints.has(key))) {
      generation += 1;
      logger.info("auth: JWKS keys were withdrawn or replaced", { url: shownUrl, generation });
    }
    const match = createKeyMatcher(jwks);
    const expiresAt = fetchedAt + jwksMaxAgeMs(headers, fetchedAt, maxAge);
    current = { match, fingerprints, generation, fetchedAt, expiresAt };
    saidTooOld = false;
  }

  /**
   * One fetch. `atStart`: the warm-up, whose failure is said as such (once: the fetch's own
   * warning is not logged besides it).
   */
  async function load(atStart: boolean): Promise<boolean> {
    const startedAt = clock.now();
    const before = attemptedAt;
    const beforeFirst = firstLoadAttempt;
    attemptedAt = startedAt;
    firstLoadAttempt = current === undefined;
    let failure: string;
    try {
      const got = await download();
      const { jwks, cachedAt, headers } = got;
      const fetchedAt = Math.min(cachedAt ?? Number.POSITIVE_INFINITY, clock.now());
      if (got.staleBecause !== undefined) {
        // The issuer failed and a shared cache answered with the set it kept: a failed fetch
        // (the cooldown holds), whose set still serves if it is newer than the one held.
        if (fetchedAt > (installed()?.fetchedAt ?? Number.NEGATIVE_INFINITY)) {
          install(jwks, fetchedAt, headers);
        }
        throw new Error(got.staleBecause);
      }
      install(jwks, fetchedAt, headers);
      // Served from a shared cache: the set is as old as it is there, and the issuer was not
      // asked, so this load starts no cooldown (an unknown kid may still fetch at once).
      if (cachedAt !== undefined && attemptedAt === startedAt) {
        attemptedAt = before;
        firstLoadAttempt = beforeFirst;
      }
      lastFetchOk = true;
      const set = installed();
      const fields = {
        url: shownUrl,
        keys: jwks.keys.length,
        // When it is refetched, so an operator sees what the answer's Cache-Control made of it.
        maxAgeSeconds: set === undefined ? undefined : (set.expiresAt - set.fetchedAt) / 1000,
      };
      if (failing) logger.info("auth: JWKS fetched again after failing", fields);
      else if (atStart) logger.info("auth: JWKS fetched", fields);
      failing = false;
      return true;
    } catch (err) {
      // With its cause: fetch's own message is just "fetch failed", whether the name did not
      // resolve, the connection was refused or the certificate is not trusted.
      failure = describeError(err);
    }
    lastFetchOk = false;
    failing = true;
    const held = installed();
    if (atStart && attemptedAt === startedAt) {
      // No token waited for the warm-up: the first one tries again rather than being refused
      // for a cooldown a blip at start began (later failures hold the cooldown as always).
      attemptedAt = before;
      firstLoadAttempt = beforeFirst;
    }
    if (atStart && held === undefined) {
      logger.warn(
        `auth: cannot fetch the JWKS at start; tokens of its issuer are refused (503 keys_unavailable) until a fetch succeeds; the next token tries again (then at most every ${cooldownMs / 1000} s)`,
        { url: shownUrl, error: failure },
      );
    } else {
      logger.warn("auth: JWKS fetch failed; keeping the keys fetched before, if any", {
        url: shownUrl,
        error: failure,
        ...(held === undefined ? {} : { keysFetchedAt: new Date(held.fetchedAt).toISOString() }),
      });
    }
    return false;
  }

  /**
   * The fetch under way, unless it was abandoned: a fetch ends by its own timeout, so one still
   * pending well past it will never settle (Workers cancel what a finished request left
   * running) and must not stand in for a fetch forever.
   */
  function pending(): Promise<boolean> | undefined {
    if (inflight !== undefined && clock.now() - inflight.since > timeoutMs + ABANDONED_AFTER_MS) {
      inflight = undefined;
    }
    return inflight?.done;
  }

  function start(atStart = false): Promise<boolean> {
    const entry = {
      since: clock.now(),
      done: load(atStart).finally(() => {
        if (inflight === entry) inflight = undefined;
      }),
    };
    inflight = entry;
    return entry.done;
  }

  /**
   * Waits for the fetch under way, or a new one, for at most its timeout (and a margin): a
   * fetch started by another request that was cancelled never settles, and must not hold this
   * request forever. Resolves `false` when it gave up waiting.
   */
  async function refresh(): Promise<boolean> {
    const done = pending() ?? start();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const givenUp = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), timeoutMs + ABANDONED_AFTER_MS);
    });
    try {
      return await Promise.race([done, givenUp]);
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * The set to use now: fetched (and waited for) if there is none yet, or if the one held is too
   * old to use. One past its max age is still used while it is refetched in the background, so an
   * identity provider that is slow or hangs never holds requests up (up to `timeoutMs` each)
   * once a set was fetched.
   */
  async function usable(): Promise<Installed> {
    const before = installed();
    if (before === undefined || tooOld(before)) {
      if (pending() !== undefined || !coolingDown()) await refresh();
    } else if (clock.now() >= before.expiresAt && !coolingDown()) {
      if (refreshInBackground) void refresh();
      else await refresh();
    }
    const set = installed();
    if (set === undefined || tooOld(set)) {
      if (set !== undefined && !saidTooOld) {
        saidTooOld = true;
        logger.error(
          `auth: the JWKS could not be refetched for ${keepStaleMs / 1000} s; its keys are no longer used and tokens of its issuer are refused (503 keys_unavailable) until a fetch succeeds`,
          { url: shownUrl, keysFetchedAt: new Date(set.fetchedAt).toISOString() },
        );
      }
      const waitMs =
        attemptedAt === undefined ? cooldownMs : attemptedAt + cooldownMs - clock.now();
      throw new KeysUnavailable(waitMs / 1000);
    }
    return set;
  }

  return {
    kind: "jwks",
    refresh,
    async warmUp() {
      if (installed() !== undefined) return true;
      return pending() ?? start(true);
    },
    async keysFor(query) {
      const attemptedBefore = attemptedAt;
      let set = await usable();
      let keys = await set.match(query);
      // An unknown kid may be a key the issuer rotated in since the last fetch, unless the set
      // in hand was fetched for this very call (on first use, or past its max age).
      const fetchedForThisCall = attemptedAt !== attemptedBefore && pending() === undefined;
      if (
        keys.length === 0 &&
        (pending() !== undefined || (!fetchedForThisCall && mayRefetchForKid()))
      ) {
        await refresh();
        set = installed() ?? set;
        keys = await set.match(query);
      }
      if (keys.length === 0) {
        throw new Unauthorized("unknown_key", "no key of the token's issuer fits the token's kid");
      }
      return { keys, generation: set.generation };
    },
    async generation() {
      return (await usable()).generation;
    },
  };
}

/** The cause a `JWKS_STALE` header carries (URI-encoded: a header value is one line of ASCII). */
function decodeStale(value: string): string {
  try {
    return decodeURIComponent(value) || "the JWKS URL failed";
  } catch {
    return value;
  }
}
