import { type ClaimsRule, SPACE_SEPARATED_CLAIMS } from "../config/auth-config.js";

/** The payload of a verified token (jose's `JWTPayload` is one). */
export type TokenClaims = Readonly<Record<string, unknown>>;

/** Tells whether a verified token's claims satisfy a compiled `ClaimsRule`. */
export type ClaimsMatcher = (claims: TokenClaims) => boolean;

interface Requirement {
  readonly name: string;
  /** Every one must be present in the claim. */
  readonly values: readonly string[];
  readonly split: boolean;
}

/**
 * Compiles a rule's `claims` once. A token matches when every listed claim is satisfied:
 * - a listed string must be present in the claim: equal to a string claim, equal to the string
 *   form of a number or boolean claim (`42`, `true`), or an element of an array claim;
 * - a listed list means every value in it must be present;
 * - `scope` and `scp` given as a string are split at spaces first, so `scope: herald:admin`
 *   matches `"openid herald:admin"`; a listed value with spaces asks for each of its words.
 * A claim that is absent, `null` or an object never matches. Only the token's own claims count.
 * A claim listed with no value to ask for (an empty list, or a `scope` of spaces only) would
 * match any token that merely has the claim: that is a `TypeError`.
 *
 * @example
 * const matches = compileClaimsMatcher({ sub: "orders-service", groups: ["eu", "billing"] });
 * matches({ sub: "orders-service", groups: ["billing", "eu", "ops"] }); // true
 * matches({ sub: "orders-service", groups: ["eu"] }); // false: billing is missing
 */
export function compileClaimsMatcher(rule: ClaimsRule): ClaimsMatcher {
  const requirements = Object.entries(rule).map(([name, listed]): Requirement => {
    const split = SPACE_SEPARATED_CLAIMS.has(name);
    const given = typeof listed === "string" ? [listed] : [...listed];
    const values = split ? given.flatMap(words) : given;
    if (values.length === 0) {
      throw new TypeError(`claims.${name} asks for no value; it would match any token with it`);
    }
    return { name, split, values };
  });
  return (claims) =>
    requirements.every(({ name, values, split }) => {
      const present = presentValues(claims, name, split);
      return present !== undefined && values.every((value) => present.has(value));
    });
}

const compiled = new WeakMap<ClaimsRule, ClaimsMatcher>();

/**
 * `compileClaimsMatcher(rule)(claims)`, compiling each rule object once.
 *
 * @example
 * claimsMatch({ scope: "herald:admin" }, { sub: "ops", scope: "openid herald:admin" }); // true
 */
export function claimsMatch(rule: ClaimsRule, claims: TokenClaims): boolean {
  let matcher = compiled.get(rule);
  if (matcher === undefined) {
    matcher = compileClaimsMatcher(rule);
    compiled.set(rule, matcher);
  }
  return matcher(claims);
}

/** The values a claim holds, as strings; `undefined` when it holds nothing comparable. */
function presentValues(
  claims: TokenClaims,
  name: string,
  split: boolean,
): ReadonlySet<string> | undefined {
  // Own claims only: a claim named `constructor` must not find Object's.
  if (!Object.hasOwn(claims, name)) return undefined;
  const value = claims[name];
  if (typeof value === "string") return new Set(split ? words(value) : [value]);
  if (typeof value === "number" || typeof value === "boolean") return new Set([String(value)]);
  if (!Array.isArray(value)) return undefined;
  const present = new Set<string>();
  for (const item of value) {
    if (typeof item === "string" || typeof item === "number" || typeof item === "boolean") {
      present.add(String(item));
    }
  }
  return present;
}

/** RFC 6749 3.3: scope tokens are separated by one space (runs of them are tolerated). */
function words(text: string): string[] {
  return text.split(" ").filter((word) => word !== "");
}
