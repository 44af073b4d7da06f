import type { Context } from "hono";
import type { TokenClaims } from "./claims-match.js";

declare module "hono" {
  interface ContextVariableMap {
    /** The `sub` claim of the admin token that let the request in (see `adminSubject`). */
    adminSubject?: string;
  }
}

/**
 * Keeps who an admin request comes from: the `sub` claim of its verified admin token, when it
 * has one (`requireAdmin` calls it once the token matched an `auth.admins` rule).
 *
 * @example
 * rememberAdmin(c, claims);
 */
export function rememberAdmin(c: Context, claims: TokenClaims): void {
  if (typeof claims.sub === "string") c.set("adminSubject", claims.sub);
}

/**
 * Who made an admin request, for the log line of what it changed: `{ admin: sub }` of the token
 * `rememberAdmin` kept, or `{}` when that is not known (authentication off, a token without
 * `sub`), so the field is left out rather than logged empty.
 *
 * @example
 * logger.info("deleted dead deliveries", { subscriptionId, deleted, ...adminSubject(c) });
 */
export function adminSubject(c: Context): { readonly admin?: string } {
  const admin = c.get("adminSubject");
  return admin === undefined ? {} : { admin };
}
