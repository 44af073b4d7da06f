import type { MiddlewareHandler } from "hono";
import { rememberAdmin } from "../auth/admin-subject.js";
import { successHeaders } from "../auth/bearer-token.js";
import { isAdmin } from "../auth/is-admin.js";
import { InsufficientScope } from "../auth/policy-errors.js";
import type { PublisherAuth } from "../auth/publisher-auth.js";
import type { AdminRule } from "../config/auth-config.js";

/**
 * Where the admin API lives: the Subscriptions API (issue 4), the metrics and the store's backup
 * (a copy of every event and subscription it holds).
 */
export const ADMIN_PATHS = [
  "/subscriptions",
  "/subscriptions/*",
  "/metrics",
  "/store/backup",
] as const;

/**
 * Hono middleware for admin routes: the same bearer-token verification as ingest, then the token
 * must match one of `auth.admins` (401 without a valid token, 403 without the admin rule); its
 * `sub` is kept for the log lines of admin actions (`adminSubject`). With authentication off
 * (`--no-auth`, or no `auth` in the config) it lets everything through, as ingest does. A success
 * answer to a request whose URL holds the token (`?access_token=`, RFC 6750 2.3) gets
 * `Cache-Control: private` added to what the route set, as ingest answers do.
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
        throw new InsufficientScope(
          "this token may not use the admin API: no auth.admins rule matches it",
        );
      }
      rememberAdmin(c, claims);
    }
    await next();
    const added = successHeaders(c.req.url)["cache-control"];
    if (added !== undefined && c.res.status >= 200 && c.res.status < 300) {
      // Idempotent: `/subscriptions` matches both `/subscriptions` and `/subscriptions/*`.
      const own = c.res.headers.get("cache-control");
      if (own === null) c.res.headers.set("cache-control", added);
      else if (!/(^|,)\s*private\s*(,|$)/i.test(own)) {
        c.res.headers.set("cache-control", `${own}, ${added}`);
      }
    }
  };
}
