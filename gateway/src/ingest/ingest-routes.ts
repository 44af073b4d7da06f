import type { Hono } from "hono";
import type { Limits } from "../config/herald-config.js";
import { MethodNotAllowed, Unavailable } from "../errors/errors.js";
import type { CloudEvent } from "../event/cloud-event.js";
import type { Logger } from "../ports/logger.js";
import type { AcceptResult } from "../routing/accept-events.js";
import { parseRequest } from "./parse-request.js";
import { webhookHandshake } from "./webhook-handshake.js";

/** Paths that accept events (DESIGN.md "HTTP surface"). */
export const INGEST_PATHS = ["/events", "/"] as const;
const ALLOW = ["POST", "OPTIONS"] as const;

export interface IngestOptions {
  readonly limits: Limits;
  readonly accept: (events: readonly CloudEvent[]) => Promise<AcceptResult>;
  readonly accepting: () => boolean;
  readonly logger: Logger;
}

/**
 * Mounts the ingest endpoints: `POST` accepts events in any content mode and answers 202 once
 * they are accepted; `OPTIONS` answers the webhook handshake; any other method is 405 with `Allow`.
 *
 * @example
 * mountIngest(app, { limits, accept, accepting: () => true, logger });
 */
export function mountIngest(app: Hono, options: IngestOptions): void {
  const { limits, accept, accepting, logger } = options;
  for (const path of INGEST_PATHS) {
    app.post(path, async function ingest(c) {
      if (!accepting()) throw new Unavailable("the gateway is shutting down");
      const { mode, events } = await parseRequest(c.req.raw, limits);
      const result = await accept(events);
      logger.debug("accepted", { mode, events: result.events, deliveries: result.deliveries });
      return c.body(null, 202);
    });
    app.options(path, (c) => webhookHandshake(c.req.raw, ALLOW));
    app.all(path, (c) => {
      throw new MethodNotAllowed(c.req.method, ALLOW);
    });
  }
}
