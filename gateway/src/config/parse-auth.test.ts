// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${VAR} in these strings is config text under test.
import { describe, expect, test } from "vitest";
import { ConfigInvalid } from "./config-invalid.js";
import { formatFieldPath } from "./field-path.js";
import { parseConfig } from "./load-config.js";
import { parseAuth } from "./parse-auth.js";
import type { Report } from "./report.js";

const SECRET = "correct-horse-battery-staple-0123456789-abcdefghijklmnopqrstuvwxyz";
const jwks = "https://id.example.com/.well-known/jwks.json";
const issuer = { issuer: "https://id.example.com", audience: "herald", jwks };

/** Runs `parseAuth` at `auth`; the result and the reports as `field: message` lines. */
function check(raw: unknown) {
  const reports: string[] = [];
  const report: Report = (path, message, options) => {
    reports.push(`${formatFieldPath(path)}: ${message}${options?.at === "key" ? " (key)" : ""}`);
  };
  return { auth: parseAuth(raw, ["auth"], report), reports };
}

/** `check` for input that must be rejected: the reports only. */
function reportsOf(raw: unknown): string[] {
  const { auth, reports } = check(raw);
  expect(auth).toBeUndefined();
  return reports;
}

/** The issues of a YAML config (one argument per line). */
function problems(...lines: string[]): string[] {
  try {
    parseConfig(`${lines.join("\n")}\n`, "herald.yaml", { SECRET });
  } catch (error) {
    if (error instanceof ConfigInvalid) return error.message.split("\n");
    throw error;
  }
  return expect.fail("expected ConfigInvalid");
}

describe("parseAuth: the DESIGN.md shape, normalised", () => {
  test("every field", () => {
    expect(
      check({
        issuers: [
          {
            issuer: "https://id.example.com",
            audience: ["herald", "herald-eu"],
            jwks: "./jwks.json",
            algorithms: ["ES256", "EdDSA", "ES256"],
            clockTolerance: "PT5S",
          },
          { issuer: "dev", audience: "herald", secret: SECRET, algorithms: ["HS512"] },
        ],
        publishers: [
          {
            claims: { sub: "orders-service", groups: ["eu", "billing"] },
            sources: ["/orders", "/orders/*"],
            types: ["com.example.order.*"],
            rate: "500/s",
          },
          { claims: { scope: "events:publish" }, rate: "30000/m" },
        ],
        admins: [{ claims: { scope: "herald:admin" } }],
        maxTokenBytes: 4096,
      }),
    ).toEqual({
      auth: {
        issuers: [
          {
            issuer: "https://id.example.com",
            audience: ["herald", "herald-eu"],
            keys: { kind: "file", path: "./jwks.json" },
            algorithms: ["ES256", "EdDSA"],
            clockToleranceMs: 5_000,
          },
          {
            issuer: "dev",
            audience: ["herald"],
            keys: { kind: "secret", secret: SECRET },
            algorithms: ["HS512"],
            clockToleranceMs: 30_000,
          },
        ],
        publishers: [
          {
            claims: { sub: "orders-service", groups: ["eu", "billing"] },
            sources: ["/orders", "/orders/*"],
            types: ["com.example.order.*"],
            rate: { count: 500, periodMs: 1_000 },
          },
          { claims: { scope: "events:publish" }, rate: { count: 30_000, periodMs: 60_000 } },
        ],
        admins: [{ claims: { scope: "herald:admin" } }],
        maxTokenBytes: 4_096,
      },
      reports: [],
    });
  });

  test("defaults: algorithms by key kind, 30s tolerance, 8 KiB tokens, no publishers, no admins", () => {
    expect(check({ issuers: [issuer] }).auth).toEqual({
      issuers: [
        {
          issuer: "https://id.example.com",
          audience: ["herald"],
          keys: { kind: "url", url: jwks },
          algorithms: ["ES256", "EdDSA", "RS256"],
          clockToleranceMs: 30_000,
        },
      ],
      publishers: [],
      admins: [],
      maxTokenBytes: 8_192,
    });
    const hmac = check({ issuers: [{ issuer: "i", audience: "a", secret: SECRET }] }).auth;
    expect(hmac?.issuers[0]?.algorithms).toEqual(["HS256"]);
    expect(check({ issuers: [issuer], publishers: null, admins: [] }).auth?.publishers).toEqual([]);
  });

  test("inline keys are kept as written", () => {
    const key = {
      kty: "EC",
      crv: "P-256",
      x: "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",
      y: "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0",
      kid: "k1",
      use: "sig",
    };
    expect(
      check({ issuers: [{ ...issuer, jwks: { keys: [key] } }] }).auth?.issuers[0]?.keys,
    ).toEqual({ kind: "inline", keys: [key] });
  });

  test("clockTolerance may be zero", () => {
    const auth = check({ issuers: [{ ...issuer, clockTolerance: "0s" }] }).auth;
    expect(auth?.issuers[0]?.clockToleranceMs).toBe(0);
  });
});

describe("parseAuth: issuers", () => {
  test("issuers is required and not empty; issuer and audience are required", () => {
    expect(reportsOf({})).toEqual(["auth.issuers: is required"]);
    expect(reportsOf({ issuers: [] })).toEqual(["auth.issuers: must not be empty"]);
    expect(reportsOf({ issuers: [{ jwks }] })).toEqual([
      "auth.issuers[0].issuer: is required",
      "auth.issuers[0].audience: is required",
    ]);
    expect(reportsOf({ issuers: [{ ...issuer, audience: [] }] })).toEqual([
      "auth.issuers[0].audience: must not be empty",
    ]);
    expect(reportsOf({ issuers: [{ ...issuer, audience: ["a", 7] }] })).toEqual([
      "auth.issuers[0].audience[1]: must be a string, not a number",
    ]);
  });

  test("each issuer once", () => {
    expect(reportsOf({ issuers: [issuer, { ...issuer, audience: "other" }] })).toEqual([
      "auth.issuers[1].issuer: duplicate issuer; auth.issuers[0] has it",
    ]);
  });

  test("exactly one of jwks and secret", () => {
    expect(reportsOf({ issuers: [{ issuer: "i", audience: "a" }] })).toEqual([
      "auth.issuers[0]: needs jwks (public keys) or secret (an HMAC shared secret)",
    ]);
    expect(reportsOf({ issuers: [{ ...issuer, secret: SECRET }] })).toEqual([
      "auth.issuers[0].secret: cannot be used with jwks; an issuer has one or the other (key)",
    ]);
  });

  test("jwks is a file path, an http(s) URL without credentials, or { keys: [...] }", () => {
    const jwksReports = (value: unknown) => reportsOf({ issuers: [{ ...issuer, jwks: value }] });
    const shape =
      "auth.issuers[0].jwks: must be a file path, an http(s) URL or an object { keys: [...] }";
    expect(jwksReports(7)).toEqual([shape]);
    expect(jwksReports(["./jwks.json"])).toEqual([shape]);
    expect(jwksReports("ftp://id.example.com/jwks.json")).toEqual([shape]);
    expect(jwksReports("file:///etc/jwks.json")).toEqual([shape]);
    expect(jwksReports("")).toEqual(["auth.issuers[0].jwks: must not be empty"]);
    expect(jwksReports("https://user:pw@id.example.com/jwks")).toEqual([
      "auth.issuers[0].jwks: must not contain credentials; a JWKS is public and fetched without them (an issuer's jwks_uri needs none)",
    ]);
    expect(jwksReports("http:/relative")).toEqual([
      "auth.issuers[0].jwks: must be an absolute http(s) URL",
    ]);
    expect(
      check({ issuers: [{ ...issuer, jwks: "http://127.0.0.1:9/jwks" }] }).auth?.issuers[0]?.keys,
    ).toEqual({ kind: "url", url: "http://127.0.0.1:9/jwks" });
  });

  test("inline keys: public, asymmetric, each with a kty", () => {
    const keysReports = (jwks: unknown) => reportsOf({ issuers: [{ ...issuer, jwks }] });
    expect(keysReports({})).toEqual(["auth.issuers[0].jwks.keys: is required"]);
    expect(keysReports({ keys: [] })).toEqual(["auth.issuers[0].jwks.keys: must not be empty"]);
    // RFC 7517 section 5: a member of the set that is not understood is ignored, as in a file.
    const withExtra = { keys: [{ kty: "EC", crv: "P-256", x: "x", y: "y" }], extra: 1 };
    const accepted = check({ issuers: [{ ...issuer, jwks: withExtra }] });
    expect(accepted.reports).toEqual([]);
    expect(accepted.auth?.issuers[0]?.keys).toEqual({
      kind: "inline",
      keys: [{ kty: "EC", crv: "P-256", x: "x", y: "y" }],
    });
    expect(keysReports({ keys: ["k", { crv: "P-256" }] })).toEqual([
      "auth.issuers[0].jwks.keys[0]: must be an object",
      "auth.issuers[0].jwks.keys[1].kty: is required",
    ]);
    expect(
      keysReports({ keys: [{ kty: "EC", crv: "P-256", x: "x", y: "y", d: "private" }] }),
    ).toEqual([
      "auth.issuers[0].jwks.keys[0].d: is private key material; jwks holds public keys only (key)",
    ]);
    expect(keysReports({ keys: [{ kty: "oct", k: "c2VjcmV0" }] })).toEqual([
      "auth.issuers[0].jwks.keys[0].kty: symmetric (oct) keys do not belong in jwks; put an HMAC shared secret in secret",
      "auth.issuers[0].jwks.keys[0].k: is private key material; jwks holds public keys only (key)",
    ]);
  });

  test("algorithms: a non-empty list of known names, never none", () => {
    const algorithmReports = (algorithms: unknown) =>
      reportsOf({ issuers: [{ ...issuer, algorithms }] });
    expect(algorithmReports([])).toEqual(["auth.issuers[0].algorithms: must not be empty"]);
    expect(algorithmReports("ES256")).toEqual(["auth.issuers[0].algorithms: must be a list"]);
    expect(algorithmReports(["none", "None", "ES256"])).toEqual([
      'auth.issuers[0].algorithms[0]: is never accepted: a token with alg "none" is unsigned',
      'auth.issuers[0].algorithms[1]: is never accepted: a token with alg "none" is unsigned',
    ]);
    expect(algorithmReports(["es256", "ES256K"])).toEqual([
      "auth.issuers[0].algorithms[0]: must be one of: ES256, ES384, ES512, EdDSA, Ed25519, RS256, RS384, RS512, PS256, PS384, PS512, HS256, HS384, HS512",
      "auth.issuers[0].algorithms[1]: must be one of: ES256, ES384, ES512, EdDSA, Ed25519, RS256, RS384, RS512, PS256, PS384, PS512, HS256, HS384, HS512",
    ]);
  });

  test("HMAC only with secret, and secret only with HMAC", () => {
    expect(reportsOf({ issuers: [{ ...issuer, algorithms: ["ES256", "HS256"] }] })).toEqual([
      "auth.issuers[0].algorithms[1]: HS256 needs a secret instead of jwks: HMAC with a published key is forgeable",
    ]);
    const hmac = { issuer: "i", audience: "a", secret: SECRET };
    expect(reportsOf({ issuers: [{ ...hmac, algorithms: ["HS256", "RS256"] }] })).toEqual([
      "auth.issuers[0].algorithms[1]: RS256 needs jwks; a secret verifies HS256, HS384, HS512 only",
    ]);
  });

  test("a secret is long enough for the strongest HMAC allowed (RFC 7518 3.2)", () => {
    const hmac = (secret: unknown, algorithms?: string[]) =>
      check({
        issuers: [{ issuer: "i", audience: "a", secret, ...(algorithms ? { algorithms } : {}) }],
      });
    expect(hmac("x".repeat(32)).reports).toEqual([]);
    expect(hmac("x".repeat(31)).reports).toEqual([
      "auth.issuers[0].secret: must be at least 32 bytes for HS256 (RFC 7518 3.2)",
    ]);
    expect(hmac("x".repeat(63), ["HS256", "HS512"]).reports).toEqual([
      "auth.issuers[0].secret: must be at least 64 bytes for HS512 (RFC 7518 3.2)",
    ]);
    // Bytes, not characters: 11 three-byte characters are 33 bytes.
    expect(hmac("€".repeat(11)).reports).toEqual([]);
    expect(hmac("").reports).toEqual(["auth.issuers[0].secret: must not be empty"]);
    expect(hmac(12345).reports).toEqual(["auth.issuers[0].secret: must be a string, not a number"]);
  });

  test("clockTolerance is a duration of at most 5 minutes", () => {
    const toleranceReports = (clockTolerance: unknown) =>
      reportsOf({ issuers: [{ ...issuer, clockTolerance }] });
    expect(toleranceReports(30)).toEqual([
      "auth.issuers[0].clockTolerance: must be a duration such as 250ms, 5s, 1m, 1h or PT5S",
    ]);
    expect(toleranceReports("6m")).toEqual(["auth.issuers[0].clockTolerance: must be at most 5m"]);
  });

  test("unknown keys are errors pointing at the key", () => {
    expect(reportsOf({ issuers: [{ ...issuer, audiences: "x" }] })).toEqual([
      "auth.issuers[0].audiences: unknown key; expected one of: issuer, audience, jwks, secret, algorithms, clockTolerance (key)",
    ]);
  });
});

describe("parseAuth: publishers and admins", () => {
  const withPublisher = (publisher: unknown) => ({ issuers: [issuer], publishers: [publisher] });

  test("claims are required and list at least one claim", () => {
    expect(reportsOf(withPublisher({ sources: ["/a"] }))).toEqual([
      "auth.publishers[0].claims: is required",
    ]);
    expect(reportsOf(withPublisher({ claims: {} }))).toEqual([
      "auth.publishers[0].claims: must list at least one claim; a rule without claims matches every token",
    ]);
    expect(reportsOf(withPublisher({ claims: "sub=a" }))).toEqual([
      "auth.publishers[0].claims: must be an object",
    ]);
  });

  test("a scope or scp value holds at least one scope word", () => {
    // Split at spaces, a blank value asks for nothing: the rule would match any token with a scope.
    expect(
      reportsOf({
        issuers: [issuer],
        publishers: [{ claims: { scp: ["events:publish", "  "] } }],
        admins: [{ claims: { scope: " " } }],
      }),
    ).toEqual([
      "auth.publishers[0].claims.scp[1]: holds no scope, only spaces; it would match any token with this claim",
      "auth.admins[0].claims.scope: holds no scope, only spaces; it would match any token with this claim",
    ]);
    expect(check(withPublisher({ claims: { name: " " } })).reports).toEqual([]);
  });

  test("claim values are strings or non-empty lists of strings", () => {
    expect(
      reportsOf(
        withPublisher({ claims: { tier: 2, verified: true, groups: [], sub: null, x: [1] } }),
      ),
    ).toEqual([
      "auth.publishers[0].claims.tier: must be a string, not a number: quote it; quoted, it matches a number claim of that value too",
      "auth.publishers[0].claims.verified: must be a string, not a boolean: quote it; quoted, it matches a boolean claim of that value too",
      "auth.publishers[0].claims.groups: must not be empty",
      "auth.publishers[0].claims.sub: is required: a string or a list of strings",
      "auth.publishers[0].claims.x[0]: must be a string, not a number: quote it; quoted, it matches a number claim of that value too",
    ]);
    // Nested claims are not looked into: said, rather than "must be a string".
    expect(reportsOf(withPublisher({ claims: { realm_access: { roles: "admin" } } }))).toEqual([
      "auth.publishers[0].claims.realm_access: must be a string or a list of strings: rules match top-level claims only (a claim holding an object never matches)",
    ]);
  });

  test("sources and types are non-empty lists of non-empty strings", () => {
    expect(reportsOf(withPublisher({ claims: { sub: "a" }, sources: [], types: ["", 3] }))).toEqual(
      [
        "auth.publishers[0].sources: must not be empty",
        "auth.publishers[0].types[0]: must not be empty",
        "auth.publishers[0].types[1]: must be a string, not a number",
      ],
    );
    expect(reportsOf(withPublisher({ claims: { sub: "a" }, sources: "/a" }))).toEqual([
      "auth.publishers[0].sources: must be a list",
    ]);
  });

  test("a source or type glob no event can match (a control character) is refused", () => {
    expect(
      reportsOf(
        withPublisher({ claims: { sub: "a" }, sources: ["/a\tb"], types: ["ok", "x.*\n"] }),
      ),
    ).toEqual([
      "auth.publishers[0].sources[0]: must not contain control characters: no CloudEvents attribute can hold it, so it would never match",
      "auth.publishers[0].types[1]: must not contain control characters: no CloudEvents attribute can hold it, so it would never match",
    ]);
  });

  test("rate is a whole number of events per second or per minute", () => {
    for (const rate of [
      "500",
      "0/s",
      "05/s",
      "5/h",
      "1.5/s",
      "5 /s",
      "5/S",
      500,
      "99999999999999999/s",
    ]) {
      expect(reportsOf(withPublisher({ claims: { sub: "a" }, rate })), String(rate)).toEqual([
        "auth.publishers[0].rate: must be a rate such as 500/s or 30000/m (events per second or per minute)",
      ]);
    }
    expect(
      check(withPublisher({ claims: { sub: "a" }, rate: "1/m" })).auth?.publishers[0]?.rate,
    ).toEqual({ count: 1, periodMs: 60_000 });
  });

  test("unknown keys in rules", () => {
    expect(
      reportsOf({
        issuers: [issuer],
        publishers: [{ claims: { sub: "a" }, source: ["/a"] }],
        admins: [{ claims: { sub: "a" }, rate: "1/s" }, { claim: { sub: "b" } }],
      }),
    ).toEqual([
      "auth.publishers[0].source: unknown key; expected one of: claims, sources, types, rate (key)",
      "auth.admins[0].rate: unknown key; expected one of: claims (key)",
      "auth.admins[1].claim: unknown key; expected one of: claims (key)",
      "auth.admins[1].claims: is required",
    ]);
  });

  test("publishers and admins must be lists of objects", () => {
    expect(reportsOf({ issuers: [issuer], publishers: { claims: {} }, admins: ["root"] })).toEqual([
      "auth.publishers: must be a list",
      "auth.admins[0]: must be an object",
    ]);
  });

  test("maxTokenBytes is a positive integer", () => {
    expect(reportsOf({ issuers: [issuer], maxTokenBytes: 0 })).toEqual([
      "auth.maxTokenBytes: must be at least 1",
    ]);
    expect(reportsOf({ issuers: [issuer], maxTokenBytes: "8k" })).toEqual([
      "auth.maxTokenBytes: must be an integer",
    ]);
  });
});

describe("parseAuth in a config file", () => {
  test("errors name file, line, column and field", () => {
    expect(
      problems(
        "auth:",
        "  issuers:",
        "    - issuer: https://id.example.com",
        "      audience: herald",
        "      jwks: ./jwks.json",
        "      algorithms: [ES256, none, HS256]",
        "      clockTolerence: 5s",
        "  publishers:",
        "    - claims: { sub: orders-service }",
        "      sources: [/orders/*]",
        "      rate: 500/h",
        "  admin:",
        "    - claims: { scope: herald:admin }",
      ),
    ).toEqual([
      'herald.yaml:6:27 auth.issuers[0].algorithms[1]: is never accepted: a token with alg "none" is unsigned',
      "herald.yaml:6:33 auth.issuers[0].algorithms[2]: HS256 needs a secret instead of jwks: HMAC with a published key is forgeable",
      "herald.yaml:7:7 auth.issuers[0].clockTolerence: unknown key; expected one of: issuer, audience, jwks, secret, algorithms, clockTolerance",
      "herald.yaml:11:13 auth.publishers[0].rate: must be a rate such as 500/s or 30000/m (events per second or per minute)",
      "herald.yaml:12:3 auth.admin: unknown key; expected one of: issuers, publishers, admins, maxTokenBytes",
    ]);
  });

  test("an empty auth section is no auth section", () => {
    expect(parseConfig("auth:\n", "herald.yaml")).not.toHaveProperty("auth");
  });

  test("a secret never appears in an error message", () => {
    const issues = [
      problems(
        "auth:",
        "  issuers:",
        "    - { issuer: a, audience: b, secret: '${SECRET}', algorithms: [HS512, ES256] }",
      ),
      problems(
        "auth:",
        "  issuers:",
        "    - { issuer: a, audience: b, secret: '${SECRET}', jwks: ./jwks.json }",
      ),
      problems("auth:", "  issuers:", "    - { issuer: c, audience: b, secret: short }"),
      problems(
        "auth:",
        "  issuers:",
        "    - { issuer: a, audience: b, jwks: 'https://id.example.com/jwks?token=${SECRET}x y' }",
      ),
    ];
    for (const lines of issues) {
      expect(lines.length).toBeGreaterThan(0);
      for (const line of lines) {
        expect(line).not.toContain(SECRET);
        expect(line).not.toContain("short");
      }
    }
  });
});
