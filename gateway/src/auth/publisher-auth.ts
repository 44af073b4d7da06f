import type { AuthConfig, IssuerKeys } from "../config/auth-config.js";
import type { CloudEvent } from "../event/cloud-event.js";
import { type Clock, systemClock } from "../ports/clock.js";
import type { FetchLike } from "../ports/fetch.js";
import { type Logger, silentLogger } from "../ports/logger.js";
import { type BearerCarrier, extractBearerToken } from "./bearer-token.js";
import type { TokenClaims } from "./claims-match.js";
import { createInlineKeySource } from "./inline-key-source.js";
import type { KeySource } from "./key-source.js";
import { InsufficientScope } from "./policy-errors.js";
import { createPublisherPolicy, type PublisherGrant } from "./publisher-policy.js";
import { createRemoteKeySource } from "./remote-key-source.js";
import { createSecretKeySource } from "./secret-key-source.js";
import { createVerifiedTokenCache, type TokenDigest } from "./verified-token-cache.js";
import { createTokenVerifier } from "./verify-token.js";

/** Publisher authentication and authorisation for ingest, built once from `auth`. */
export interface PublisherAuth {
  /** The verified claims of the request's bearer token, or a 400/401/503 error. */
  authenticate(carrier: BearerCarrier): Promise<TokenClaims>;
  /**
   * Throws 403 (`InsufficientScope`) when no publisher rule matches the token at all: it may
   * publish nothing, so its body is not read (nor checked, which would tell a stranger what the
   * gateway accepts).
   */
  admit(claims: TokenClaims): PublisherGrant;
  /**
   * Throws 403 (`Forbidden`) or 429 (`RateLimited`) unless the token may publish every event;
   * `grant` is what `admit` answered for the same claims.
   */
  authorize(claims: TokenClaims, events: readonly CloudEvent[], grant?: PublisherGrant): void;
  /**
   * Fetches the issuers' JWKS URLs now (all at once), so the first token does not wait for them
   * and an unreachable one is logged at start. Resolves when every fetch ended; never rejects.
   */
  warmUp(): Promise<void>;
}

export interface PublisherAuthOptions {
  readonly clock?: Clock;
  /** For JWKS URLs; default the global `fetch`. */
  readonly fetch?: FetchLike;
  readonly logger?: Logger;
  /**
   * Key sources the runtime resolves itself (the Node adapter reads `jwks` files); return
   * `undefined` for the kinds the core handles (inline, URL, secret).
   */
  readonly keySourceFor?: (keys: IssuerKeys) => KeySource | undefined;
  /** Hash of tokens for the verified-token cache (Node passes a fast `node:crypto` one). */
  readonly tokenDigest?: TokenDigest;
}

/**
 * Wires the auth library for ingest: verifiers for every issuer (with the verified-token cache),
 * the publisher policy and its rate limits. Options are checked here, once.
 *
 * @example
 * const auth = createPublisherAuth(config.auth, { clock });
 * const claims = await auth.authenticate({ authorization: request.headers.get("authorization") ?? undefined, url: request.url });
 * auth.authorize(claims, events);
 */
export function createPublisherAuth(
  config: AuthConfig,
  options: PublisherAuthOptions = {},
): PublisherAuth {
  const { clock = systemClock, logger = silentLogger } = options;
  const fetchLike: FetchLike = options.fetch ?? ((request) => fetch(request));
  const keySource = (keys: IssuerKeys): KeySource => {
    const custom = options.keySourceFor?.(keys);
    if (custom !== undefined) return custom;
    switch (keys.kind) {
      case "inline":
        return createInlineKeySource({ keys: keys.keys as never });
      case "url":
        return createRemoteKeySource({ url: keys.url, fetch: fetchLike, clock, logger });
      case "secret":
        return createSecretKeySource(keys.secret);
      case "file":
        throw new TypeError(
          "createPublisherAuth: jwks files are read by the runtime adapter (pass keySourceFor)",
        );
    }
  };
  const sources = config.issuers.map((issuer) => keySource(issuer.keys));
  const verifier = createTokenVerifier({
    issuers: config.issuers.map((issuer, i) => ({
      issuer: issuer.issuer,
      audience: issuer.audience,
      keys: sources[i] as KeySource,
      algorithms: issuer.algorithms,
      clockToleranceSec: issuer.clockToleranceMs / 1000,
    })),
    maxTokenBytes: config.maxTokenBytes,
    cache: createVerifiedTokenCache({
      clock,
      ...(options.tokenDigest ? { digest: options.tokenDigest } : {}),
    }),
    clock,
  });
  const policy = createPublisherPolicy(config.publishers, { clock });
  return {
    async authenticate(carrier) {
      const token = extractBearerToken(carrier, { maxTokenBytes: config.maxTokenBytes });
      return (await verifier.verify(token)).claims;
    },
    admit(claims) {
      const grant = policy.match(claims);
      if (grant === undefined) throw new InsufficientScope("no publisher rule matches this token");
      return grant;
    },
    authorize(claims, events, grant) {
      policy.authorize(claims, events, grant);
    },
    async warmUp() {
      await Promise.allSettled(sources.map((source) => source.warmUp?.()));
    },
  };
}
