import type { TokenClaims } from "../auth/claims-match.js";
import {
  formatRecordedTime,
  withProvenance,
  withUnauthenticatedProvenance,
} from "../auth/provenance.js";
import type { CloudEvent } from "../event/cloud-event.js";
import type { WebhookAdapter } from "./webhook-adapter.js";

/**
 * Stamps the gateway's provenance on an adapter's events, as `POST /events` does: `recordedtime`
 * and the authcontext extension. A publisher JWT gives the token's principal (`withProvenance`);
 * the adapter's own scheme gives its `authtype` (`api_key` for a shared secret, `system` for
 * SNS) with `authid` = the adapter id, a label for the key rather than the key (authcontext:
 * "some indirect reference (e.g. a hash or label of an API key)"); with neither, `unauthenticated`.
 *
 * @example
 * stampWebhookEvents(events, adapter, undefined, clock.now());
 */
export function stampWebhookEvents(
  events: readonly CloudEvent[],
  adapter: WebhookAdapter,
  claims: TokenClaims | undefined,
  recordedAt: number,
): CloudEvent[] {
  if (claims !== undefined)
    return events.map((event) => withProvenance(event, { claims, recordedAt }));
  const auth = adapter.auth;
  if (auth.scheme === "publisher") {
    return events.map((event) => withUnauthenticatedProvenance(event, { recordedAt }));
  }
  const recordedtime = formatRecordedTime(recordedAt);
  return events.map((event) => {
    const attributes = {
      ...event.attributes,
      recordedtime,
      authtype: auth.authtype,
      authid: adapter.id,
    };
    return event.data === undefined ? { attributes } : { attributes, data: event.data };
  });
}
