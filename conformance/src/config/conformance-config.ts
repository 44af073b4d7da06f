import { stringify } from "yaml";
import { DEFAULT_PUBLISHER_SUB } from "../auth/conformance-auth.js";
import { type ConformanceAdapter, conformanceAdapters } from "./adapters.js";
import { type ConformanceSubscription, conformanceSubscriptions } from "./subscriptions.js";

/** The limits the size cases assume (DESIGN.md defaults). */
export interface ConformanceLimits {
  readonly maxEventBytes: number;
  readonly maxBatchEvents: number;
}

/** DESIGN.md's default `limits`. */
export const DEFAULT_LIMITS: ConformanceLimits = { maxEventBytes: 262_144, maxBatchEvents: 100 };

/** A JSON Web Key Set (RFC 7517 5) of public keys, written inline in the config. */
export interface InlineJwks {
  readonly keys: readonly Readonly<Record<string, unknown>>[];
}

/** The token issuer a target trusts for an auth run (DESIGN.md `auth.issuers[]`). */
export interface ConformanceIssuer {
  /** The `iss` of the suite's tokens. */
  readonly issuer: string;
  /** The `aud` of the suite's tokens. */
  readonly audience: string;
  /** Public keys inline (`{ keys: [...] }`), or a JWKS file path or http(s) URL. */
  readonly jwks: InlineJwks | string;
  /** `algorithms` allow-list; absent, the gateway's default. */
  readonly algorithms?: readonly string[] | undefined;
  /** The `sub` of the suite's tokens, which the publisher rule names; default `conformance`. */
  readonly sub?: string | undefined;
  /**
   * The `sub` the `auth.admins` rule names (the Subscriptions API's tokens); default `sub`, so
   * one token does both. A different one lets the suite check that a publisher gets a 403 there.
   */
  readonly adminSub?: string | undefined;
}

/** Options of {@link conformanceConfig}. */
export interface ConformanceConfigOptions {
  /** The target's limits; default DESIGN.md's. */
  readonly limits?: ConformanceLimits | undefined;
  /** Adds an `auth` section trusting this issuer, so the target runs with authentication. */
  readonly auth?: ConformanceIssuer | undefined;
  /**
   * `false` leaves out what only Herald reads: the on-success subscriptions (`delivery.reply`,
   * `delivery.receipts`) and the `mapping` adapter. Such a target fails the `herald:` cases, so
   * run the suite with `--skip herald:`. Default `true`.
   */
  readonly herald?: boolean | undefined;
}

/** The `auth` section of an auth run's config. */
export interface ConformanceAuthSection {
  readonly issuers: readonly [
    {
      readonly issuer: string;
      readonly audience: string;
      readonly jwks: InlineJwks | string;
      readonly algorithms?: readonly string[];
    },
  ];
  /** One rule: the suite's `sub` may publish every source and type. */
  readonly publishers: readonly [{ readonly claims: { readonly sub: string } }];
  /** One rule: the admin `sub` may use the Subscriptions API. */
  readonly admins: readonly [{ readonly claims: { readonly sub: string } }];
}

/** A complete gateway config (DESIGN.md "Config" shape) for a conformance run. */
export interface ConformanceConfig {
  readonly limits: ConformanceLimits;
  readonly store: { readonly kind: "memory" };
  readonly auth?: ConformanceAuthSection;
  readonly subscriptions: readonly ConformanceSubscription[];
  /** The webhook adapters the webhook cases post to. */
  readonly adapters: readonly ConformanceAdapter[];
}

/**
 * JWK members that hold private or symmetric key material (RFC 7518 6.2.2, 6.3.2, 6.4; RFC 8037
 * 2). A config needs only public keys, and gateways refuse the others.
 */
const PRIVATE_MEMBERS = ["d", "p", "q", "dp", "dq", "qi", "oth", "k", "priv"];

/**
 * A ready-to-serve gateway config: the conformance subscriptions for `sinkBaseUrl`, the limits
 * the suite assumes, and an in-memory store (conformance runs need no durability). Without
 * `auth`, serve it with `--no-auth`. With `auth`, it trusts that issuer and lets its `sub`
 * publish every source and type, and its `adminSub` (default: that `sub`) use the Subscriptions
 * API; run the suite with a token that issuer signed for that `sub`.
 * Throws a TypeError when an inline key holds private material.
 *
 * @example
 * conformanceConfig("http://127.0.0.1:9999");
 * conformanceConfig("http://127.0.0.1:9999", {
 *   auth: { issuer: "https://id.example.test", audience: "herald", jwks: { keys: [publicJwk] } },
 * }).auth?.admins; // [{ claims: { sub: "conformance" } }]
 */
export function conformanceConfig(
  sinkBaseUrl: string,
  options: ConformanceConfigOptions = {},
): ConformanceConfig {
  const { limits = DEFAULT_LIMITS, auth, herald = true } = options;
  return {
    limits: { ...limits },
    store: { kind: "memory" },
    ...(auth === undefined ? {} : { auth: authSection(auth) }),
    subscriptions: conformanceSubscriptions(sinkBaseUrl, { herald }),
    adapters: conformanceAdapters(sinkBaseUrl, { herald }),
  };
}

function authSection(auth: ConformanceIssuer): ConformanceAuthSection {
  if (typeof auth.jwks !== "string") {
    if (!Array.isArray(auth.jwks?.keys)) throw new TypeError("auth.jwks must be { keys: [...] }");
    for (const key of auth.jwks.keys) {
      const secret = PRIVATE_MEMBERS.filter((member) => Object.hasOwn(key, member));
      if (secret.length > 0) {
        throw new TypeError(
          `auth.jwks holds private key material (${secret.join(", ")}); give the public keys only`,
        );
      }
    }
  }
  return {
    issuers: [
      {
        issuer: auth.issuer,
        audience: auth.audience,
        jwks: typeof auth.jwks === "string" ? auth.jwks : { keys: [...auth.jwks.keys] },
        ...(auth.algorithms === undefined ? {} : { algorithms: [...auth.algorithms] }),
      },
    ],
    publishers: [{ claims: { sub: auth.sub ?? DEFAULT_PUBLISHER_SUB } }],
    admins: [{ claims: { sub: auth.adminSub ?? auth.sub ?? DEFAULT_PUBLISHER_SUB } }],
  };
}

/**
 * {@link conformanceConfig} as YAML, for `herald serve --config`.
 *
 * @example
 * await writeFile("conformance.yaml", conformanceConfigYaml(sink.url));
 */
export function conformanceConfigYaml(
  sinkBaseUrl: string,
  options: ConformanceConfigOptions = {},
): string {
  const config = conformanceConfig(sinkBaseUrl, options);
  const serve =
    config.auth === undefined
      ? "Serve with --no-auth."
      : `Run the suite with --token <a token of ${config.auth.issuers[0].issuer} for sub ` +
        `${config.auth.publishers[0].claims.sub}>` +
        (config.auth.admins[0].claims.sub === config.auth.publishers[0].claims.sub
          ? "."
          : ` and --admin-token <one for sub ${config.auth.admins[0].claims.sub}>.`);
  const header =
    "# Herald conformance target config: generated by `herald-conformance config`.\n" +
    `# Sink: ${sinkBaseUrl}. ${serve}\n`;
  return (
    header +
    stringify(config, {
      lineWidth: 0,
      // Plain YAML any parser reads the same way: no anchors for the shared scope filter.
      aliasDuplicateObjects: false,
    })
  );
}
