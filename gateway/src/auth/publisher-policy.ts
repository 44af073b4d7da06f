import type { PublisherRule } from "../config/auth-config.js";
import type { Violation } from "../errors/errors.js";
import { attributeString, type CloudEvent } from "../event/cloud-event.js";
import type { Clock } from "../ports/clock.js";
import { type ClaimsMatcher, compileClaimsMatcher, type TokenClaims } from "./claims-match.js";
import { compileGlobList, type GlobMatcher } from "./glob.js";
import { InsufficientScope, RateLimited } from "./policy-errors.js";
import { createRateLimiter, type RateLimiter } from "./rate-limiter.js";

/** The rule that let a token publish, and where it sits in `auth.publishers`. */
export interface PublisherGrant {
  readonly index: number;
  readonly rule: PublisherRule;
}

export interface PublisherPolicy {
  /** The first rule whose claims the token satisfies, or `undefined`. */
  match(claims: TokenClaims): PublisherGrant | undefined;
  /**
   * Lets a request's events through or throws: `InsufficientScope` (a `Forbidden`) when no rule matches or any event is
   * outside the rule (every event is checked; the error names each offender), then `RateLimited`
   * when the rule has a `rate` and the publisher has not enough tokens for every event. `grant`:
   * the rule `match` already found for these claims (not looked for again).
   */
  authorize(
    claims: TokenClaims,
    events: readonly CloudEvent[],
    grant?: PublisherGrant,
  ): PublisherGrant;
}

export interface PublisherPolicyOptions {
  /** Clock of the rate limiters (default: the system clock). */
  readonly clock?: Clock;
  /** Most publishers tracked per rate-limited rule (see `createRateLimiter`). */
  readonly maxRateKeys?: number;
}

interface CompiledRule {
  readonly grant: PublisherGrant;
  readonly claims: ClaimsMatcher;
  readonly sources?: GlobMatcher;
  readonly types?: GlobMatcher;
  readonly limiter?: RateLimiter;
}

/** Violations listed in `detail`; the problem document's `errors` holds all of them. */
const SHOWN = 5;

/**
 * Compiles `auth.publishers` once (DESIGN.md: first match wins; no match -> 403). `authorize` is
 * all-or-nothing over a batch: one event outside the rule refuses the request, and tokens are
 * taken only for a request that passed, one per event.
 *
 * Rates are per rule *and* per publisher: each token subject (`iss` + `sub`) matching a rule has
 * its own bucket of the rule's `rate`, so one noisy publisher cannot starve the others that share
 * a rule (a rule such as `{ scope: events:publish }` may cover hundreds of them).
 *
 * @example
 * const policy = createPublisherPolicy(config.auth.publishers);
 * const grant = policy.authorize(token.claims, events); // throws Forbidden | RateLimited
 */
export function createPublisherPolicy(
  rules: readonly PublisherRule[],
  options: PublisherPolicyOptions = {},
): PublisherPolicy {
  const compiled = rules.map((rule, index): CompiledRule => {
    const { sources, types, rate } = rule;
    return {
      grant: { index, rule },
      claims: compileClaimsMatcher(rule.claims),
      ...(sources === undefined ? {} : { sources: compileGlobList(sources) }),
      ...(types === undefined ? {} : { types: compileGlobList(types) }),
      ...(rate === undefined ? {} : { limiter: createLimiter(rate, options) }),
    };
  });
  const find = (claims: TokenClaims) => compiled.find((rule) => rule.claims(claims));

  return {
    match: (claims) => find(claims)?.grant,
    authorize(claims, events, grant) {
      const rule = grant === undefined ? find(claims) : compiled[grant.index];
      if (rule === undefined) throw new InsufficientScope("no publisher rule matches this token");
      const violations: Violation[] = [];
      events.forEach((event, index) => {
        for (const attribute of ["source", "type"] as const) {
          const allowed = attribute === "source" ? rule.sources : rule.types;
          if (allowed !== undefined && !allowed(attributeString(event, attribute) ?? "")) {
            const message = "is not one this publisher may publish";
            violations.push({ attribute, index, message });
          }
        }
      });
      if (violations.length > 0) throw forbiddenEvents(violations, events.length);
      const decision = rule.limiter?.take(publisherKey(claims), events.length);
      if (decision !== undefined && !decision.ok) {
        throw new RateLimited(decision.retryAfterSeconds);
      }
      return rule.grant;
    },
  };
}

function createLimiter(rate: NonNullable<PublisherRule["rate"]>, options: PublisherPolicyOptions) {
  const { clock, maxRateKeys } = options;
  return createRateLimiter({
    rate,
    ...(clock === undefined ? {} : { clock }),
    ...(maxRateKeys === undefined ? {} : { maxKeys: maxRateKeys }),
  });
}

/**
 * The bucket key of a publisher: its issuer and subject (a `sub` is unique only per issuer). A
 * token without `sub` falls back to the client (`azp`, `client_id`) it was issued to.
 */
function publisherKey(claims: TokenClaims): string {
  const text = (name: string) => {
    const value = Object.hasOwn(claims, name) ? claims[name] : undefined;
    return typeof value === "string" ? value : undefined;
  };
  const who = text("sub") ?? text("azp") ?? text("client_id") ?? "";
  return JSON.stringify([text("iss") ?? "", who]);
}

function forbiddenEvents(violations: readonly Violation[], events: number): InsufficientScope {
  // "event 0:" only where there are several to tell apart (a batch, a webhook's records).
  const shown = violations
    .slice(0, SHOWN)
    .map(({ index, attribute, message }) =>
      events === 1 ? `${attribute} ${message}` : `event ${index}: ${attribute} ${message}`,
    );
  const more = violations.length > SHOWN ? ` (and ${violations.length - SHOWN} more)` : "";
  return new InsufficientScope(`${shown.join("; ")}${more}`, violations);
}
