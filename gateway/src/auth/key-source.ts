/** What a key source is asked for: the `alg` and `kid` of a token's protected header. */
export interface KeyQuery {
  readonly alg: string;
  readonly kid?: string | undefined;
}

/** The keys that fit a `KeyQuery` and the key-set generation they were found in. */
export interface KeyMatch {
  /** Usually one; several when the header names no `kid` and several keys fit (try each). */
  readonly keys: readonly CryptoKey[];
  readonly generation: number;
}

/**
 * Where an issuer's verification keys come from: an inline JWKS, a JWKS file (Node adapter), a
 * JWKS URL, or one shared HMAC secret. Every implementation passes `key-source.case.ts`.
 *
 * Key rotation and the verified-token cache meet in `generation`: it grows whenever a key that was
 * present may be gone (a refresh dropped or replaced one; keys only added keep it). A cached
 * verification is served only while its issuer's generation still equals the one its key was
 * found in, so a token whose key was withdrawn is verified afresh (and refused) instead of served.
 *
 * @example
 * const source = createInlineKeySource({ keys: [publicJwk] });
 * const { keys, generation } = await source.keysFor({ alg: "ES256", kid: "k1" });
 */
export interface KeySource {
  /** `jwks`: public keys, asymmetric algorithms only; `secret`: a shared HMAC secret, HS* only. */
  readonly kind: "jwks" | "secret";
  /**
   * The keys that may verify a token with this header. Rejects with `Unauthorized` when none fits
   * and with `KeysUnavailable` when no key set can be had at all.
   */
  keysFor(query: KeyQuery): Promise<KeyMatch>;
  /**
   * The current generation. A remote source whose set is older than its max age refetches it
   * first (at most once per cooldown; a failed refetch keeps the old set and generation).
   */
  generation(): Promise<number>;
  /**
   * Loads the keys ahead of the first token, where that costs a fetch (a JWKS URL); a failure
   * is logged, never thrown. Absent where the keys are at hand.
   */
  warmUp?(): Promise<unknown>;
}
