import type { AdminRule } from "../config/auth-config.js";
import { claimsMatch, type TokenClaims } from "./claims-match.js";

/**
 * True when a verified token satisfies the claims of any `auth.admins` rule (claims are matched as
 * for publishers: equality, arrays contain, `scope`/`scp` split at spaces). No rules: nobody is an
 * administrator. The admin routes answer 401 without a token and 403 (`Forbidden`) when this is
 * false.
 *
 * @example
 * isAdmin({ sub: "ops", scope: "openid herald:admin" }, [{ claims: { scope: "herald:admin" } }]); // true
 */
export function isAdmin(claims: TokenClaims, adminRules: readonly AdminRule[]): boolean {
  return adminRules.some((rule) => claimsMatch(rule.claims, claims));
}
