import type { Context } from "hono";

/**
 * The answer to `OPTIONS` on an API resource: 200 with the methods it allows in `Allow` and no
 * content (the Subscriptions API's discovery, spec 3.2.5; its OpenAPI document,
 * `subscriptions-openapi.yaml`, answers `getFeatures` and `getSubscriptionFeatures` with 200, so a
 * client generated from it takes a 204 for an undocumented status).
 *
 * @example
 * app.options("/subscriptions", (c) => answerAllow(c, ["GET", "POST", "OPTIONS"]));
 */
export function answerAllow(c: Context, methods: readonly string[]): Response {
  c.header("allow", methods.join(", "));
  // RFC 9110 9.3.7: a 200 to OPTIONS without content MUST carry Content-Length: 0 (a null body
  // alone goes out chunked on Node).
  c.header("content-length", "0");
  return c.body(null, 200);
}
