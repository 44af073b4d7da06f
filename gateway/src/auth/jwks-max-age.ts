import { parseHttpDate } from "../deliver/retry-after.js";

/** How long a fetched JWKS is used before it is fetched again, and the bounds of that time. */
export interface JwksMaxAgePolicy {
  /** For an answer that says nothing (no `max-age`, `no-cache`, `no-store` or `Expires`). */
  readonly defaultMs: number;
  /**
   * The least: `max-age=0`, `no-cache`, `no-store` and an `Expires` in the past get this, so an
   * identity provider that forbids caching does not cost it a fetch per token.
   */
  readonly minMs: number;
  /**
   * The most: a longer `max-age` is cut to this, so a key the issuer withdraws stops verifying
   * tokens within it (a key rotated in is fetched at once anyway: its `kid` is unknown).
   */
  readonly maxMs: number;
}

/** 10 minutes without caching headers (jose's `cacheMaxAge`), never under 1 minute or over 1 hour. */
export const JWKS_MAX_AGE: JwksMaxAgePolicy = {
  defaultMs: 600_000,
  minMs: 60_000,
  maxMs: 3_600_000,
};

/** RFC 9111 section 1.2.2: a delta-seconds past 2^31 is taken as 2^31. */
const MAX_DELTA_SECONDS = 2 ** 31;
const DELTA_SECONDS = /^\d+$/;

/**
 * `policy` with its gaps filled from `JWKS_MAX_AGE`; a `TypeError` unless
 * `0 <= minMs <= defaultMs <= maxMs`.
 *
 * @example
 * const policy = jwksMaxAgePolicy({ defaultMs: 60_000 });
 */
export function jwksMaxAgePolicy(policy: Partial<JwksMaxAgePolicy> = {}): JwksMaxAgePolicy {
  const full = { ...JWKS_MAX_AGE, ...policy };
  const { defaultMs, minMs, maxMs } = full;
  if (![defaultMs, minMs, maxMs].every((ms) => Number.isFinite(ms) && ms >= 0)) {
    throw new TypeError("maxAge: defaultMs, minMs and maxMs must be numbers >= 0");
  }
  if (!(minMs <= defaultMs && defaultMs <= maxMs)) {
    throw new TypeError("maxAge: needs minMs <= defaultMs <= maxMs");
  }
  return full;
}

/** What `directives` reads at a position: a directive's name, and a token argument. */
const NAME = /[^=,]*/y;
const TOKEN_ARGUMENT = /[^,]*/y;

/**
 * The directives of a `Cache-Control` value: lower-cased names, each with its arguments. A
 * directive is `name` or `name=token` or `name="quoted, string"`; what follows a directive up to
 * the next comma is skipped, so one malformed directive hides no other. One pass over the value,
 * whatever the JWKS server sends: each repeat of a directive added to its list (copying the list
 * made 8,000 repeats of `a,` take 0.3 s, and 32,000 take 80 s).
 */
function directives(value: string): Map<string, (string | undefined)[]> {
  const found = new Map<string, (string | undefined)[]>();
  let at = 0;
  while (at < value.length) {
    NAME.lastIndex = at;
    const name = NAME.exec(value)?.[0] ?? "";
    at += name.length;
    let argument: string | undefined;
    if (value[at] === "=") {
      at += 1;
      while (value[at] === " " || value[at] === "\t") at += 1;
      if (value[at] === '"') {
        let text = "";
        for (at += 1; at < value.length && value[at] !== '"'; at += 1) {
          if (value[at] === "\\") at += 1;
          text += value[at] ?? "";
        }
        argument = text;
        at += 1;
      } else {
        TOKEN_ARGUMENT.lastIndex = at;
        argument = TOKEN_ARGUMENT.exec(value)?.[0] ?? "";
        at += argument.length;
        argument = argument.trim();
      }
    }
    const end = value.indexOf(",", at);
    at = end === -1 ? value.length : end + 1;
    const key = name.trim().toLowerCase();
    if (key === "") continue;
    const list = found.get(key);
    if (list === undefined) found.set(key, [argument]);
    else list.push(argument);
  }
  return found;
}

/** Whole seconds as ms, or `undefined` for anything that is not a delta-seconds. */
function deltaSeconds(value: string | undefined): number | undefined {
  if (value === undefined || !DELTA_SECONDS.test(value)) return undefined;
  return Math.min(Number(value), MAX_DELTA_SECONDS) * 1000;
}

/**
 * How long (ms) the JWKS in an answer received at `receivedAt` may be used, from its caching
 * headers as a private cache reads them (RFC 9111 section 4.2), kept within `policy`'s bounds:
 * - `no-store` or `no-cache` (with or without a field list): `minMs`;
 * - else `max-age` (`s-maxage` is for shared caches): its value less the answer's `Age`; a
 *   `max-age` that is no number, or given twice with different values, counts as stale
 *   (section 4.2.1): `minMs`;
 * - else `Expires` less `Date` (or `receivedAt` without one) and `Age`; an `Expires` that is no
 *   HTTP-date means already expired (section 5.3): `minMs`;
 * - else `defaultMs`.
 *
 * @example
 * jwksMaxAgeMs(new Headers({ "cache-control": "public, max-age=300" }), Date.now()); // 300_000
 * jwksMaxAgeMs(new Headers({ "cache-control": "no-store" }), Date.now()); // 60_000 (the floor)
 */
export function jwksMaxAgeMs(
  headers: Headers,
  receivedAt: number,
  policy: JwksMaxAgePolicy = JWKS_MAX_AGE,
): number {
  const { defaultMs, minMs, maxMs } = policy;
  const cacheControl = directives(headers.get("cache-control") ?? "");
  if (cacheControl.has("no-store") || cacheControl.has("no-cache")) return minMs;
  let freshMs: number;
  const maxAge = cacheControl.get("max-age");
  const expires = headers.get("expires");
  if (maxAge !== undefined) {
    const values = new Set(maxAge);
    const [only] = values;
    const ms = values.size === 1 ? deltaSeconds(only) : undefined;
    if (ms === undefined) return minMs;
    freshMs = ms;
  } else if (expires !== null) {
    const expiresAt = parseHttpDate(expires.trim(), receivedAt);
    if (expiresAt === undefined) return minMs;
    const date = parseHttpDate(headers.get("date")?.trim() ?? "", receivedAt) ?? receivedAt;
    freshMs = expiresAt - date;
  } else {
    return defaultMs;
  }
  // An answer a cache on the way kept for a while has that much less of its lifetime left.
  freshMs -= deltaSeconds(headers.get("age")?.trim()) ?? 0;
  return Math.min(maxMs, Math.max(minMs, freshMs));
}
