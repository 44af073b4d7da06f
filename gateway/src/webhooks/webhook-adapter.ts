import type { AuthType } from "../auth/provenance.js";
import type { CloudEvent } from "../event/cloud-event.js";

/** What an adapter gets of one webhook request. */
export interface WebhookRequest {
  /** A request header by name (case-insensitive); repeated headers joined with ", ". */
  header(name: string): string | undefined;
  /** The request URL (absolute). */
  readonly url: URL;
  /** The raw body, exactly as received (signatures are computed over these bytes). */
  readonly body: Uint8Array;
  /** The lower-cased media type of the body (`application/json`). */
  readonly mediaType: string;
  /** The body parsed as JSON (UTF-8), once; throws `MalformedRequest` (400) when it is not. */
  json(): unknown;
  /** The body as UTF-8 text; throws `MalformedRequest` when it is not UTF-8. */
  text(): string;
  /** When the gateway received the request (clock ms): "Current time" in the adapter documents. */
  readonly receivedAt: number;
  /**
   * The most events one payload may become (`limits.maxBatchEvents`). An adapter whose payload
   * is a list of records counts them with `checkRecordCount` before it normalises any.
   */
  readonly maxRecords: number;
}

/**
 * What a payload became: CloudEvents to accept (all or nothing), or a provider's set-up message
 * that carries no event (GitHub `ping`, S3 `s3:TestEvent`), acknowledged with 204. An empty list
 * of events (`{"Records":[]}`) is nothing to store either, and is answered 204 as well.
 */
export type Normalised =
  | { readonly kind: "events"; readonly events: readonly CloudEvent[] }
  | { readonly kind: "acknowledge"; readonly reason: string };

/**
 * How a webhook of this kind is authenticated:
 * - `signature`: by the provider's own scheme (`verify`); the events carry `authtype` (below) and
 *   `authid` = the adapter id;
 * - `publisher`: by a publisher JWT, as on `POST /events`, and the publisher policy applies to the
 *   normalised events (forwarders such as a Lambda relaying S3 or Kinesis records).
 */
export type WebhookAuth =
  | { readonly scheme: "signature"; readonly authtype: AuthType }
  | { readonly scheme: "publisher" };

/**
 * One configured adapter: a foreign payload in, CloudEvents out, following the CloudEvents
 * adapter document of its kind where there is one. Built once from the config (a factory per
 * kind checks its options); `normalise` is pure apart from `verify`'s key fetches.
 */
export interface WebhookAdapter {
  /** The adapter id: `/webhooks/{id}`, and `authid` for `signature` adapters. */
  readonly id: string;
  readonly kind: string;
  readonly auth: WebhookAuth;
  /** True when one payload may carry many records (the body may be up to `maxBatchBytes`). */
  readonly records: boolean;
  /** Media types of the body this adapter reads, lower-cased essences (and its `Accept-Post`). */
  readonly mediaTypes: readonly string[];
  /**
   * Also reads JSON under any `+json` type (`application/vnd.api+json`, RFC 6839 section 3.1)
   * as `application/json`.
   */
  readonly readsAnyJson?: boolean;
  /**
   * Checks the provider's signature or token; throws `InvalidSignature` (401). Runs before the
   * payload is normalised; absent for `publisher` adapters.
   */
  verify?(request: WebhookRequest): Promise<void>;
  /** Turns the payload into CloudEvents; throws `InvalidPayload` (400) naming what is missing. */
  normalise(request: WebhookRequest): Normalised | Promise<Normalised>;
  /** Called once the events are accepted (SNS subscription auto-confirmation). */
  afterAccept?(request: WebhookRequest): Promise<void>;
}
