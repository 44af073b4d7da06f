import {
  decodeJwt,
  decodeProtectedHeader,
  errors,
  type JWTPayload,
  type JWTVerifyOptions,
  jwtVerify,
} from "jose";
import {
  DEFAULT_ALGORITHMS,
  DEFAULT_HMAC_ALGORITHMS,
  DEFAULT_MAX_TOKEN_BYTES,
} from "../config/auth-config.js";
import { type Clock, systemClock } from "../ports/clock.js";
import { Unauthorized } from "./auth-errors.js";
import type { KeySource } from "./key-source.js";
import type { VerifiedToken } from "./verified-token.js";
import { createVerifiedTokenCache, type VerifiedTokenCache } from "./verified-token-cache.js";

/** Algorithms an issuer with a JWKS accepts unless it lists its own. */

const HMAC_ALGORITHMS: ReadonlySet<string> = new Set(["HS256", "HS384", "HS512"]);
const ASYMMETRIC_ALGORITHMS: ReadonlySet<string> = new Set([
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
]);

/** One trusted token issuer. */
export interface IssuerOptions {
  /** The exact `iss` its tokens carry. */
  readonly issuer: string;
  /** Tokens must name (one of) this in `aud`. */
  readonly audience: string | readonly string[];
  readonly keys: KeySource;
  /**
   * Allow-list of `alg` values. Default `DEFAULT_ALGORITHMS` for a JWKS, `DEFAULT_HMAC_ALGORITHMS` for a secret.
   * `none` is never accepted; HS* only with a secret, asymmetric ones only with a JWKS.
   */
  readonly algorithms?: readonly string[];
  /** Leeway for `exp`, `nbf` and `iat`, in seconds; default 30. */
  readonly clockToleranceSec?: number;
}

/** Options of `createTokenVerifier`. */
export interface TokenVerifierOptions {
  readonly issuers: readonly IssuerOptions[];
  /** Longer tokens are refused before any parsing; default 8192. */
  readonly maxTokenBytes?: number;
  /** Verified-token cache; default a 10 000-entry one on `clock`; `false` for none. */
  readonly cache?: VerifiedTokenCache | false;
  readonly clock?: Clock;
}

/** Verifies bearer JWTs against the configured issuers. */
export interface TokenVerifier {
  /**
   * The verified token, or a rejection with `Unauthorized` (the token is refused) or
   * `KeysUnavailable` (the issuer's keys cannot be had, 503).
   */
  verify(token: string): Promise<VerifiedToken>;
}

interface Issuer {
  readonly keys: KeySource;
  readonly algorithms: ReadonlySet<string>;
  readonly options: JWTVerifyOptions;
  readonly toleranceSec: number;
}

// A JWS in compact serialisation: three base64url parts; the signature is empty only for "none".
const JWS_COMPACT = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

const malformed = () => new Unauthorized("malformed", "the token is not a well-formed JWT");

function normaliseIssuer(options: IssuerOptions): Issuer {
  const { issuer, audience, keys, clockToleranceSec = 30 } = options;
  if (typeof issuer !== "string" || issuer === "") throw new TypeError("issuer must be a string");
  const audiences = typeof audience === "string" ? [audience] : [...audience];
  if (audiences.length === 0 || audiences.some((a) => typeof a !== "string" || a === "")) {
    throw new TypeError(`issuer ${issuer}: audience must be a non-empty string or list of them`);
  }
  if (!Number.isFinite(clockToleranceSec) || clockToleranceSec < 0) {
    throw new TypeError(`issuer ${issuer}: clockToleranceSec must be >= 0`);
  }
  const algorithms =
    options.algorithms ?? (keys.kind === "secret" ? DEFAULT_HMAC_ALGORITHMS : DEFAULT_ALGORITHMS);
  if (algorithms.length === 0) throw new TypeError(`issuer ${issuer}: algorithms is empty`);
  for (const alg of algorithms) {
    if (alg.toLowerCase() === "none") {
      throw new TypeError(`issuer ${issuer}: algorithm "none" is never accepted`);
    }
    const hmac = HMAC_ALGORITHMS.has(alg);
    if (!hmac && !ASYMMETRIC_ALGORITHMS.has(alg)) {
      throw new TypeError(`issuer ${issuer}: algorithm ${alg} is not supported`);
    }
    // Keeping the kinds apart is what stops algorithm confusion (RFC 8725 section 2.1).
    if (hmac && keys.kind !== "secret") {
      throw new TypeError(`issuer ${issuer}: ${alg} needs an explicitly configured secret`);
    }
    if (!hmac && keys.kind === "secret") {
      throw new TypeError(`issuer ${issuer}: ${alg} needs public keys (a JWKS), not a secret`);
    }
  }
  // RFC 9864 2.2: `Ed25519` is EdDSA with the Ed25519 curve, the name it deprecates `EdDSA` for
  // (jose signs with it); allowing EdDSA allows it, as it is the same signature.
  const allowed = new Set(algorithms);
  if (allowed.has("EdDSA")) allowed.add("Ed25519");
  return {
    keys,
    algorithms: allowed,
    toleranceSec: clockToleranceSec,
    options: {
      issuer,
      audience: audiences,
      algorithms: [...allowed],
      clockTolerance: clockToleranceSec,
      requiredClaims: ["exp", "sub"],
    },
  };
}

/**
 * Verifies bearer JWTs with jose: the issuer is picked by the token's (unverified) `iss` and must
 * be configured; then its `alg` allow-list, its keys, the signature, `iss`, `aud`, and `exp`,
 * `nbf` and `iat` with the issuer's clock tolerance. Tokens must carry `exp` and `sub`. Verified
 * tokens are cached by SHA-256 until their `exp` unless `cache: false`; a cached token is served
 * only while its issuer's key-set generation is unchanged (see `KeySource`). Options are checked
 * once, here: a mistake is a `TypeError`.
 *
 * @example
 * const verifier = createTokenVerifier({
 *   issuers: [{ issuer: "https://id.example.com", audience: "herald", keys: createRemoteKeySource({ url }) }],
 * });
 * const { subject, claims } = await verifier.verify(token);
 */
export function createTokenVerifier(options: TokenVerifierOptions): TokenVerifier {
  const { maxTokenBytes = DEFAULT_MAX_TOKEN_BYTES, clock = systemClock } = options;
  if (!Number.isInteger(maxTokenBytes) || maxTokenBytes < 1) {
    throw new TypeError("maxTokenBytes must be a positive integer");
  }
  if (options.issuers.length === 0) throw new TypeError("at least one issuer is needed");
  const issuers = new Map<string, Issuer>();
  for (const issuer of options.issuers) {
    if (issuers.has(issuer.issuer)) throw new TypeError(`issuer ${issuer.issuer} is listed twice`);
    issuers.set(issuer.issuer, normaliseIssuer(issuer));
  }
  const cache =
    options.cache === false ? undefined : (options.cache ?? createVerifiedTokenCache({ clock }));

  async function verifyUncached(token: string) {
    let alg: unknown;
    let kid: unknown;
    let crit: unknown;
    let iss: unknown;
    try {
      ({ alg, kid, crit } = decodeProtectedHeader(token));
      ({ iss } = decodeJwt(token));
    } catch {
      throw malformed();
    }
    if (typeof alg !== "string" || (kid !== undefined && typeof kid !== "string")) {
      throw malformed();
    }
    if (alg.toLowerCase() === "none") {
      throw new Unauthorized("algorithm_not_allowed", "algorithm none is never accepted");
    }
    // RFC 7515 4.1.11: a token whose crit lists extensions the recipient does not understand
    // must be refused; Herald understands none (jose would refuse too, blaming the algorithm).
    if (crit !== undefined) {
      throw new Unauthorized(
        "malformed",
        "the token has critical header parameters this gateway does not understand",
      );
    }
    if (typeof iss !== "string") {
      throw new Unauthorized("untrusted_issuer", "the token names no issuer");
    }
    // The issuer is not echoed: it is unverified input.
    const issuer = issuers.get(iss);
    if (issuer === undefined) {
      throw new Unauthorized("untrusted_issuer", "the token's issuer is not trusted here");
    }
    if (!issuer.algorithms.has(alg)) {
      const known = HMAC_ALGORITHMS.has(alg) || ASYMMETRIC_ALGORITHMS.has(alg);
      throw new Unauthorized(
        "algorithm_not_allowed",
        known
          ? `algorithm ${alg} is not allowed for this issuer`
          : "the token's algorithm is not allowed for this issuer",
      );
    }
    const keyId = kid as string | undefined;
    const match = await issuer.keys.keysFor({ alg, kid: keyId });
    const verifyOptions: JWTVerifyOptions = {
      ...issuer.options,
      currentDate: new Date(clock.now()),
    };
    let payload: JWTPayload | undefined;
    let failure: unknown = malformed();
    // Several keys fit only when the token names no kid (or the set repeats one). A bad
    // signature moves on to the next key, and so does a key jose will not use for this algorithm
    // (a TypeError: an RSA key under 2048 bits), or one unusable key in the set would refuse every
    // kid-less token. A signature failure is what is reported when one occurred.
    for (const key of match.keys) {
      try {
        payload = (await jwtVerify(token, key, verifyOptions)).payload;
        break;
      } catch (err) {
        const unusable = err instanceof TypeError;
        // An unusable key says less than a bad signature met before it; anything else (a
        // signature that checks, then a claim that does not: expired) is the reason.
        if (!(unusable && failure instanceof errors.JWSSignatureVerificationFailed)) failure = err;
        if (!unusable && !(err instanceof errors.JWSSignatureVerificationFailed)) break;
      }
    }
    if (payload === undefined) throw refusal(failure);
    const { sub, exp, iat } = payload;
    if (sub === undefined || sub === "") {
      throw new Unauthorized("missing_claim", "the token has no sub claim");
    }
    // jose checks that sub is present, not that it is a string (RFC 7519 4.1.2: a StringOrURI).
    if (typeof sub !== "string") {
      throw new Unauthorized("malformed", "the token's sub claim has the wrong type");
    }
    // jose takes any number: an exp of 1e400 (JSON for Infinity) would never expire.
    if (!Number.isFinite(exp)) {
      throw new Unauthorized("malformed", "the token's exp claim is not a finite number");
    }
    // jose checks iat only against a maximum age; a token from the future is refused here.
    const nowSec = Math.floor(clock.now() / 1000);
    if (iat !== undefined && iat > nowSec + issuer.toleranceSec) {
      throw new Unauthorized("issued_in_future", "the token was issued in the future");
    }
    const verified: VerifiedToken = Object.freeze({
      issuer: iss,
      subject: sub,
      claims: Object.freeze(payload),
      // jose required exp and checked that it is a number.
      expiresAt: (exp as number) * 1000,
    });
    return { token: verified, kid: keyId, generation: match.generation };
  }

  return {
    async verify(token) {
      if (token.length > maxTokenBytes) {
        throw new Unauthorized("too_large", `the token is larger than ${maxTokenBytes} bytes`);
      }
      if (!JWS_COMPACT.test(token)) throw malformed();
      if (cache === undefined) return (await verifyUncached(token)).token;
      // A synchronous digest (the Node adapter's) is not awaited: the cache-hit path is the
      // per-request path, and every await is a trip through the microtask queue.
      const digest = cache.keyOf(token);
      const key = typeof digest === "string" ? digest : await digest;
      const hit = cache.get(key);
      if (hit !== undefined) {
        const keys = issuers.get(hit.token.issuer)?.keys;
        if (keys !== undefined && (await keys.generation()) === hit.generation) return hit.token;
        cache.delete(key);
      }
      const verified = await verifyUncached(token);
      cache.set(key, verified);
      return verified.token;
    },
  };
}

const CLAIM_NAMES: ReadonlySet<string> = new Set(["exp", "sub", "aud", "iss", "iat", "nbf"]);

/** The `Unauthorized` for what jose threw; the claim names shown come from a fixed list. */
function refusal(err: unknown): unknown {
  if (err instanceof Unauthorized) return err;
  if (err instanceof errors.JWTExpired) return new Unauthorized("expired", "the token has expired");
  if (err instanceof errors.JWTClaimValidationFailed) {
    const claim = CLAIM_NAMES.has(err.claim) ? err.claim : "some";
    if (err.reason === "missing") {
      return new Unauthorized("missing_claim", `the token has no ${claim} claim`);
    }
    if (err.reason !== "check_failed") {
      return new Unauthorized("malformed", `the token's ${claim} claim has the wrong type`);
    }
    switch (err.claim) {
      case "nbf":
        return new Unauthorized("not_yet_valid", "the token is not valid yet");
      case "aud":
        return new Unauthorized("wrong_audience", "the token is not meant for this audience");
      case "iss":
        return new Unauthorized("untrusted_issuer", "the token's issuer is not trusted here");
      default:
        return new Unauthorized("malformed", `the token's ${claim} claim is not acceptable`);
    }
  }
  if (err instanceof errors.JWSSignatureVerificationFailed) {
    return new Unauthorized("bad_signature", "the token's signature does not verify");
  }
  if (err instanceof errors.JOSEAlgNotAllowed || err instanceof errors.JOSENotSupported) {
    return new Unauthorized("algorithm_not_allowed", "the token's algorithm is not allowed");
  }
  if (err instanceof errors.JOSEError) return malformed();
  // jose throws TypeError when a key does not suit the algorithm (e.g. an RSA key under 2048 bits).
  if (err instanceof TypeError) {
    return new Unauthorized("unknown_key", "no usable key of this issuer fits the token");
  }
  return err;
}
