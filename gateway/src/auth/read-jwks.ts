import type { JSONWebKeySet } from "jose";
import { PayloadTooLarge } from "../errors/errors.js";
import { readStreamCapped } from "../ingest/read-body.js";
import { publicKeySetProblem } from "./jwk-set.js";

/** A JWKS response larger than this is refused. */
export const MAX_JWKS_BYTES = 1024 * 1024;

/** A JWKS read from a successful response: the set and its text as received. */
export interface ReadJwks {
  readonly jwks: JSONWebKeySet;
  readonly text: string;
}

/**
 * Reads a JWKS URL's 2xx answer: at most `MAX_JWKS_BYTES` (by `Content-Length`, then as it
 * streams), JSON, and a set of public keys only (`publicKeySetProblem`). Rejects with an `Error`
 * whose message says what is wrong (for the log; it never holds the body's bytes beyond what
 * `JSON.parse` quotes).
 *
 * @example
 * const { jwks } = await readJwks(await fetch(url));
 */
export async function readJwks(response: Response): Promise<ReadJwks> {
  const tooLarge = () => new Error(`the JWKS is larger than ${MAX_JWKS_BYTES} bytes`);
  if (Number(response.headers.get("content-length") ?? 0) > MAX_JWKS_BYTES) {
    await response.body?.cancel();
    throw tooLarge();
  }
  let bytes: Uint8Array;
  try {
    bytes = await readStreamCapped(response.body, MAX_JWKS_BYTES);
  } catch (err) {
    if (err instanceof PayloadTooLarge) throw tooLarge();
    throw err;
  }
  const text = new TextDecoder().decode(bytes);
  const value: unknown = JSON.parse(text);
  const problem = publicKeySetProblem(value);
  if (problem !== undefined) throw new Error(problem);
  return { jwks: value as JSONWebKeySet, text };
}

/**
 * Whether the answer to a JWKS request for an `https` URL came by way of a redirect to plain
 * `http`: fetch follows that downgrade, and keys that arrived in cleartext are whatever anyone on
 * the path sent, not what the operator asked for by writing `https`. Such an answer is refused
 * like an error status.
 *
 * @example
 * if (redirectedToCleartext(url, response)) throw new Error("the JWKS URL redirected to plain http");
 */
export function redirectedToCleartext(requestUrl: string, response: Response): boolean {
  return (
    requestUrl.toLowerCase().startsWith("https:") &&
    response.redirected &&
    !response.url.toLowerCase().startsWith("https:")
  );
}

/** The log text of a `redirectedToCleartext` answer. */
export const CLEARTEXT_REDIRECT =
  "the JWKS URL redirected to plain http; keys fetched without TLS are refused";

/** The answers a shared cache built itself (`sharedCacheAnswer`). */
const sharedCacheAnswers = new WeakSet<Response>();

/**
 * Marks `response` as built by a shared JWKS cache (`cache-api-jwks-fetch.ts`), the one place
 * whose `JWKS_CACHED_AT` and `JWKS_STALE` headers `createRemoteKeySource` reads: on any other
 * answer they are the JWKS server's to choose (`x-herald-jwks-cached-at: 1` made a fresh set a
 * day old, and every token of its issuer got 503), and are ignored. Returns `response`.
 *
 * @example
 * return sharedCacheAnswer(new Response(body, { headers: { [JWKS_CACHED_AT]: String(at) } }));
 */
export function sharedCacheAnswer(response: Response): Response {
  sharedCacheAnswers.add(response);
  return response;
}

/** Whether `sharedCacheAnswer` marked `response` (a shared cache built it, not the network). */
export function isSharedCacheAnswer(response: Response): boolean {
  return sharedCacheAnswers.has(response);
}

/**
 * A header a `fetch` given to `createRemoteKeySource` may put on an answer it served from a
 * shared cache instead of the issuer (`cache-api-jwks-fetch.ts`, marked `sharedCacheAnswer`:
 * read from no other answer), holding when the set was fetched (ms since the epoch). Such an
 * answer keeps its age (it is refetched at max age from then) and starts no cooldown: the issuer
 * was not asked, so a token with a kid the set lacks (a key rotated in since) still fetches at
 * once.
 */
export const JWKS_CACHED_AT = "x-herald-jwks-cached-at";

/**
 * A header a `fetch` given to `createRemoteKeySource` puts on an answer that is a shared cache's
 * old set because the issuer failed (`cache-api-jwks-fetch.ts`), holding why (URI-encoded), with
 * `JWKS_CACHED_AT` saying when that set was fetched. The key source counts it as a failed fetch
 * (logged with that cause; the cooldown holds) and uses the set only if it is newer than its own,
 * at its real age: it is not made fresh by passing through the cache, so it is refetched after
 * the cooldown and stops serving when it is too old (`keepStaleMs`).
 */
export const JWKS_STALE = "x-herald-jwks-stale";
