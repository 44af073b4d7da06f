import { withProvenance, withUnauthenticatedProvenance } from "../auth/provenance.js";
import type { PublisherAuth } from "../auth/publisher-auth.js";
import { Unavailable } from "../errors/errors.js";
import type { CloudEvent } from "../event/cloud-event.js";
import type { Clock } from "../ports/clock.js";
import type { Logger } from "../ports/logger.js";
import type { AcceptResult } from "../routing/accept-events.js";
import type { IngestSource } from "./ingest-source.js";
import { type IngestLimits, parseRequest } from "./parse-request.js";

export interface IngestOptions {
  readonly limits: IngestLimits;
  /** Publisher authentication; `undefined` accepts anyone (`--no-auth`). */
  readonly auth: PublisherAuth | undefined;
  readonly clock: Clock;
  readonly accept: (events: readonly CloudEvent[]) => Promise<AcceptResult>;
  readonly accepting: () => boolean;
  readonly logger: Logger;
}

/** Takes one ingest request; resolves when its events are accepted, or throws a coded error. */
export type IngestHandler = (source: IngestSource) => Promise<AcceptResult>;

/**
 * The whole of `POST /events`, shared by every transport: refuse while shutting down;
 * authenticate the publisher before reading the body (401/503); parse and validate the events;
 * check the publisher may publish each of them (403/429, all or nothing); stamp the gateway's
 * provenance (`recordedtime`, authcontext), replacing whatever the publisher sent there; accept
 * them. The caller answers 202 when it resolves and turns a rejection into problem details.
 *
 * @example
 * const ingest = createIngestHandler({ limits, auth: undefined, clock, accept, accepting: () => true, logger });
 * await ingest(requestSource(request));
 */
export function createIngestHandler(options: IngestOptions): IngestHandler {
  const { limits, auth, clock, accept, accepting, logger } = options;
  return async function ingest(source) {
    if (!accepting()) throw new Unavailable("the gateway is shutting down");
    const claims = auth
      ? await auth.authenticate({ authorization: source.header("authorization"), url: source.url })
      : undefined;
    const { mode, events } = await parseRequest(source, limits);
    if (claims) auth?.authorize(claims, events);
    const recordedAt = clock.now();
    const stamped = events.map((event) =>
      claims
        ? withProvenance(event, { claims, recordedAt })
        : withUnauthenticatedProvenance(event, { recordedAt }),
    );
    const result = await accept(stamped);
    logger.debug("accepted", { mode, events: result.events, deliveries: result.deliveries });
    return result;
  };
}
