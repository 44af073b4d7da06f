import { Unauthorized } from "./auth-errors.js";
import type { KeySource } from "./key-source.js";

const HASH_OF: Readonly<Record<string, string>> = {
  HS256: "SHA-256",
  HS384: "SHA-384",
  HS512: "SHA-512",
};

/** Shortest secret accepted: RFC 7518 section 3.2 wants a key at least as long as the HS256 hash. */
export const MIN_SECRET_BYTES = 32;

/**
 * A `KeySource` over one shared HMAC secret, for an issuer that signs HS256/384/512 tokens and is
 * configured with an explicit `secret`. It serves HMAC algorithms only: a token claiming any
 * other algorithm finds no key here. A secret shorter than `MIN_SECRET_BYTES` is a `TypeError`.
 *
 * @example
 * const keys = createSecretKeySource(process.env.HERALD_ISSUER_SECRET ?? "");
 */
export function createSecretKeySource(secret: string | Uint8Array): KeySource {
  const bytes = typeof secret === "string" ? new TextEncoder().encode(secret) : secret.slice();
  if (bytes.byteLength < MIN_SECRET_BYTES) {
    throw new TypeError(`an HMAC secret needs at least ${MIN_SECRET_BYTES} bytes`);
  }
  // One imported CryptoKey per hash, so a verification does not import the secret again.
  const imported = new Map<string, Promise<CryptoKey>>();
  return {
    kind: "secret",
    async keysFor({ alg }) {
      const hash = HASH_OF[alg];
      if (hash === undefined) {
        throw new Unauthorized(
          "algorithm_not_allowed",
          "the token's algorithm cannot use a secret",
        );
      }
      let key = imported.get(hash);
      if (key === undefined) {
        key = crypto.subtle.importKey("raw", bytes, { name: "HMAC", hash }, false, ["verify"]);
        imported.set(hash, key);
      }
      return { keys: [await key], generation: 0 };
    },
    generation: () => Promise.resolve(0),
  };
}
