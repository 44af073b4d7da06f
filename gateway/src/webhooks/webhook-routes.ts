import type { Hono } from "hono";
import { successHeaders } from "../auth/bearer-token.js";
import { MethodNotAllowed, NotFound } from "../errors/errors.js";
import { webhookHandshake } from "../ingest/webhook-handshake.js";
import type { WebhookHandler } from "./handle-webhook.js";

/** The route of every adapter (DESIGN.md "HTTP surface"). */
export const WEBHOOK_PATH = "/webhooks/:adapterId";

/** Methods a configured adapter's path answers. */
const WEBHOOK_ALLOW = ["POST", "OPTIONS"] as const;

/**
 * Mounts `POST /webhooks/{adapter-id}`: 202 when the payload's events are accepted, 204 for a
 * provider's set-up message (GitHub `ping`, `s3:TestEvent`). `OPTIONS` on a configured adapter's
 * path answers the CloudEvents webhook handshake, as on `/events` (it is an ingest path too);
 * other methods are 405 with `Allow`; an unknown adapter is 404 whatever the method.
 *
 * @example
 * mountWebhooks(app, createWebhookHandler({ adapters, limits, auth, clock, accept, gate, logger }), adapters);
 */
export function mountWebhooks(
  app: Hono,
  handle: WebhookHandler,
  adapters: ReadonlyMap<string, unknown>,
): void {
  app.post(WEBHOOK_PATH, async (c) => {
    const outcome = await handle(c.req.param("adapterId"), c.req.raw);
    // A 202 is framed as the one of `/events` is: an empty body of length 0, not an empty chunked
    // one (a 204 has neither, RFC 9110 8.6).
    const length = outcome.status === 202 ? { "content-length": "0" } : {};
    return c.body(null, outcome.status, { ...successHeaders(c.req.url), ...length });
  });
  app.options(WEBHOOK_PATH, (c) => {
    configured(c.req.param("adapterId"));
    return webhookHandshake(c.req.raw, WEBHOOK_ALLOW);
  });
  app.all(WEBHOOK_PATH, (c) => {
    // An id no adapter has is no resource at all, whatever the method (as POST and OPTIONS say).
    configured(c.req.param("adapterId"));
    throw new MethodNotAllowed(c.req.method, WEBHOOK_ALLOW);
  });

  function configured(adapterId: string): void {
    if (!adapters.has(adapterId)) {
      throw new NotFound(`no adapter ${JSON.stringify(adapterId)} is configured`);
    }
  }
}
