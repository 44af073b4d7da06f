import type { JSONWebKeySet } from "jose";
import { createKeyMatcher } from "./jwk-set.js";

/** jose refuses RSA keys shorter than this when it verifies (RFC 7518 3.3, 3.5). */
const MIN_RSA_BITS = 2048;

/**
 * What makes a fixed JWKS (inline in the config or a file, read once) useless, or `undefined`
 * when at least one of its keys can verify a token under one of the issuer's `algorithms`: the
 * key is found the way a token's header finds it (`alg`, `use`, `key_ops`, curve), it imports,
 * and an RSA key has at least 2048 bits. A set none of whose keys qualifies (a key pasted with a
 * wrong coordinate, a short RSA key, only Ed25519 keys under `algorithms: [ES256]`) would start
 * a gateway that refuses every token of the issuer with 401; like an empty set, it is a
 * configuration mistake, said once at start rather than on every request. `jwks` must already be
 * a JWKS of public keys (`publicKeySetProblem`).
 *
 * @example
 * const problem = await unusableKeySetProblem(jwks, ["ES256"]);
 * if (problem !== undefined) throw new ServeError(`auth issuer ${issuer}: jwks: ${problem}`);
 */
export async function unusableKeySetProblem(
  jwks: JSONWebKeySet,
  algorithms: readonly string[],
): Promise<string | undefined> {
  const asymmetric = algorithms.filter((alg) => !alg.startsWith("HS"));
  for (const key of jwks.keys) {
    const match = createKeyMatcher({ keys: [key] });
    for (const alg of asymmetric) {
      const found = await match({ alg }).catch(() => []);
      if (found.some(strongEnough)) return undefined;
    }
  }
  return (
    `no key in it can verify a token under ${asymmetric.join(", ")}: each is malformed, ` +
    `an RSA key under ${MIN_RSA_BITS} bits, or of a type or curve those algorithms do not use ` +
    "(or its alg, use or key_ops rules them out)"
  );
}

function strongEnough(key: CryptoKey): boolean {
  const { modulusLength } = key.algorithm as { modulusLength?: number };
  return modulusLength === undefined || modulusLength >= MIN_RSA_BITS;
}
