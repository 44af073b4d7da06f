// The publishers of the ingest-auth scenario: one ES256 key pair for the issuer "bench-issuer", a
// public JWK (with kid) for Herald's config, and one signed token per publisher (sub publisher-<i>).
// The tokens go to wrk through a file, one per line (scripts/binary-event.lua reads it in init).
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { createLocalJWKSet, exportJWK, generateKeyPair, jwtVerify, SignJWT } from "jose";

export const ISSUER = "bench-issuer";
export const AUDIENCE = "herald";
export const ALGORITHM = "ES256";
export const KID = "bench-key-1";
/** Types the publisher rule allows: every type the bench sends (com.example.bench.<i>). */
export const ALLOWED_TYPES = "com.example.bench.*";

/**
 * @typedef {object} Publishers
 * @property {Record<string, unknown>} publicJwk  kty, crv, x, y, kid, alg, use: no private member
 * @property {string[]} tokens                   tokens[i] has sub publisher-<i>
 * @property {number} expiresAt                  exp of every token, seconds since the epoch
 */

/**
 * A fresh key pair and `count` tokens, valid for `ttlS` seconds.
 * @param {number} count
 * @param {number} ttlS
 * @returns {Promise<Publishers>}
 */
export async function mintPublishers(count, ttlS) {
  const { privateKey, publicKey } = await generateKeyPair(ALGORITHM);
  const publicJwk = { ...(await exportJWK(publicKey)), kid: KID, alg: ALGORITHM, use: "sig" };
  const now = Math.floor(Date.now() / 1000);
  const expiresAt = now + ttlS;
  const tokens = [];
  for (let i = 0; i < count; i++) {
    tokens.push(
      await new SignJWT({})
        .setProtectedHeader({ alg: ALGORITHM, kid: KID, typ: "JWT" })
        .setIssuer(ISSUER)
        .setAudience(AUDIENCE)
        .setSubject(`publisher-${i}`)
        .setIssuedAt(now)
        .setExpirationTime(expiresAt)
        .sign(privateKey),
    );
  }
  return { publicJwk, tokens, expiresAt };
}

/**
 * Checks every token against the public JWK exactly as the config tells Herald to (issuer,
 * audience, algorithm), so a harness bug shows up here rather than as 401s in the measured runs.
 * Throws naming the first publisher whose token does not verify.
 * @param {Publishers} p
 */
export async function verifyPublishers(p) {
  const keys = createLocalJWKSet({ keys: [/** @type {any} */ (p.publicJwk)] });
  for (const [i, token] of p.tokens.entries()) {
    try {
      const { payload } = await jwtVerify(token, keys, {
        issuer: ISSUER,
        audience: AUDIENCE,
        algorithms: [ALGORITHM],
      });
      if (payload.sub !== `publisher-${i}`) throw new Error(`sub is ${payload.sub}`);
    } catch (err) {
      throw new Error(
        `the harness minted a bad token for publisher-${i}: ${/** @type {Error} */ (err).message}`,
      );
    }
  }
}

/**
 * Herald's `auth` section (DESIGN.md "Config"; gateway/src/config/parse-auth.ts): the bench issuer
 * with its public key inline, and one publisher rule that every token matches (aud herald) allowing
 * any source and the bench's types. No rate limit: the bench measures verification and policy, not
 * throttling.
 * @param {Publishers} p
 */
export function authConfig(p) {
  return {
    issuers: [
      {
        issuer: ISSUER,
        audience: AUDIENCE,
        jwks: { keys: [p.publicJwk] },
        algorithms: [ALGORITHM],
      },
    ],
    publishers: [{ claims: { aud: AUDIENCE }, sources: ["*"], types: [ALLOWED_TYPES] }],
  };
}

/**
 * Writes the tokens one per line (what the wrk script reads) into `dir`; returns the path.
 * @param {Publishers} p
 * @param {string} dir
 */
export function writeTokenFile(p, dir) {
  const path = join(dir, "tokens.txt");
  writeFileSync(path, `${p.tokens.join("\n")}\n`, { mode: 0o600 });
  return path;
}
