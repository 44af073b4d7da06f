import { SignJWT } from "jose";
import { describe, expect, it } from "vitest";
import { startJwksServer } from "../../test/support/jwks-server.js";
import { jwksOf, makeKey, signToken } from "../../test/support/test-issuer.js";
import { Unauthorized } from "./auth-errors.js";
import { createInlineKeySource } from "./inline-key-source.js";
import { describeKeySource } from "./key-source.case.js";
import { createRemoteKeySource } from "./remote-key-source.js";
import { createSecretKeySource } from "./secret-key-source.js";

const SECRET = "a-shared-secret-of-at-least-32-bytes!";

describeKeySource("inline JWKS", async () => {
  const key = await makeKey("ES256", "k1");
  return {
    source: createInlineKeySource(jwksOf(key)),
    alg: "ES256",
    kid: "k1",
    sign: (claims) => signToken(key, claims),
    otherFamilyAlg: "HS256",
  };
});

describeKeySource("JWKS URL", async () => {
  const key = await makeKey("EdDSA", "ed1");
  const server = await startJwksServer(jwksOf(key));
  return {
    source: createRemoteKeySource({ url: server.url }),
    alg: "EdDSA",
    kid: "ed1",
    sign: (claims) => signToken(key, claims),
    otherFamilyAlg: "HS256",
    close: () => server.close(),
  };
});

describeKeySource("shared secret", async () => ({
  source: createSecretKeySource(SECRET),
  alg: "HS256",
  kid: undefined,
  sign: (claims) =>
    new SignJWT(claims).setProtectedHeader({ alg: "HS256" }).sign(new TextEncoder().encode(SECRET)),
  otherFamilyAlg: "ES256",
}));

describe("createInlineKeySource", () => {
  it("refuses a set that is not a JWKS of public keys", async () => {
    const key = await makeKey("ES256", "k1");
    expect(() => createInlineKeySource({ keys: [{ ...key.publicJwk, d: "private" }] })).toThrow(
      /private or secret key material \("d"\)/,
    );
    expect(() => createInlineKeySource({ keys: [{ kty: "oct", k: "c2VjcmV0" }] })).toThrow(
      TypeError,
    );
    expect(() => createInlineKeySource({} as never)).toThrow(/"keys" array/);
    expect(() => createInlineKeySource({ keys: [{}] } as never)).toThrow(/no "kty"/);
  });

  it("refuses a kid it does not hold, and a key of the wrong type for the algorithm", async () => {
    const source = createInlineKeySource(jwksOf(await makeKey("ES256", "k1")));
    await expect(source.keysFor({ alg: "ES256", kid: "k2" })).rejects.toMatchObject({
      reason: "unknown_key",
    });
    // An EC key cannot serve RS256 even under its own kid.
    const wrongType = await source.keysFor({ alg: "RS256", kid: "k1" }).catch((err) => err);
    expect(wrongType).toBeInstanceOf(Unauthorized);
    expect(wrongType).toMatchObject({ reason: "unknown_key" });
  });

  it("offers every fitting key when the token names no kid", async () => {
    const a = await makeKey("ES256", "a");
    const b = await makeKey("ES256", "b");
    const source = createInlineKeySource({
      keys: [a.publicJwk, b.publicJwk].map(({ kid: _kid, ...jwk }) => jwk),
    });
    const { keys } = await source.keysFor({ alg: "ES256" });
    expect(keys).toHaveLength(2);
  });
});

describe("createSecretKeySource", () => {
  it("refuses a secret shorter than 32 bytes", () => {
    expect(() => createSecretKeySource("too short")).toThrow(TypeError);
    expect(() => createSecretKeySource(new Uint8Array(31))).toThrow(/at least 32 bytes/);
    expect(createSecretKeySource(new Uint8Array(32)).kind).toBe("secret");
  });
});
