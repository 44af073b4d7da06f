import type { Context } from "hono";

/**
 * The answer to `OPTIONS` on an API resource: 204 with the methods it allows (the Subscriptions
 * API's discovery, spec 3.2.5).
 *
 * @example
 * app.options("/subscriptions", (c) => answerAllow(c, ["GET", "POST", "OPTIONS"]));
 */
export function answerAllow(c: Context, methods: readonly string[]): Response {
  c.header("allow", methods.join(", "));
  return c.body(null, 204);
}
