import type { JSONWebKeySet } from "jose";
import { Unauthorized } from "./auth-errors.js";
import { createKeyMatcher, publicKeySetProblem } from "./jwk-set.js";
import type { KeySource } from "./key-source.js";

/**
 * A `KeySource` over a JWKS given in config (`jwks: { keys: [...] }`) or read from a file by the
 * Node adapter. The set never changes, so its generation is always 0. A value that is not a JWKS
 * of public keys is a configuration mistake: `TypeError` at construction.
 *
 * @example
 * const keys = createInlineKeySource({ keys: [{ kty: "EC", crv: "P-256", kid: "k1", x, y }] });
 */
export function createInlineKeySource(jwks: JSONWebKeySet): KeySource {
  const problem = publicKeySetProblem(jwks);
  if (problem !== undefined) throw new TypeError(`not a JWKS of public keys: ${problem}`);
  const match = createKeyMatcher(jwks);
  return {
    kind: "jwks",
    async keysFor(query) {
      const keys = await match(query);
      if (keys.length === 0) {
        throw new Unauthorized("unknown_key", "no key of the token's issuer fits the token's kid");
      }
      return { keys, generation: 0 };
    },
    generation: () => Promise.resolve(0),
  };
}
