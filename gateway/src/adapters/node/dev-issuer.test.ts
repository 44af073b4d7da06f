import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify } from "jose";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { DevIssuerInvalid, loadDevIssuer, loadOrCreateDevIssuer } from "./dev-issuer.js";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "herald-dev-issuer-"));
});
afterEach(() => rm(dir, { recursive: true, force: true }));

const keyFile = () => join(dir, ".herald", "dev-issuer.json");

describe("loadOrCreateDevIssuer", () => {
  it("creates .herald/dev-issuer.json once, owner-only, and reuses it", async () => {
    const first = await loadOrCreateDevIssuer(dir);
    const written = await readFile(keyFile(), "utf8");
    const second = await loadOrCreateDevIssuer(dir);
    expect(await readFile(keyFile(), "utf8")).toBe(written);
    const kid = first.publicJwks.keys[0]?.kid;
    expect(kid).toMatch(/^[\w-]{43}$/);
    expect(second.publicJwks.keys[0]?.kid).toBe(kid);
    expect(JSON.parse(written)).toMatchObject({
      kty: "EC",
      crv: "P-256",
      kid,
      d: expect.any(String),
    });
    if (process.platform !== "win32") {
      expect((await stat(keyFile())).mode & 0o777).toBe(0o600);
    }
    expect(first).toMatchObject({ issuer: "herald-dev", audience: "herald" });
  });

  it("publishes the public key only", async () => {
    const { publicJwks } = await loadOrCreateDevIssuer(dir);
    expect(publicJwks.keys).toHaveLength(1);
    expect(Object.keys(publicJwks.keys[0] ?? {}).sort()).toEqual([
      "alg",
      "crv",
      "kid",
      "kty",
      "use",
      "x",
      "y",
    ]);
  });

  it("gives two processes racing to create it the same key", async () => {
    const issuers = await Promise.all([1, 2, 3, 4].map(() => loadOrCreateDevIssuer(dir)));
    const kids = new Set(issuers.map((issuer) => issuer.publicJwks.keys[0]?.kid));
    expect(kids.size).toBe(1);
    const tokens = await Promise.all(issuers.map((i) => i.mint({ sub: "s", ttlSeconds: 60 })));
    const keys = createLocalJWKSet((await loadOrCreateDevIssuer(dir)).publicJwks);
    for (const token of tokens) await expect(jwtVerify(token, keys)).resolves.toBeDefined();
  });

  it("mints ES256 JWTs that verify against its JWKS, with kid, iss, aud, sub, iat, exp, scope", async () => {
    const now = Date.UTC(2030, 0, 1, 12, 0, 0);
    const issuer = await loadOrCreateDevIssuer(dir, { clock: { now: () => now } });
    const token = await issuer.mint({ sub: "orders", scope: "herald:admin x", ttlSeconds: 3600 });
    const { payload, protectedHeader } = await jwtVerify(
      token,
      createLocalJWKSet(issuer.publicJwks),
      {
        issuer: "herald-dev",
        audience: "herald",
        algorithms: ["ES256"],
        currentDate: new Date(now + 1_000),
      },
    );
    expect(protectedHeader).toMatchObject({ alg: "ES256", kid: issuer.publicJwks.keys[0]?.kid });
    expect(payload).toEqual({
      iss: "herald-dev",
      aud: "herald",
      sub: "orders",
      scope: "herald:admin x",
      iat: now / 1000,
      exp: now / 1000 + 3600,
    });
    // One second past exp it is refused.
    await expect(
      jwtVerify(token, createLocalJWKSet(issuer.publicJwks), {
        currentDate: new Date(now + 3_601_000),
      }),
    ).rejects.toMatchObject({ code: "ERR_JWT_EXPIRED" });
  });

  it("leaves scope out unless asked, and refuses a token without a subject or lifetime", async () => {
    const issuer = await loadOrCreateDevIssuer(dir);
    const token = await issuer.mint({ sub: "demo", ttlSeconds: 60 });
    const { payload } = await jwtVerify(token, createLocalJWKSet(issuer.publicJwks));
    expect(payload).not.toHaveProperty("scope");
    expect((payload.exp ?? 0) - (payload.iat ?? 0)).toBe(60);
    await expect(issuer.mint({ sub: "", ttlSeconds: 60 })).rejects.toThrow(TypeError);
    await expect(issuer.mint({ sub: "a", ttlSeconds: 0 })).rejects.toThrow(TypeError);
    await expect(issuer.mint({ sub: "a", ttlSeconds: 1.5 })).rejects.toThrow(TypeError);
  });

  it("is a different key in another directory", async () => {
    const other = await mkdtemp(join(tmpdir(), "herald-dev-issuer-"));
    try {
      const a = await loadOrCreateDevIssuer(dir);
      const b = await loadOrCreateDevIssuer(other);
      expect(a.publicJwks.keys[0]?.kid).not.toBe(b.publicJwks.keys[0]?.kid);
      const token = await b.mint({ sub: "demo", ttlSeconds: 60 });
      expect(decodeProtectedHeader(token).kid).toBe(b.publicJwks.keys[0]?.kid);
      await expect(jwtVerify(token, createLocalJWKSet(a.publicJwks))).rejects.toThrow();
    } finally {
      await rm(other, { recursive: true, force: true });
    }
  });
});

describe("loadDevIssuer", () => {
  it("is undefined where there is none, and creates nothing", async () => {
    expect(await loadDevIssuer(dir)).toBeUndefined();
    expect(existsSync(join(dir, ".herald"))).toBe(false);
  });

  it("loads the key loadOrCreateDevIssuer made", async () => {
    const created = await loadOrCreateDevIssuer(dir);
    const loaded = await loadDevIssuer(dir);
    expect(loaded?.publicJwks).toEqual(created.publicJwks);
  });

  it.each([
    ["not JSON", "{"],
    ["a public key", JSON.stringify({ kty: "EC", crv: "P-256", x: "a", y: "b", kid: "k" })],
    ["an RSA key", JSON.stringify({ kty: "RSA", n: "a", e: "AQAB", d: "c", kid: "k" })],
    ["a key without kid", JSON.stringify({ kty: "EC", crv: "P-256", x: "a", y: "b", d: "c" })],
    [
      "broken key material",
      JSON.stringify({ kty: "EC", crv: "P-256", x: "a", y: "b", d: "c", kid: "k" }),
    ],
  ])("refuses a file holding %s, naming the file", async (_, text) => {
    await mkdir(join(dir, ".herald"));
    await writeFile(keyFile(), text);
    const failure = loadDevIssuer(dir);
    await expect(failure).rejects.toThrow(DevIssuerInvalid);
    await expect(failure).rejects.toThrow(keyFile());
    // Never replaced behind the user's back.
    await expect(loadOrCreateDevIssuer(dir)).rejects.toThrow(DevIssuerInvalid);
    expect(await readFile(keyFile(), "utf8")).toBe(text);
  });
});
