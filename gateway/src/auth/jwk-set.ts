import { createLocalJWKSet, errors, type JSONWebKeySet, type JWSHeaderParameters } from "jose";
import { Unauthorized } from "./auth-errors.js";
import type { KeyQuery } from "./key-source.js";

// Members that carry private or symmetric key material (RFC 7518 section 6; "priv" for AKP).
const SECRET_MEMBERS = ["d", "p", "q", "dp", "dq", "qi", "oth", "k", "priv"];

/**
 * What is wrong with `value` as a JWKS of public verification keys, or `undefined` when nothing
 * is. A set holding private or symmetric key material is refused: a JWKS is published, and HMAC
 * keys in it would let anyone who can read it mint tokens.
 *
 * @example
 * const problem = publicKeySetProblem(JSON.parse(text));
 * if (problem !== undefined) throw new TypeError(`jwks.json: ${problem}`);
 */
export function publicKeySetProblem(value: unknown): string | undefined {
  if (typeof value !== "object" || value === null || !("keys" in value)) {
    return 'a JWKS is an object with a "keys" array';
  }
  const { keys } = value;
  if (!Array.isArray(keys)) return 'a JWKS is an object with a "keys" array';
  for (const [index, key] of keys.entries()) {
    if (typeof key !== "object" || key === null || Array.isArray(key)) {
      return `keys[${index}] is not a JSON object`;
    }
    if (typeof (key as { kty?: unknown }).kty !== "string") {
      return `keys[${index}] has no "kty"`;
    }
    const secret = SECRET_MEMBERS.find((member) => member in key);
    if (secret !== undefined) {
      return `keys[${index}] holds private or secret key material ("${secret}"); publish public keys only`;
    }
  }
  return undefined;
}

/** Finds the public keys of a JWKS that fit a token's header. */
export type KeyMatcher = (query: KeyQuery) => Promise<readonly CryptoKey[]>;

/**
 * A `KeyMatcher` over a JWKS already checked with `publicKeySetProblem`, using jose's JWKS
 * selection (`kid`, key type and curve from `alg`, `use`, `key_ops`). No fitting key gives an
 * empty list (a remote source may refetch); an HMAC `alg` is refused outright, since a JWKS
 * holds no HMAC key and a public key must never serve as one (algorithm confusion).
 *
 * @example
 * const match = createKeyMatcher(jwks);
 * const [key] = await match({ alg: "ES256", kid: "k1" });
 */
export function createKeyMatcher(jwks: JSONWebKeySet): KeyMatcher {
  const local = createLocalJWKSet(jwks);
  return async (query) => {
    const header: JWSHeaderParameters =
      query.kid === undefined ? { alg: query.alg } : { alg: query.alg, kid: query.kid };
    try {
      return [await local(header)];
    } catch (err) {
      if (err instanceof errors.JWKSNoMatchingKey) return [];
      if (err instanceof errors.JWKSMultipleMatchingKeys) {
        const keys: CryptoKey[] = [];
        for await (const key of err) keys.push(key);
        return keys;
      }
      if (err instanceof errors.JOSENotSupported) {
        throw new Unauthorized("algorithm_not_allowed", "the token's algorithm cannot use a JWKS");
      }
      // The fitting JWK cannot be imported: the issuer's problem, but this token cannot pass.
      throw new Unauthorized("unknown_key", "no usable key of this issuer fits the token");
    }
  };
}
