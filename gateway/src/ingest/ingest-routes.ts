import type { Hono } from "hono";
import { successHeaders } from "../auth/bearer-token.js";
import { MethodNotAllowed } from "../errors/errors.js";
import type { IngestHandler } from "./handle-ingest.js";
import { rawHeadersOf, requestSource } from "./ingest-source.js";
import { webhookHandshake } from "./webhook-handshake.js";

/** Paths that accept events (DESIGN.md "HTTP surface"). */
export const INGEST_PATHS = ["/events", "/"] as const;
/** Methods the ingest paths answer. */
export const INGEST_ALLOW = ["POST", "OPTIONS"] as const;

/**
 * Mounts the ingest endpoints: `POST` accepts events in any content mode and answers 202 once
 * they are accepted; `OPTIONS` answers the webhook handshake; any other method is 405 with `Allow`.
 *
 * @example
 * mountIngest(app, createIngestHandler({ limits, accept, gate: createPublishGate(), logger }));
 */
export function mountIngest(app: Hono, ingest: IngestHandler): void {
  for (const path of INGEST_PATHS) {
    app.post(path, async (c) => {
      // On Node the header lines as received come in the env, so repeats stay visible.
      await ingest(requestSource(c.req.raw, rawHeadersOf(c.env)));
      return c.body(null, 202, successHeaders(c.req.url));
    });
    app.options(path, (c) => webhookHandshake(c.req.raw, INGEST_ALLOW));
    app.all(path, (c) => {
      throw new MethodNotAllowed(c.req.method, INGEST_ALLOW);
    });
  }
}
