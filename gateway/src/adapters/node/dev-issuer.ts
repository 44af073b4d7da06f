import { randomUUID } from "node:crypto";
import { link, mkdir, readFile, unlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import {
  calculateJwkThumbprint,
  exportJWK,
  generateKeyPair,
  importJWK,
  type JSONWebKeySet,
  type JWK,
  SignJWT,
} from "jose";
import { type Clock, systemClock } from "../../ports/clock.js";

/** The `iss` of every dev-issuer token. */
export const DEV_ISSUER = "herald-dev";
/** The `aud` of every dev-issuer token. */
export const DEV_AUDIENCE = "herald";
/** Where the dev issuer's key lives, relative to the directory it belongs to. */
export const DEV_ISSUER_FILE = join(".herald", "dev-issuer.json");

const ALG = "ES256";

/** What a dev-issuer token says: its subject, optional space-separated scopes, its lifetime. */
export interface DevTokenClaims {
  readonly sub: string;
  readonly scope?: string;
  readonly ttlSeconds: number;
}

/**
 * A local token issuer for development: one ES256 key kept in `.herald/dev-issuer.json`. The
 * embedded demo trusts it (`publicJwks` inline in its config) and `herald token` mints from it.
 * Nothing else trusts it unless a config says so.
 */
export interface DevIssuer {
  readonly issuer: typeof DEV_ISSUER;
  readonly audience: typeof DEV_AUDIENCE;
  /** The public half only, ready for `auth.issuers[].jwks`. */
  readonly publicJwks: JSONWebKeySet;
  /** A signed JWT (`kid` in the header) with iss, aud, sub, iat, exp and, when given, scope. */
  mint(claims: DevTokenClaims): Promise<string>;
}

export interface DevIssuerOptions {
  /** Sets `iat` and `exp`; default the system clock. */
  readonly clock?: Clock;
}

/** `.herald/dev-issuer.json` exists but does not hold a dev issuer key. */
export class DevIssuerInvalid extends Error {
  override name = "DevIssuerInvalid";
}

/**
 * The dev issuer of `dir` (`<dir>/.herald/dev-issuer.json`), or `undefined` when there is none.
 * Never creates one: `herald token` must not conjure up an issuer nobody trusts. A file that is
 * there but is not a dev issuer key rejects with `DevIssuerInvalid`.
 *
 * @example
 * const issuer = await loadDevIssuer(process.cwd());
 * if (issuer) console.log(await issuer.mint({ sub: "demo", ttlSeconds: 3600 }));
 */
export async function loadDevIssuer(
  dir: string,
  options: DevIssuerOptions = {},
): Promise<DevIssuer | undefined> {
  const path = join(dir, DEV_ISSUER_FILE);
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw err;
  }
  return devIssuer(await readDevKey(text, path), options.clock ?? systemClock);
}

/**
 * The dev issuer of `dir`, created on first use: a fresh ES256 key pair whose private JWK (with a
 * `kid`, the RFC 7638 thumbprint) is written to `<dir>/.herald/dev-issuer.json`, readable by its
 * owner only (0600). Later calls, in this process or another, load the same key, so tokens
 * minted earlier stay valid across restarts.
 *
 * @example
 * const issuer = await loadOrCreateDevIssuer(process.cwd());
 * const token = await issuer.mint({ sub: "demo", ttlSeconds: 86_400 });
 */
export async function loadOrCreateDevIssuer(
  dir: string,
  options: DevIssuerOptions = {},
): Promise<DevIssuer> {
  const existing = await loadDevIssuer(dir, options);
  if (existing !== undefined) return existing;
  const path = join(dir, DEV_ISSUER_FILE);
  await mkdir(join(dir, ".herald"), { recursive: true, mode: 0o700 });
  const { privateKey } = await generateKeyPair(ALG, { extractable: true });
  const jwk = await exportJWK(privateKey);
  const privateJwk: JWK = { ...jwk, kid: await calculateJwkThumbprint(jwk), alg: ALG, use: "sig" };
  // Written whole under a temporary name, then linked into place: link never replaces a file, so
  // when two processes race, both end up with the key of whichever linked first, and no reader
  // ever sees half a file.
  const temporary = `${path}.${randomUUID()}.tmp`;
  await writeFile(temporary, `${JSON.stringify(privateJwk, null, 2)}\n`, {
    mode: 0o600,
    flag: "wx",
  });
  try {
    await link(temporary, path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
  } finally {
    await unlink(temporary);
  }
  const created = await loadDevIssuer(dir, options);
  if (created === undefined) throw new DevIssuerInvalid(`${path}: vanished while being created`);
  return created;
}

interface DevKey {
  readonly kid: string;
  readonly signingKey: CryptoKey | Uint8Array;
  readonly publicJwk: JWK;
}

/** An EC P-256 private JWK with a `kid`; anything else is refused rather than half-used. */
async function readDevKey(text: string, path: string): Promise<DevKey> {
  const invalid = () =>
    new DevIssuerInvalid(
      `${path} is not a usable dev issuer key (an EC P-256 private JWK with a kid); delete it ` +
        "and run `herald serve` without a config to make a new one",
    );
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw invalid();
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw invalid();
  const { kty, crv, x, y, d, kid } = value as Record<string, unknown>;
  if (
    kty !== "EC" ||
    crv !== "P-256" ||
    typeof x !== "string" ||
    typeof y !== "string" ||
    typeof d !== "string" ||
    typeof kid !== "string" ||
    kid === ""
  ) {
    throw invalid();
  }
  let signingKey: CryptoKey | Uint8Array;
  try {
    signingKey = await importJWK({ kty, crv, x, y, d }, ALG);
  } catch {
    throw invalid();
  }
  // Only the members a verifier needs: never `d`, nor anything else the file may carry.
  return { kid, signingKey, publicJwk: { kty, crv, x, y, kid, alg: ALG, use: "sig" } };
}

function devIssuer({ kid, signingKey, publicJwk }: DevKey, clock: Clock): DevIssuer {
  return {
    issuer: DEV_ISSUER,
    audience: DEV_AUDIENCE,
    publicJwks: { keys: [{ ...publicJwk }] },
    async mint({ sub, scope, ttlSeconds }) {
      if (typeof sub !== "string" || sub === "")
        throw new TypeError("sub must be a non-empty string");
      if (!Number.isSafeInteger(ttlSeconds) || ttlSeconds < 1) {
        throw new TypeError("ttlSeconds must be a whole number of seconds, at least 1");
      }
      const now = Math.floor(clock.now() / 1000);
      return new SignJWT(scope === undefined ? {} : { scope })
        .setProtectedHeader({ alg: ALG, kid, typ: "JWT" })
        .setIssuer(DEV_ISSUER)
        .setAudience(DEV_AUDIENCE)
        .setSubject(sub)
        .setIssuedAt(now)
        .setExpirationTime(now + ttlSeconds)
        .sign(signingKey);
    },
  };
}
