import {
  DEFAULT_ALGORITHMS,
  DEFAULT_CLOCK_TOLERANCE_MS,
  DEFAULT_HMAC_ALGORITHMS,
  type IssuerConfig,
  type IssuerKeys,
  JWT_ALGORITHMS,
  type JwtAlgorithm,
  type PublicJwk,
} from "./auth-config.js";
import type { FieldPath } from "./field-path.js";
import { type Report, trackReport } from "./report.js";
import {
  expectDuration,
  expectFilePath,
  expectHttpUrl,
  expectList,
  expectObject,
  expectString,
  isAbsent,
  isRawObject,
  optional,
  rejectUnknownKeys,
  required,
} from "./value-checks.js";

const ISSUER_KEYS = ["issuer", "audience", "jwks", "secret", "algorithms", "clockTolerance"];

/** Longest `clockTolerance`: more would all but switch off `exp`. */
const MAX_CLOCK_TOLERANCE_MS = 300_000;

/**
 * RFC 7518 3.2: an HMAC key "of the same size as the hash output ... or larger MUST be used".
 */
const MIN_SECRET_BYTES: Readonly<Record<string, number>> = { HS256: 32, HS384: 48, HS512: 64 };

/**
 * JWK members that hold private or symmetric key material (RFC 7518 6.2.2, 6.3.2, 6.4; RFC 8037
 * 2; `priv` of AKP keys). A verifier needs none of them, and a config is no place for them.
 */
const PRIVATE_MEMBERS = ["d", "p", "q", "dp", "dq", "qi", "oth", "k", "priv"];

const JWKS_SHAPE = "must be a file path, an http(s) URL or an object { keys: [...] }";

/**
 * Validates one `auth.issuers` entry: `issuer`, `audience` (one or a list), exactly one of
 * `jwks` (file path, http(s) URL or inline `{ keys: [...] }`) and `secret` (HMAC), `algorithms`
 * (default `[ES256, EdDSA, RS256]`, or `[HS256]` with `secret`) and `clockTolerance` (default
 * 30s). Messages never echo a value: `secret` is a secret, and a URL may carry a token.
 *
 * @example
 * parseIssuer({ issuer: "https://id.example.com", audience: "herald", jwks: "./jwks.json" },
 *   ["auth", "issuers", 0], report);
 * // { issuer: "https://id.example.com", audience: ["herald"], keys: { kind: "file", path: "./jwks.json" },
 * //   algorithms: ["ES256", "EdDSA", "RS256"], clockToleranceMs: 30000 }
 */
export function parseIssuer(
  raw: unknown,
  path: FieldPath,
  report: Report,
): IssuerConfig | undefined {
  const tracked = trackReport(report);
  const r = tracked.report;
  const object = expectObject(raw, path, r);
  if (object === undefined) return undefined;
  rejectUnknownKeys(object, ISSUER_KEYS, path, r);
  const at = (key: string): FieldPath => [...path, key];

  const issuer = required(object.issuer, at("issuer"), r, expectString);
  // Required: without it a token the same issuer minted for any other service would be accepted
  // here (RFC 8725 3.9).
  const audience = required(object.audience, at("audience"), r, parseAudience);
  const keys = parseKeys(object, path, r);
  const defaults = isAbsent(object.secret) ? DEFAULT_ALGORITHMS : DEFAULT_HMAC_ALGORITHMS;
  const algorithms = optional(object.algorithms, at("algorithms"), r, parseAlgorithms);
  // Checked against the known names even when others in the list are wrong: every problem at once.
  const written = Array.isArray(object.algorithms) ? object.algorithms : [];
  const known = JWT_ALGORITHMS.filter((algorithm) => written.includes(algorithm));
  if (keys !== undefined) {
    checkAlgorithmsFitKeys(keys, isAbsent(object.algorithms) ? defaults : known, written, path, r);
  }
  const clockToleranceMs =
    optional(object.clockTolerance, at("clockTolerance"), r, parseClockTolerance) ??
    DEFAULT_CLOCK_TOLERANCE_MS;

  if (tracked.failed() || !issuer || !audience || !keys) return undefined;
  return { issuer, audience, keys, algorithms: algorithms ?? defaults, clockToleranceMs };
}

function parseAudience(value: unknown, path: FieldPath, report: Report) {
  if (!Array.isArray(value)) {
    const one = expectString(value, path, report);
    return one === undefined ? undefined : [one];
  }
  return parseStringList(value, path, report);
}

/** A non-empty list of non-empty strings. */
export function parseStringList(
  value: unknown,
  path: FieldPath,
  report: Report,
): readonly string[] | undefined {
  const tracked = trackReport(report);
  const items = expectList(value, path, tracked.report);
  const strings = items?.map((item, index) => expectString(item, [...path, index], tracked.report));
  return tracked.failed() ? undefined : strings?.filter((item) => item !== undefined);
}

/** Exactly one of `jwks` and `secret`. */
function parseKeys(object: Readonly<Record<string, unknown>>, path: FieldPath, report: Report) {
  const hasJwks = !isAbsent(object.jwks);
  const hasSecret = !isAbsent(object.secret);
  const jwks = hasJwks ? parseJwks(object.jwks, [...path, "jwks"], report) : undefined;
  const secret = hasSecret ? parseSecret(object.secret, [...path, "secret"], report) : undefined;
  if (hasJwks && hasSecret) {
    report([...path, "secret"], "cannot be used with jwks; an issuer has one or the other", {
      at: "key",
    });
    return undefined;
  }
  if (!hasJwks && !hasSecret) {
    report(path, "needs jwks (public keys) or secret (an HMAC shared secret)");
    return undefined;
  }
  return jwks ?? secret;
}

function parseJwks(value: unknown, path: FieldPath, report: Report): IssuerKeys | undefined {
  if (typeof value === "string") {
    if (/^https?:/i.test(value)) {
      // An issuer has no headers to put them in (protocolsettings is a subscription's), and a
      // JWKS is public: an identity provider serves it to anyone.
      const url = expectHttpUrl(
        value,
        path,
        report,
        "a JWKS is public and fetched without them (an issuer's jwks_uri needs none)",
      );
      return url === undefined ? undefined : { kind: "url", url };
    }
    // `ftp://...`, `file:///...`: a scheme that is not fetched; as a path it would never exist.
    if (/^[A-Za-z][A-Za-z0-9+.-]*:\/\//.test(value)) {
      report(path, JWKS_SHAPE);
      return undefined;
    }
    const file = expectFilePath(value, path, report);
    return file === undefined ? undefined : { kind: "file", path: file };
  }
  if (!isRawObject(value)) {
    report(path, JWKS_SHAPE);
    return undefined;
  }
  const tracked = trackReport(report);
  // Members of the set other than `keys` are ignored, as RFC 7517 section 5 asks of a reader that
  // does not understand them (a JWKS file is read the same way): a set copied from an identity
  // provider works as it is.
  const items = required(value.keys, [...path, "keys"], tracked.report, expectList);
  const keys = items?.map((item, index) =>
    parseJwk(item, [...path, "keys", index], tracked.report),
  );
  if (tracked.failed() || keys === undefined) return undefined;
  return { kind: "inline", keys: keys.filter((key) => key !== undefined) };
}

function parseJwk(value: unknown, path: FieldPath, report: Report): PublicJwk | undefined {
  const tracked = trackReport(report);
  const jwk = expectObject(value, path, tracked.report);
  if (jwk === undefined) return undefined;
  const kty = required(jwk.kty, [...path, "kty"], tracked.report, expectString);
  if (kty === "oct") {
    tracked.report(
      [...path, "kty"],
      "symmetric (oct) keys do not belong in jwks; put an HMAC shared secret in secret",
    );
  }
  for (const member of PRIVATE_MEMBERS) {
    if (Object.hasOwn(jwk, member)) {
      tracked.report([...path, member], "is private key material; jwks holds public keys only", {
        at: "key",
      });
    }
  }
  if (tracked.failed() || kty === undefined) return undefined;
  return { ...jwk, kty };
}

function parseSecret(value: unknown, path: FieldPath, report: Report): IssuerKeys | undefined {
  // expectString never echoes the value; nothing here may either.
  const secret = expectString(value, path, report);
  return secret === undefined ? undefined : { kind: "secret", secret };
}

function parseAlgorithms(value: unknown, path: FieldPath, report: Report) {
  const tracked = trackReport(report);
  const items = expectList(value, path, tracked.report);
  const algorithms = new Set<JwtAlgorithm>();
  items?.forEach((item, index) => {
    const at = [...path, index];
    if (typeof item === "string" && item.toLowerCase() === "none") {
      tracked.report(at, 'is never accepted: a token with alg "none" is unsigned');
      return;
    }
    const found = JWT_ALGORITHMS.find((candidate) => candidate === item);
    if (found === undefined) tracked.report(at, `must be one of: ${JWT_ALGORITHMS.join(", ")}`);
    else algorithms.add(found);
  });
  return tracked.failed() || items === undefined ? undefined : [...algorithms];
}

/**
 * HMAC only with `secret`, and `secret` only with HMAC: HS256 checked with a public key from a
 * JWKS is the algorithm-confusion attack (RFC 8725 2.1, 3.1). A secret must also be long enough
 * for the strongest HMAC allowed (RFC 7518 3.2).
 */
function checkAlgorithmsFitKeys(
  keys: IssuerKeys,
  algorithms: readonly JwtAlgorithm[],
  written: readonly unknown[],
  path: FieldPath,
  report: Report,
): void {
  const where = (algorithm: JwtAlgorithm): FieldPath => {
    const index = written.indexOf(algorithm);
    return index === -1 ? [...path, "algorithms"] : [...path, "algorithms", index];
  };
  const isHmac = (algorithm: JwtAlgorithm) => algorithm.startsWith("HS");
  for (const algorithm of algorithms) {
    if (keys.kind === "secret" && !isHmac(algorithm)) {
      report(
        where(algorithm),
        `${algorithm} needs jwks; a secret verifies HS256, HS384, HS512 only`,
      );
    } else if (keys.kind !== "secret" && isHmac(algorithm)) {
      report(
        where(algorithm),
        `${algorithm} needs a secret instead of jwks: HMAC with a published key is forgeable`,
      );
    }
  }
  if (keys.kind !== "secret") return;
  const bytes = new TextEncoder().encode(keys.secret).length;
  const needed = Math.max(0, ...algorithms.map((algorithm) => MIN_SECRET_BYTES[algorithm] ?? 0));
  if (bytes < needed) {
    const strongest = algorithms.find((algorithm) => MIN_SECRET_BYTES[algorithm] === needed);
    report([...path, "secret"], `must be at least ${needed} bytes for ${strongest} (RFC 7518 3.2)`);
  }
}

function parseClockTolerance(value: unknown, path: FieldPath, report: Report) {
  const ms = expectDuration(value, path, report);
  if (ms === undefined || ms <= MAX_CLOCK_TOLERANCE_MS) return ms;
  report(path, "must be at most 5m");
  return undefined;
}
