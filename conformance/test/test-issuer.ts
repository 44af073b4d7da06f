import { exportJWK, generateKeyPair, type JWK, SignJWT } from "jose";

/** A token issuer for the auth runs: a fresh ES256 key, its public JWKS, and a token minter. */
export interface TestIssuer {
  readonly issuer: string;
  readonly audience: string;
  /** The public half, to write inline into the gateway's config. */
  readonly jwks: { readonly keys: readonly JWK[] };
  /** A token for `sub`, valid for an hour. */
  mint(sub: string): Promise<string>;
}

/**
 * A fresh issuer. Two issuers made with the same `iss` and `kid` sign tokens that look alike,
 * but only the configured one's verify: the other is a foreign key.
 *
 * @example
 * const issuer = await createTestIssuer();
 * const token = await issuer.mint("conformance");
 */
export async function createTestIssuer(
  issuer = "https://issuer.conformance.test",
  audience = "herald",
  kid = "conformance-1",
): Promise<TestIssuer> {
  const { privateKey, publicKey } = await generateKeyPair("ES256", { extractable: true });
  const publicJwk: JWK = { ...(await exportJWK(publicKey)), kid, alg: "ES256", use: "sig" };
  return {
    issuer,
    audience,
    jwks: { keys: [publicJwk] },
    mint: (sub) =>
      new SignJWT({})
        .setProtectedHeader({ alg: "ES256", kid, typ: "JWT" })
        .setIssuer(issuer)
        .setAudience(audience)
        .setSubject(sub)
        .setIssuedAt()
        .setExpirationTime("1h")
        .sign(privateKey),
  };
}
