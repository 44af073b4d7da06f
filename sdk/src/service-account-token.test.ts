import { decodeProtectedHeader, exportJWK, generateKeyPair, jwtVerify } from "jose";
import { describe, expect, it } from "vitest";
import { serviceAccountToken } from "./service-account-token.js";

const keys = await generateKeyPair("ES256", { extractable: true });
const privateJwk = { ...(await exportJWK(keys.privateKey)), alg: "ES256", kid: "k1" };
const base = {
  privateKey: privateJwk,
  issuer: "https://id.example.com",
  audience: "herald",
  subject: "uploader",
};

describe("serviceAccountToken", () => {
  it("signs iss, aud, sub, iat, exp (ttl), jti and extra claims, with the JWK's alg and kid", async () => {
    const now = 1_700_000_000_000;
    const token = await serviceAccountToken({
      ...base,
      ttl: "15m",
      claims: { scope: "events:publish" },
      now: () => now,
    })();
    const { payload } = await jwtVerify(token, keys.publicKey, {
      issuer: base.issuer,
      audience: "herald",
      currentDate: new Date(now),
    });
    expect(payload).toMatchObject({
      sub: "uploader",
      iat: now / 1000,
      exp: now / 1000 + 900,
      scope: "events:publish",
    });
    expect(typeof payload.jti).toBe("string");
    expect(decodeProtectedHeader(token)).toEqual({ alg: "ES256", kid: "k1", typ: "JWT" });
  });

  it("hands out the same token until refreshBefore seconds before expiry, then a new one", async () => {
    let now = 1_700_000_000_000;
    const token = serviceAccountToken({ ...base, ttl: 600, refreshBefore: 60, now: () => now });
    const first = await token();
    now += 539_000;
    expect(await token()).toBe(first);
    now += 1_000; // 540 s: 60 s before expiry
    const second = await token();
    expect(second).not.toBe(first);
    const { payload } = await jwtVerify(second, keys.publicKey, { currentDate: new Date(now) });
    expect(payload.iat).toBe(now / 1000);
  });

  it("concurrent callers share one signing", async () => {
    const token = serviceAccountToken(base);
    const all = await Promise.all([token(), token(), token()]);
    expect(new Set(all).size).toBe(1);
  });

  it("a key that cannot be imported rejects every call with jose's reason", async () => {
    const token = serviceAccountToken({ ...base, privateKey: "not a PEM" });
    await expect(token()).rejects.toThrow(/PKCS#8/);
    await expect(token()).rejects.toThrow(/PKCS#8/);
  });

  it("refuses bad options at once with a TypeError", () => {
    expect(() => serviceAccountToken({ ...base, issuer: "" })).toThrow(TypeError);
    expect(() => serviceAccountToken({ ...base, ttl: "soon" })).toThrow(/ttl/);
    expect(() => serviceAccountToken({ ...base, ttl: 60, refreshBefore: 60 })).toThrow(
      /refreshBefore/,
    );
    expect(() => serviceAccountToken({ ...base, privateKey: "" })).toThrow(/privateKey/);
  });
});
