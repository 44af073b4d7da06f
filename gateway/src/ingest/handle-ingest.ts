import type { Limits } from "../config/herald-config.js";
import { Unavailable } from "../errors/errors.js";
import type { CloudEvent } from "../event/cloud-event.js";
import type { Logger } from "../ports/logger.js";
import type { AcceptResult } from "../routing/accept-events.js";
import type { IngestSource } from "./ingest-source.js";
import { parseRequest } from "./parse-request.js";

export interface IngestOptions {
  readonly limits: Limits;
  readonly accept: (events: readonly CloudEvent[]) => Promise<AcceptResult>;
  readonly accepting: () => boolean;
  readonly logger: Logger;
}

/** Takes one ingest request; resolves when its events are accepted, or throws a coded error. */
export type IngestHandler = (source: IngestSource) => Promise<AcceptResult>;

/**
 * The whole of `POST /events`, shared by every transport: refuse while shutting down, parse and
 * validate the events, accept them (all or nothing). The caller answers 202 when it resolves and
 * turns a rejection into problem details.
 *
 * @example
 * const ingest = createIngestHandler({ limits, accept, accepting: () => true, logger });
 * await ingest(requestSource(request));
 */
export function createIngestHandler(options: IngestOptions): IngestHandler {
  const { limits, accept, accepting, logger } = options;
  return async function ingest(source) {
    if (!accepting()) throw new Unavailable("the gateway is shutting down");
    const { mode, events } = await parseRequest(source, limits);
    const result = await accept(events);
    logger.debug("accepted", { mode, events: result.events, deliveries: result.deliveries });
    return result;
  };
}
