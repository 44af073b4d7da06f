import { createHash } from "node:crypto";
import { expect, it } from "vitest";
import {
  AUDIENCE,
  claimsAt,
  ISSUER,
  jwksOf,
  makeKey,
  manualClock,
  signToken,
} from "../../test/support/test-issuer.js";
import { createInlineKeySource } from "./inline-key-source.js";
import { createVerifiedTokenCache, tokenCacheKey } from "./verified-token-cache.js";
import { createTokenVerifier, type TokenVerifier } from "./verify-token.js";

/** Mean microseconds per call of `verify` over `rounds` passes through `tokens`. */
async function microsPerVerify(verifier: TokenVerifier, tokens: string[], rounds: number) {
  for (const token of tokens) await verifier.verify(token); // warm up (and fill the cache)
  const start = performance.now();
  for (let round = 0; round < rounds; round++) {
    for (const token of tokens) await verifier.verify(token);
  }
  return ((performance.now() - start) * 1000) / (rounds * tokens.length);
}

const nodeDigest = (token: string) => createHash("sha256").update(token).digest("base64");

const perSecond = (micros: number) => `${Math.round(1e6 / micros)}/s`;

// Not asserted: prints what a verification costs with and without the verified-token cache, the
// cache keyed by WebCrypto's SHA-256 (the default) and by node:crypto's (what Node should pass).
it("reports the cost of cached and uncached verification", async () => {
  const lines: string[] = [];
  for (const alg of ["ES256", "EdDSA", "RS256"] as const) {
    const key = await makeKey(alg, "k1");
    const issuers = [
      { issuer: ISSUER, audience: AUDIENCE, keys: createInlineKeySource(jwksOf(key)) },
    ];
    // 50 publishers, each reusing its token, round-robin (the ingest-auth bench shape).
    const tokens = await Promise.all(
      Array.from({ length: 50 }, (_, i) => signToken(key, claimsAt(undefined, { sub: `p${i}` }))),
    );
    const clock = manualClock();
    const uncached = createTokenVerifier({ issuers, cache: false, clock });
    const subtle = createTokenVerifier({ issuers, clock });
    const node = createTokenVerifier({
      issuers,
      clock,
      cache: createVerifiedTokenCache({ clock, digest: nodeDigest }),
    });
    const slow = await microsPerVerify(uncached, tokens, 10);
    const viaSubtle = await microsPerVerify(subtle, tokens, 40);
    const viaNode = await microsPerVerify(node, tokens, 400);
    lines.push(
      `${alg}: uncached ${slow.toFixed(1)} us (${perSecond(slow)}); cached, subtle digest ` +
        `${viaSubtle.toFixed(1)} us (${perSecond(viaSubtle)}); cached, node:crypto digest ` +
        `${viaNode.toFixed(2)} us (${perSecond(viaNode)})`,
    );
  }
  const token = await signToken(await makeKey("ES256", "k1"));
  let start = performance.now();
  for (let i = 0; i < 5_000; i++) await tokenCacheKey(token);
  const subtleHash = ((performance.now() - start) * 1000) / 5_000;
  start = performance.now();
  for (let i = 0; i < 50_000; i++) nodeDigest(token);
  const nodeHash = ((performance.now() - start) * 1000) / 50_000;
  lines.push(
    `SHA-256 of a ${token.length}-byte token: crypto.subtle.digest ${subtleHash.toFixed(1)} us, ` +
      `node:crypto createHash ${nodeHash.toFixed(2)} us`,
  );
  console.log(`verified-token cache, sequential awaits, one core:\n  ${lines.join("\n  ")}`);
  expect(lines).toHaveLength(4);
});
