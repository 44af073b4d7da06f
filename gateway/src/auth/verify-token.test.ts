import { generateKeyPairSync } from "node:crypto";
import { exportJWK, exportSPKI, generateKeyPair, jwtVerify, SignJWT } from "jose";
import { beforeAll, describe, expect, it } from "vitest";
import {
  AUDIENCE,
  claimsAt,
  ISSUER,
  jwksOf,
  makeKey,
  manualClock,
  signHmac,
  signToken,
  T0,
  T0_SEC,
  type TestKey,
  unsignedToken,
} from "../../test/support/test-issuer.js";
import { problemParts } from "../http/problem.js";
import { type InvalidTokenReason, Unauthorized } from "./auth-errors.js";
import { createInlineKeySource } from "./inline-key-source.js";
import type { KeySource } from "./key-source.js";
import { createSecretKeySource } from "./secret-key-source.js";
import { createTokenVerifier, type IssuerOptions, type TokenVerifier } from "./verify-token.js";

let es: TestKey;
let ed: TestKey;
let rs: TestKey;
let foreign: TestKey;
let keys: KeySource;
let verifier: TokenVerifier;

beforeAll(async () => {
  [es, ed, rs, foreign] = await Promise.all([
    makeKey("ES256", "es-1"),
    makeKey("EdDSA", "ed-1"),
    makeKey("RS256", "rs-1"),
    makeKey("ES256", "es-1"), // same kid as the real one, another key
  ]);
  keys = createInlineKeySource(jwksOf(es, ed, rs));
  verifier = createTokenVerifier({
    issuers: [{ issuer: ISSUER, audience: AUDIENCE, keys }],
    cache: false,
    clock: manualClock(),
  });
});

/** `verify` must refuse `token` with `reason` and `detail`, the token nowhere in the answer. */
async function expectRefused(
  token: string,
  reason: InvalidTokenReason,
  detail: string | RegExp,
  using: TokenVerifier = verifier,
) {
  const err = await using.verify(token).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(Unauthorized);
  const refused = err as Unauthorized;
  expect(refused.reason).toBe(reason);
  expect(refused.message).toMatch(detail);
  const { status, headers, body } = problemParts(refused);
  expect(status).toBe(401);
  expect(headers["www-authenticate"]).toBe(
    `Bearer error="invalid_token", error_description="${refused.message}"`,
  );
  const answer = JSON.stringify(headers) + body + refused.message + String(refused.stack);
  for (const part of [token, ...token.split(".")].filter((p) => p.length > 8)) {
    expect(answer).not.toContain(part);
  }
}

describe("createTokenVerifier: good tokens", () => {
  it.each(["ES256", "EdDSA", "RS256"] as const)("accepts %s by default", async (alg) => {
    const key = { ES256: es, EdDSA: ed, RS256: rs }[alg];
    const token = await signToken(key, claimsAt(T0_SEC, { scope: "publish" }));
    const verified = await verifier.verify(token);
    expect(verified).toEqual({
      issuer: ISSUER,
      subject: "orders-service",
      claims: claimsAt(T0_SEC, { scope: "publish" }),
      expiresAt: T0 + 3_600_000,
    });
    expect(Object.isFrozen(verified.claims)).toBe(true);
  });

  it("takes Ed25519 (RFC 9864's name for EdDSA over Ed25519) where EdDSA is allowed, and only there", async () => {
    const { privateKey, publicKey } = await generateKeyPair("Ed25519", { extractable: true });
    const jwk = { ...(await exportJWK(publicKey)), kid: "ed-new" };
    const sign = () =>
      new SignJWT(claimsAt(T0_SEC))
        .setProtectedHeader({ alg: "Ed25519", kid: "ed-new" })
        .sign(privateKey);
    const over = (algorithms?: string[]) =>
      createTokenVerifier({
        issuers: [
          {
            issuer: ISSUER,
            audience: AUDIENCE,
            keys: createInlineKeySource({ keys: [jwk] }),
            ...(algorithms === undefined ? {} : { algorithms }),
          },
        ],
        cache: false,
        clock: manualClock(),
      });
    for (const algorithms of [undefined, ["EdDSA"], ["Ed25519"]]) {
      await expect(over(algorithms).verify(await sign())).resolves.toMatchObject({
        subject: "orders-service",
      });
    }
    await expectRefused(
      await sign(),
      "algorithm_not_allowed",
      "algorithm Ed25519 is not allowed for this issuer",
      over(["ES256"]),
    );
  });

  it("accepts an audience list that contains ours, and one of several configured audiences", async () => {
    await expect(
      verifier.verify(await signToken(es, claimsAt(T0_SEC, { aud: ["other", AUDIENCE] }))),
    ).resolves.toMatchObject({ subject: "orders-service" });
    const multi = createTokenVerifier({
      issuers: [{ issuer: ISSUER, audience: ["a", "b"], keys }],
      clock: manualClock(),
    });
    await expect(
      multi.verify(await signToken(es, claimsAt(T0_SEC, { aud: "b" }))),
    ).resolves.toBeDefined();
  });

  it("picks the issuer by iss, each with its own keys", async () => {
    const other = await makeKey("ES256", "other-1");
    const two = createTokenVerifier({
      issuers: [
        { issuer: ISSUER, audience: AUDIENCE, keys },
        {
          issuer: "https://other.test",
          audience: AUDIENCE,
          keys: createInlineKeySource(jwksOf(other)),
        },
      ],
      clock: manualClock(),
    });
    const token = await signToken(other, claimsAt(T0_SEC, { iss: "https://other.test" }));
    await expect(two.verify(token)).resolves.toMatchObject({ issuer: "https://other.test" });
    // Each issuer's keys are its own: the other issuer's key cannot sign for ISSUER.
    await expectRefused(await signToken(other), "unknown_key", /no key/, two);
  });

  it("accepts HS256 only from an issuer with an explicit secret", async () => {
    const secret = "a-shared-secret-of-at-least-32-bytes!";
    const hmac = createTokenVerifier({
      issuers: [{ issuer: ISSUER, audience: AUDIENCE, keys: createSecretKeySource(secret) }],
      clock: manualClock(),
    });
    const bytes = new TextEncoder().encode(secret);
    await expect(hmac.verify(await signHmac(bytes))).resolves.toMatchObject({
      subject: "orders-service",
    });
    await expectRefused(
      await signHmac(new TextEncoder().encode("another-secret-of-at-least-32-bytes!!")),
      "bad_signature",
      "the token's signature does not verify",
      hmac,
    );
    await expectRefused(
      await signToken(es),
      "algorithm_not_allowed",
      "algorithm ES256 is not allowed for this issuer",
      hmac,
    );
  });

  it("tries each fitting key when the token names no kid", async () => {
    const a = await makeKey("ES256", "a");
    const b = await makeKey("ES256", "b");
    const noKids = createInlineKeySource({
      keys: [a.publicJwk, b.publicJwk].map(({ kid: _kid, ...jwk }) => jwk),
    });
    const v = createTokenVerifier({
      issuers: [{ issuer: ISSUER, audience: AUDIENCE, keys: noKids }],
      clock: manualClock(),
    });
    await expect(v.verify(await signToken(b, claimsAt(), { kid: null }))).resolves.toBeDefined();
    await expectRefused(
      await signToken(foreign, claimsAt(), { kid: null }),
      "bad_signature",
      /signature/,
      v,
    );
    // The second key's signature checks, and its claims are what refuse the token, not the
    // first key's signature failure.
    const expired = claimsAt(T0_SEC - 3_600, { exp: T0_SEC - 600 });
    await expectRefused(
      await signToken(b, expired, { kid: null }),
      "expired",
      "the token has expired",
      v,
    );
  });

  it("moves past a fitting key jose will not use (RSA under 2048 bits) when the token names no kid", async () => {
    const { publicKey } = generateKeyPairSync("rsa", { modulusLength: 1024 });
    const { kid: _kid, ...good } = rs.publicJwk;
    const weak = { ...publicKey.export({ format: "jwk" }), alg: "RS256", use: "sig" };
    const v = createTokenVerifier({
      issuers: [
        { issuer: ISSUER, audience: AUDIENCE, keys: createInlineKeySource({ keys: [weak, good] }) },
      ],
      cache: false,
      clock: manualClock(),
    });
    await expect(v.verify(await signToken(rs, claimsAt(), { kid: null }))).resolves.toBeDefined();
    // A wrong signature is still reported as such, whichever key was tried last.
    const other = await makeKey("RS256", "rs-other");
    await expectRefused(
      await signToken(other, claimsAt(), { kid: null }),
      "bad_signature",
      /signature/,
      createTokenVerifier({
        issuers: [
          {
            issuer: ISSUER,
            audience: AUDIENCE,
            keys: createInlineKeySource({ keys: [good, weak] }),
          },
        ],
        cache: false,
        clock: manualClock(),
      }),
    );
  });

  it("allows the clock tolerance on exp, nbf and iat", async () => {
    const at = (offsetSec: number) =>
      createTokenVerifier({
        issuers: [{ issuer: ISSUER, audience: AUDIENCE, keys, clockToleranceSec: 30 }],
        cache: false,
        clock: manualClock(T0 + offsetSec * 1000),
      });
    const expiring = await signToken(es, claimsAt(T0_SEC, { exp: T0_SEC + 10 }));
    await expect(at(39).verify(expiring)).resolves.toBeDefined();
    await expectRefused(expiring, "expired", "the token has expired", at(40));
    const early = await signToken(es, claimsAt(T0_SEC, { nbf: T0_SEC + 30, iat: T0_SEC + 30 }));
    await expect(at(0).verify(early)).resolves.toBeDefined();
    await expectRefused(early, "not_yet_valid", "the token is not valid yet", at(-1));
  });
});

describe("createTokenVerifier: the hostile-token matrix", () => {
  it("refuses alg none, in any spelling", async () => {
    for (const alg of ["none", "None", "NONE"]) {
      await expectRefused(
        unsignedToken(claimsAt(), alg),
        "algorithm_not_allowed",
        "algorithm none is never accepted",
      );
    }
  });

  it("refuses HS256 signed with the issuer's public key (algorithm confusion)", async () => {
    const asJwk = new TextEncoder().encode(JSON.stringify(es.publicJwk));
    const asPem = new TextEncoder().encode(await exportSPKI(es.publicKey));
    for (const secret of [asJwk, asPem]) {
      await expectRefused(
        await signHmac(secret, claimsAt(), { kid: es.kid }),
        "algorithm_not_allowed",
        "algorithm HS256 is not allowed for this issuer",
      );
    }
  });

  it("cannot be talked into HMAC with a public key even past the allow-list", async () => {
    const token = await signHmac(new TextEncoder().encode(JSON.stringify(es.publicJwk)));
    // The key source has no HMAC key to give ...
    await expect(keys.keysFor({ alg: "HS256", kid: es.kid })).rejects.toMatchObject({
      reason: "algorithm_not_allowed",
    });
    // ... and jose refuses a public CryptoKey as an HMAC key.
    await expect(
      jwtVerify(token, es.publicKey, { algorithms: ["HS256"], currentDate: new Date(T0) }),
    ).rejects.toThrow(TypeError);
    // ... and an issuer cannot be configured to allow HS256 with a JWKS.
    expect(() =>
      createTokenVerifier({
        issuers: [{ issuer: ISSUER, audience: AUDIENCE, keys, algorithms: ["HS256"] }],
      }),
    ).toThrow(/needs an explicitly configured secret/);
  });

  it("refuses a token signed with a foreign key under a known kid", async () => {
    await expectRefused(
      await signToken(foreign),
      "bad_signature",
      "the token's signature does not verify",
    );
  });

  it("refuses an unknown kid", async () => {
    await expectRefused(
      await signToken(foreign, claimsAt(), { kid: "who-knows" }),
      "unknown_key",
      "no key of the token's issuer fits the token's kid",
    );
  });

  it("refuses an expired token", async () => {
    await expectRefused(
      await signToken(es, claimsAt(T0_SEC - 7200)),
      "expired",
      "the token has expired",
    );
  });

  it("refuses a token that is not valid yet", async () => {
    await expectRefused(
      await signToken(es, claimsAt(T0_SEC, { nbf: T0_SEC + 300 })),
      "not_yet_valid",
      "the token is not valid yet",
    );
  });

  it("refuses a token issued in the future", async () => {
    await expectRefused(
      await signToken(es, claimsAt(T0_SEC + 300)),
      "issued_in_future",
      "the token was issued in the future",
    );
  });

  it("refuses a wrong issuer, and a token naming none", async () => {
    await expectRefused(
      await signToken(es, claimsAt(T0_SEC, { iss: "https://evil.test" })),
      "untrusted_issuer",
      "the token's issuer is not trusted here",
    );
    await expectRefused(
      await signToken(es, claimsAt(T0_SEC, { iss: undefined })),
      "untrusted_issuer",
      "the token names no issuer",
    );
  });

  it("refuses a wrong audience, and a token naming none", async () => {
    await expectRefused(
      await signToken(es, claimsAt(T0_SEC, { aud: "someone-else" })),
      "wrong_audience",
      "the token is not meant for this audience",
    );
    await expectRefused(
      await signToken(es, claimsAt(T0_SEC, { aud: undefined })),
      "missing_claim",
      "the token has no aud claim",
    );
  });

  it("refuses a tampered payload", async () => {
    const [header, payload, signature] = (await signToken(es)).split(".");
    const claims = JSON.parse(Buffer.from(payload!, "base64url").toString());
    const forged = Buffer.from(JSON.stringify({ ...claims, sub: "admin" })).toString("base64url");
    await expectRefused(
      `${header}.${forged}.${signature}`,
      "bad_signature",
      "the token's signature does not verify",
    );
    // A flipped signature bit too.
    const flipped = signature!.startsWith("A")
      ? `B${signature!.slice(1)}`
      : `A${signature!.slice(1)}`;
    await expectRefused(`${header}.${payload}.${flipped}`, "bad_signature", /signature/);
  });

  it("refuses garbage", async () => {
    const good = await signToken(es);
    for (const garbage of [
      "",
      "garbage",
      "not.a.jwt",
      "a.b.c.d.e",
      "eyJhbGciOiJFUzI1NiJ9.e30",
      `${good} `,
      `${good}.extra`,
      "eyJhbGciOiJFUzI1NiJ9.bm90IGpzb24.c2ln",
      `${Buffer.from("[1]").toString("base64url")}.e30.c2ln`,
    ]) {
      await expectRefused(garbage, "malformed", "the token is not a well-formed JWT");
    }
  });

  it("refuses an oversized token before parsing it", async () => {
    await expectRefused("a".repeat(8193), "too_large", "the token is larger than 8192 bytes");
    const big = await signToken(es, claimsAt(T0_SEC, { pad: "x".repeat(9000) }));
    await expectRefused(big, "too_large", /larger than 8192 bytes/);
    const small = createTokenVerifier({
      issuers: [{ issuer: ISSUER, audience: AUDIENCE, keys }],
      maxTokenBytes: 100,
    });
    await expectRefused(
      await signToken(es),
      "too_large",
      "the token is larger than 100 bytes",
      small,
    );
  });

  it("refuses a token for an algorithm the issuer disabled", async () => {
    const esOnly = createTokenVerifier({
      issuers: [{ issuer: ISSUER, audience: AUDIENCE, keys, algorithms: ["ES256"] }],
      clock: manualClock(),
    });
    await expect(esOnly.verify(await signToken(es))).resolves.toBeDefined();
    await expectRefused(
      await signToken(ed),
      "algorithm_not_allowed",
      "algorithm EdDSA is not allowed for this issuer",
      esOnly,
    );
    await expectRefused(
      unsignedToken(claimsAt(), "XX999"),
      "algorithm_not_allowed",
      "the token's algorithm is not allowed for this issuer",
      esOnly,
    );
  });

  it("refuses a token with crit header parameters, saying so (RFC 7515 4.1.11)", async () => {
    const part = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");
    const signed = async (header: Record<string, unknown>) => {
      const input = `${part({ alg: "ES256", kid: es.kid, ...header })}.${part(claimsAt())}`;
      const signature = await crypto.subtle.sign(
        { name: "ECDSA", hash: "SHA-256" },
        es.privateKey,
        new TextEncoder().encode(input),
      );
      return `${input}.${Buffer.from(signature).toString("base64url")}`;
    };
    await expect(verifier.verify(await signed({}))).resolves.toBeDefined();
    for (const header of [
      { crit: ["x-ext"], "x-ext": 1 },
      { crit: ["exp"], exp: 1 },
    ]) {
      await expectRefused(
        await signed(header),
        "malformed",
        "the token has critical header parameters this gateway does not understand",
      );
    }
  });

  it("refuses a token whose exp is not finite (1e400 parses as Infinity: it would never expire)", async () => {
    const part = (text: string) => Buffer.from(text).toString("base64url");
    const claims = JSON.stringify({ ...claimsAt(), exp: 0 }).replace('"exp":0', '"exp":1e400');
    const input = `${part(JSON.stringify({ alg: "ES256", kid: es.kid }))}.${part(claims)}`;
    const signature = await crypto.subtle.sign(
      { name: "ECDSA", hash: "SHA-256" },
      es.privateKey,
      new TextEncoder().encode(input),
    );
    await expectRefused(
      `${input}.${Buffer.from(signature).toString("base64url")}`,
      "malformed",
      "the token's exp claim is not a finite number",
    );
  });

  it("refuses a token without sub or exp", async () => {
    await expectRefused(
      await signToken(es, claimsAt(T0_SEC, { sub: undefined })),
      "missing_claim",
      "the token has no sub claim",
    );
    await expectRefused(
      await signToken(es, claimsAt(T0_SEC, { exp: undefined })),
      "missing_claim",
      "the token has no exp claim",
    );
    await expectRefused(
      await signToken(es, claimsAt(T0_SEC, { sub: "" })),
      "missing_claim",
      "the token has no sub claim",
    );
    // A sub that is there but no string is not "no sub claim".
    await expectRefused(
      await signToken(es, { ...claimsAt(), sub: 42 } as never),
      "malformed",
      "the token's sub claim has the wrong type",
    );
    await expectRefused(
      await signToken(es, { ...claimsAt(), exp: "tomorrow" } as never),
      "malformed",
      "the token's exp claim has the wrong type",
    );
  });
});

describe("createTokenVerifier: options", () => {
  const issuer = (over: Partial<IssuerOptions> = {}): IssuerOptions => ({
    issuer: ISSUER,
    audience: AUDIENCE,
    keys,
    ...over,
  });

  it("refuses configurations that would be unsafe or cannot work", () => {
    const secret = createSecretKeySource("a-shared-secret-of-at-least-32-bytes!");
    const cases: [TokenVerifierInput, RegExp][] = [
      [{ issuers: [] }, /at least one issuer/],
      [{ issuers: [issuer(), issuer()] }, /listed twice/],
      [{ issuers: [issuer({ algorithms: ["none"] })] }, /"none" is never accepted/],
      [{ issuers: [issuer({ algorithms: ["ES256", "HS512"] })] }, /HS512 needs an explicitly/],
      [{ issuers: [issuer({ keys: secret, algorithms: ["ES256"] })] }, /needs public keys/],
      [{ issuers: [issuer({ algorithms: ["ES257"] })] }, /ES257 is not supported/],
      [{ issuers: [issuer({ algorithms: [] })] }, /algorithms is empty/],
      [{ issuers: [issuer({ audience: [] })] }, /audience/],
      [{ issuers: [issuer({ audience: "" })] }, /audience/],
      [{ issuers: [issuer({ clockToleranceSec: -1 })] }, /clockToleranceSec/],
      [{ issuers: [issuer()], maxTokenBytes: 0 }, /maxTokenBytes/],
    ];
    for (const [options, message] of cases) {
      expect(() => createTokenVerifier(options)).toThrow(message);
    }
  });
});

type TokenVerifierInput = Parameters<typeof createTokenVerifier>[0];
