import {
  base64url,
  exportJWK,
  generateKeyPair,
  type JSONWebKeySet,
  type JWK,
  type JWTHeaderParameters,
  type JWTPayload,
  SignJWT,
} from "jose";

/** The issuer, audience and time every auth test starts from. */
export const ISSUER = "https://id.example.test";
export const AUDIENCE = "herald";
/** 2027-01-15T08:00:00Z, in ms. */
export const T0 = 1_800_000_000_000;
export const T0_SEC = T0 / 1000;

/** A real signing key pair and its public JWK (with `kid` and `alg`). */
export interface TestKey {
  readonly alg: "ES256" | "EdDSA" | "RS256";
  readonly kid: string;
  readonly privateKey: CryptoKey;
  readonly publicKey: CryptoKey;
  readonly publicJwk: JWK;
}

/**
 * A fresh key pair.
 *
 * @example
 * const key = await makeKey("ES256", "k1");
 */
export async function makeKey(alg: TestKey["alg"], kid: string): Promise<TestKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  const publicJwk = { ...(await exportJWK(publicKey)), kid, alg, use: "sig" };
  return { alg, kid, privateKey, publicKey, publicJwk };
}

/** A JWKS of the keys' public halves. */
export function jwksOf(...keys: readonly TestKey[]): JSONWebKeySet {
  return { keys: keys.map((key) => key.publicJwk) };
}

/** Claims of a good token at T0 (one hour left); override or drop (`undefined`) any of them. */
export function claimsAt(nowSec = T0_SEC, overrides: Record<string, unknown> = {}): JWTPayload {
  const claims: JWTPayload = {
    iss: ISSUER,
    aud: AUDIENCE,
    sub: "orders-service",
    iat: nowSec,
    exp: nowSec + 3600,
    ...overrides,
  };
  for (const [name, value] of Object.entries(claims)) {
    if (value === undefined) delete claims[name];
  }
  return claims;
}

/** Header members of a test token; `kid: null` leaves the `kid` out. */
export type TestHeader = Omit<Partial<JWTHeaderParameters>, "kid"> & { kid?: string | null };

/**
 * A token signed with `key`; the header names its `alg` and `kid` unless `header` says otherwise.
 *
 * @example
 * const token = await signToken(key, claimsAt(T0_SEC, { sub: "billing" }));
 */
export function signToken(
  key: TestKey,
  claims: JWTPayload = claimsAt(),
  header: TestHeader = {},
): Promise<string> {
  const { kid = key.kid, ...rest } = header;
  const protectedHeader: JWTHeaderParameters = { alg: key.alg, typ: "JWT", ...rest };
  if (kid !== null) protectedHeader.kid = kid;
  return new SignJWT(claims).setProtectedHeader(protectedHeader).sign(key.privateKey);
}

/** An HS256 token whose MAC key is `secret` (e.g. a public key's bytes, for algorithm confusion). */
export function signHmac(
  secret: Uint8Array,
  claims: JWTPayload = claimsAt(),
  header: Partial<JWTHeaderParameters> = {},
): Promise<string> {
  return new SignJWT(claims)
    .setProtectedHeader({ alg: "HS256", typ: "JWT", ...header })
    .sign(secret);
}

/** An unsecured JWT (`alg` given, `none` by default) with an empty signature. */
export function unsignedToken(claims: JWTPayload = claimsAt(), alg = "none"): string {
  const part = (value: unknown) => base64url.encode(JSON.stringify(value));
  return `${part({ alg, typ: "JWT" })}.${part(claims)}.`;
}

/** A clock tests move by hand. */
export interface ManualClock {
  now(): number;
  set(ms: number): void;
  advance(ms: number): void;
}

export function manualClock(start = T0): ManualClock {
  let at = start;
  return {
    now: () => at,
    set: (ms) => {
      at = ms;
    },
    advance: (ms) => {
      at += ms;
    },
  };
}
