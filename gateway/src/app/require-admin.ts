import type { MiddlewareHandler } from "hono";
import { isAdmin } from "../auth/is-admin.js";
import { Forbidden } from "../auth/policy-errors.js";
import type { PublisherAuth } from "../auth/publisher-auth.js";
import type { AdminRule } from "../config/auth-config.js";

/** Where the admin API lives (the Subscriptions API, issue 4, and what comes later). */
export const ADMIN_PATHS = ["/subscriptions", "/subscriptions/*", "/metrics"] as const;

/**
 * Hono middleware for admin routes: the same bearer-token verification as ingest, then the token
 * must match one of `auth.admins` (401 without a valid token, 403 without the admin rule). With
 * authentication off (`--no-auth`, or no `auth` in the config) it lets everything through, as
 * ingest does.
 *
 * @example
 * for (const path of ADMIN_PATHS) app.use(path, requireAdmin(auth, config.auth?.admins ?? []));
 */
export function requireAdmin(
  auth: PublisherAuth | undefined,
  admins: readonly AdminRule[],
): MiddlewareHandler {
  return async function requireAdminToken(c, next) {
    if (auth !== undefined) {
      const claims = await auth.authenticate({
        authorization: c.req.header("authorization"),
        url: c.req.url,
      });
      if (!isAdmin(claims, admins)) {
        throw new Forbidden("this token may not use the admin API: no auth.admins rule matches it");
      }
    }
    await next();
  };
}
