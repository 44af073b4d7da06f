import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { exportJWK, generateKeyPair, type JWK } from "jose";

/** A token issuer for the auth tests: a fresh ES256 key, its JWKS in a file, the auth config. */
export interface TestIssuer {
  readonly issuer: string;
  readonly audience: string;
  readonly privateJwk: JWK;
  readonly privateKey: CryptoKey;
  /** The `auth.issuers[]` entry. */
  readonly config: Record<string, unknown>;
}

/** Writes the public JWKS to `dir/jwks.json` and returns the issuer. */
export async function createTestIssuer(dir: string, kid = "sdk-test-1"): Promise<TestIssuer> {
  const { privateKey, publicKey } = await generateKeyPair("ES256", { extractable: true });
  const publicJwk = { ...(await exportJWK(publicKey)), kid, alg: "ES256", use: "sig" };
  const privateJwk = { ...(await exportJWK(privateKey)), kid, alg: "ES256" };
  const jwks = join(dir, "jwks.json");
  await writeFile(jwks, JSON.stringify({ keys: [publicJwk] }));
  const issuer = "https://issuer.sdk.test";
  return {
    issuer,
    audience: "herald",
    privateJwk,
    privateKey,
    config: { issuer, audience: "herald", jwks, algorithms: ["ES256"] },
  };
}
