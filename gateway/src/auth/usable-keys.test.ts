import { exportJWK } from "jose";
import { describe, expect, it } from "vitest";
import { jwksOf, makeKey } from "../../test/support/test-issuer.js";
import { unusableKeySetProblem } from "./usable-keys.js";

describe("unusableKeySetProblem", () => {
  it("is quiet when one key of the set fits one of the algorithms", async () => {
    const es = await makeKey("ES256", "es");
    const ed = await makeKey("EdDSA", "ed");
    const rs = await makeKey("RS256", "rs");
    expect(await unusableKeySetProblem(jwksOf(es), ["ES256"])).toBeUndefined();
    expect(await unusableKeySetProblem(jwksOf(ed, rs), ["RS256"])).toBeUndefined();
    // A broken key beside a good one is the issuer's business: the good one serves.
    const broken = { ...es.publicJwk, kid: "broken", x: "AAAA" };
    expect(await unusableKeySetProblem({ keys: [broken, ed.publicJwk] }, ["EdDSA"])).toBe(
      undefined,
    );
    // An RSA key without alg serves PS256 too.
    const { alg: _alg, ...rsaAnyAlg } = rs.publicJwk;
    expect(await unusableKeySetProblem({ keys: [rsaAnyAlg] }, ["PS256"])).toBeUndefined();
  });

  it("names a set none of whose keys can verify a token under the algorithms", async () => {
    const es = await makeKey("ES256", "es");
    const ed = await makeKey("EdDSA", "ed");
    const problem = /^no key in it can verify a token under ES256, RS256: /;
    // Only keys of other types or curves.
    expect(await unusableKeySetProblem(jwksOf(ed), ["ES256", "RS256"])).toMatch(problem);
    // A coordinate pasted wrong: the key does not import.
    const broken = { kty: "EC", crv: "P-256", x: "bad", y: "bad" };
    expect(await unusableKeySetProblem({ keys: [broken] }, ["ES256", "RS256"])).toMatch(problem);
    // Its alg, use or key_ops rule the only key out.
    const encryption = { ...es.publicJwk, use: "enc" };
    expect(await unusableKeySetProblem({ keys: [encryption] }, ["ES256", "RS256"])).toMatch(
      problem,
    );
    // An RSA key under 2048 bits: jose refuses it at every verification.
    const { publicKey } = (await crypto.subtle.generateKey(
      {
        name: "RSASSA-PKCS1-v1_5",
        modulusLength: 1024,
        publicExponent: new Uint8Array([1, 0, 1]),
        hash: "SHA-256",
      },
      true,
      ["sign", "verify"],
    )) as CryptoKeyPair;
    const short = await exportJWK(publicKey);
    expect(await unusableKeySetProblem({ keys: [short] }, ["ES256", "RS256"])).toMatch(problem);
  });
});
