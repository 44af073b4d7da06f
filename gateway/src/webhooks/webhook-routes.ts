import type { Hono } from "hono";
import { MethodNotAllowed } from "../errors/errors.js";
import type { WebhookHandler } from "./handle-webhook.js";

/** The route of every adapter (DESIGN.md "HTTP surface"). */
export const WEBHOOK_PATH = "/webhooks/:adapterId";

/**
 * Mounts `POST /webhooks/{adapter-id}`: 202 when the payload's events are accepted, 204 for a
 * provider's set-up message (GitHub `ping`, `s3:TestEvent`); other methods are 405 with `Allow`.
 *
 * @example
 * mountWebhooks(app, createWebhookHandler({ adapters, limits, auth, clock, accept, accepting, logger }));
 */
export function mountWebhooks(app: Hono, handle: WebhookHandler): void {
  app.post(WEBHOOK_PATH, async (c) => {
    const outcome = await handle(c.req.param("adapterId"), c.req.raw);
    return c.body(null, outcome.status);
  });
  app.all(WEBHOOK_PATH, (c) => {
    throw new MethodNotAllowed(c.req.method, ["POST"]);
  });
}
