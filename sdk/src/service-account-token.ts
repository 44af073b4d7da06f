import { type CryptoKey, importJWK, importPKCS8, type JWK, type KeyObject, SignJWT } from "jose";
import { checkKnownOptions, type OptionNames } from "./known-options.js";

/** Options of `serviceAccountToken`. */
export interface ServiceAccountTokenOptions {
  /**
   * The signing key: a `CryptoKey`, a private JWK, or PKCS#8 PEM text. Required; `undefined`
   * type-checks (so `process.env.UPLOADER_KEY_PEM` can be passed as it is) and is a `TypeError`
   * when `serviceAccountToken` is called, at start-up rather than at the first event.
   */
  readonly privateKey: CryptoKey | KeyObject | JWK | string | undefined;
  /** `iss`: the issuer the gateway trusts (its `auth.issuers[].issuer`). */
  readonly issuer: string;
  /** `aud`: the gateway's `audience`. */
  readonly audience: string | readonly string[];
  /** `sub`: who publishes; the gateway's publisher rules match on it. */
  readonly subject: string;
  /** Lifetime in seconds, or `30s`, `15m`, `1h` (default 15 minutes). */
  readonly ttl?: number | string | undefined;
  /** JWS algorithm (default: the JWK's `alg`, else ES256). */
  readonly algorithm?: string | undefined;
  /** `kid` header, so the gateway finds the key in its JWKS (default: the JWK's `kid`). */
  readonly keyId?: string | undefined;
  /** More claims, e.g. `{ scope: "events:publish" }`. */
  readonly claims?: Readonly<Record<string, unknown>> | undefined;
  /** Mint a new token this many seconds before the old one expires (default: ttl / 4, at most 60). */
  readonly refreshBefore?: number | undefined;
  /** Clock in milliseconds (tests). */
  readonly now?: (() => number) | undefined;
}

const UNITS: Record<string, number> = { s: 1, m: 60, h: 3600 };

function ttlSeconds(ttl: number | string | undefined): number {
  if (ttl === undefined) return 900;
  const m = typeof ttl === "number" ? null : /^(\d+)(s|m|h)$/.exec(ttl);
  const seconds =
    typeof ttl === "number" ? ttl : m === null ? Number.NaN : Number(m[1]) * UNITS[m[2]!]!;
  if (!Number.isInteger(seconds) || seconds < 1) {
    throw new TypeError(
      "serviceAccountToken: ttl must be whole seconds >= 1, or like 30s, 15m, 1h",
    );
  }
  return seconds;
}

function required(name: string, value: unknown): void {
  if (typeof value !== "string" || value === "") {
    throw new TypeError(`serviceAccountToken: ${name} must be a non-empty string`);
  }
}

const TOKEN_OPTIONS = {
  privateKey: true,
  issuer: true,
  audience: true,
  subject: true,
  ttl: true,
  algorithm: true,
  keyId: true,
  claims: true,
  refreshBefore: true,
  now: true,
} satisfies OptionNames<ServiceAccountTokenOptions>;

/**
 * A token function for `createProducer({ token })`: it signs a JWT (`iss`, `aud`, `sub`, `iat`,
 * `exp`, `jti`) with the service account's private key, with jose on WebCrypto, and hands out the
 * same token until `refreshBefore` seconds before it expires; concurrent callers share one
 * signing. Options are checked at once (`TypeError`); the key is imported on first use.
 *
 * @example
 * const token = serviceAccountToken({
 *   privateKey: process.env.HERALD_KEY_PEM, algorithm: "ES256", keyId: "uploader-1",
 *   issuer: "https://id.example.com", audience: "herald", subject: "uploader", ttl: "15m",
 * });
 * const producer = createProducer({ endpoint, source: "/images", token });
 */
export function serviceAccountToken(options: ServiceAccountTokenOptions): () => Promise<string> {
  if (options === null || typeof options !== "object") {
    throw new TypeError("serviceAccountToken: options are required");
  }
  checkKnownOptions("serviceAccountToken", options, TOKEN_OPTIONS);
  const { privateKey, issuer, audience, subject, claims = {}, now = Date.now } = options;
  required("issuer", issuer);
  required("subject", subject);
  if (typeof audience !== "string" && !Array.isArray(audience)) {
    throw new TypeError("serviceAccountToken: audience must be a string or a list of strings");
  }
  if (privateKey === undefined || privateKey === null || privateKey === "") {
    throw new TypeError("serviceAccountToken: privateKey is required");
  }
  const ttl = ttlSeconds(options.ttl);
  const refreshBefore = options.refreshBefore ?? Math.min(60, Math.floor(ttl / 4));
  if (!Number.isFinite(refreshBefore) || refreshBefore < 0 || refreshBefore >= ttl) {
    throw new TypeError("serviceAccountToken: refreshBefore must be >= 0 and below ttl");
  }
  const jwk =
    typeof privateKey === "object" && "kty" in privateKey ? (privateKey as JWK) : undefined;
  const algorithm = options.algorithm ?? jwk?.alg ?? "ES256";
  const keyId = options.keyId ?? jwk?.kid;

  let key: Promise<CryptoKey | KeyObject | Uint8Array> | undefined;
  function signingKey(): Promise<CryptoKey | KeyObject | Uint8Array> {
    if (key === undefined) {
      const importing =
        typeof privateKey === "string"
          ? importPKCS8(privateKey, algorithm)
          : jwk !== undefined
            ? importJWK(jwk, algorithm)
            : Promise.resolve(privateKey as CryptoKey);
      key = importing;
      // A failed import is not kept either.
      importing.catch(() => {
        if (key === importing) key = undefined;
      });
    }
    return key;
  }

  let current: { readonly token: Promise<string>; readonly refreshAt: number } | undefined;

  async function mint(iat: number): Promise<string> {
    return new SignJWT({ ...claims })
      .setProtectedHeader(
        keyId === undefined
          ? { alg: algorithm, typ: "JWT" }
          : { alg: algorithm, kid: keyId, typ: "JWT" },
      )
      .setIssuer(issuer)
      .setAudience(audience as string | string[])
      .setSubject(subject)
      .setIssuedAt(iat)
      .setExpirationTime(iat + ttl)
      .setJti(crypto.randomUUID())
      .sign(await signingKey());
  }

  return function serviceAccountTokenValue(): Promise<string> {
    const seconds = Math.floor(now() / 1000);
    if (current === undefined || seconds >= current.refreshAt) {
      const token = mint(seconds);
      const minted = { token, refreshAt: seconds + ttl - refreshBefore };
      current = minted;
      // A failed signing is not kept: the next call tries again.
      token.catch(() => {
        if (current === minted) current = undefined;
      });
    }
    return current.token;
  };
}
