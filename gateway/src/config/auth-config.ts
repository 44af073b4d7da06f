/**
 * Signature algorithms an issuer may allow (RFC 7518 3.1, RFC 8037 3.1, RFC 9864 2.2 for the
 * fully-specified `Ed25519`, which `EdDSA` in a list also admits). `none` is not among them and
 * never will be: an unsigned token proves nothing (RFC 8725 3.1).
 */
export const JWT_ALGORITHMS = [
  "ES256",
  "ES384",
  "ES512",
  "EdDSA",
  "Ed25519",
  "RS256",
  "RS384",
  "RS512",
  "PS256",
  "PS384",
  "PS512",
  "HS256",
  "HS384",
  "HS512",
] as const;

export type JwtAlgorithm = (typeof JWT_ALGORITHMS)[number];

/** The HMAC algorithms: verified with a shared `secret`, never with keys from a JWKS. */
export type HmacAlgorithm = Extract<JwtAlgorithm, `HS${string}`>;

/** The allow-list of an issuer with `jwks` that names none. */
export const DEFAULT_ALGORITHMS: readonly JwtAlgorithm[] = ["ES256", "EdDSA", "RS256"];
/** The allow-list of an issuer with `secret` that names none. */
export const DEFAULT_HMAC_ALGORITHMS: readonly JwtAlgorithm[] = ["HS256"];
/** Leeway on `exp`, `nbf` and `iat` when `clockTolerance` is left out. */
export const DEFAULT_CLOCK_TOLERANCE_MS = 30_000;
/** Longest bearer token accepted when `maxTokenBytes` is left out (a usual header-line budget). */
export const DEFAULT_MAX_TOKEN_BYTES = 8_192;

/**
 * The normalised `auth` section (DESIGN.md "Config", issue 3): who may present tokens, who may
 * publish what and how fast, who is an administrator. `config/parse-auth.ts` produces it.
 *
 * @example
 * const auth: AuthConfig = {
 *   issuers: [{ issuer: "https://id.example.com", audience: ["herald"],
 *     keys: { kind: "url", url: "https://id.example.com/jwks.json" },
 *     algorithms: ["ES256"], clockToleranceMs: 30_000 }],
 *   publishers: [{ claims: { sub: "orders-service" }, sources: ["/orders/*"] }],
 *   admins: [{ claims: { scope: "herald:admin" } }],
 *   maxTokenBytes: 8_192,
 * };
 */
export interface AuthConfig {
  /** At least one; `issuer` values are unique. */
  readonly issuers: readonly IssuerConfig[];
  /** In config order: the first rule whose claims match a token wins. May be empty (no one publishes). */
  readonly publishers: readonly PublisherRule[];
  /** Rules for the admin routes; any matching rule makes the token an administrator. */
  readonly admins: readonly AdminRule[];
  /** Longest bearer token accepted, in bytes (longer: 401 before any parsing). */
  readonly maxTokenBytes: number;
}

/** One trusted token issuer. */
export interface IssuerConfig {
  /** Compared exactly with the token's `iss`. */
  readonly issuer: string;
  /** The token's `aud` must hold at least one of these (never empty). */
  readonly audience: readonly string[];
  readonly keys: IssuerKeys;
  /**
   * The allow-list, never empty. HMAC algorithms appear only with `keys.kind === "secret"`, and
   * then nothing else does (RFC 8725 3.1: a key is used with exactly one kind of algorithm).
   */
  readonly algorithms: readonly JwtAlgorithm[];
  /** Leeway on `exp`, `nbf` and `iat`, in milliseconds. */
  readonly clockToleranceMs: number;
}

/**
 * Where an issuer's verification keys come from:
 * - `file`: a JWKS file, path kept as written;
 * - `url`: an http(s) JWKS URL (fetched and cached by the key source);
 * - `inline`: public JWKs written in the config;
 * - `secret`: an HMAC shared secret; its UTF-8 bytes are the key.
 */
export type IssuerKeys =
  | { readonly kind: "file"; readonly path: string }
  | { readonly kind: "url"; readonly url: string }
  | { readonly kind: "inline"; readonly keys: readonly PublicJwk[] }
  | { readonly kind: "secret"; readonly secret: string };

/**
 * A public JSON Web Key (RFC 7517) as written: a `kty` string checked, no private members, no
 * symmetric (`oct`) key; every other member is left for the JOSE library to judge.
 */
export type PublicJwk = Readonly<Record<string, unknown>> & { readonly kty: string };

/**
 * Claims that hold a space-separated list of words: `scope` (RFC 8693 4.2, RFC 9068 2.2.3, with
 * RFC 6749 3.3 syntax) and `scp`, its spelling at some providers. A rule's value for them is split
 * into words too, so it must hold at least one.
 */
export const SPACE_SEPARATED_CLAIMS: ReadonlySet<string> = new Set(["scope", "scp"]);

/**
 * Claims a token must carry for a rule to apply, by claim name: a string must be present
 * (equal, or contained when the claim is an array, or one of the words of a space-separated
 * `scope`/`scp`); a list means every value in it must be present. Never empty.
 */
export type ClaimsRule = Readonly<Record<string, string | readonly string[]>>;

/** One `auth.publishers` entry. */
export interface PublisherRule {
  readonly claims: ClaimsRule;
  /** Globs over the event `source` (`*` = any run of characters); absent: any source. */
  readonly sources?: readonly string[];
  /** Globs over the event `type`; absent: any type. */
  readonly types?: readonly string[];
  /** Token bucket for each publisher (token subject) under this rule; absent: unlimited. */
  readonly rate?: RateLimit;
}

/** `500/s` is `{ count: 500, periodMs: 1000 }`: a bucket of `count` refilled over `periodMs`. */
export interface RateLimit {
  readonly count: number;
  readonly periodMs: number;
}

/** One `auth.admins` entry. */
export interface AdminRule {
  readonly claims: ClaimsRule;
}
