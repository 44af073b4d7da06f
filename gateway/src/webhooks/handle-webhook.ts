import type { Span, Tracer } from "@opentelemetry/api";
import type { PublisherAuth } from "../auth/publisher-auth.js";
import type { Limits } from "../config/herald-config.js";
import {
  BatchTooLarge,
  InvalidEvent,
  NotFound,
  PayloadTooLarge,
  UnsupportedMediaType,
  type Violation,
} from "../errors/errors.js";
import type { CloudEvent } from "../event/cloud-event.js";
import { parseMediaType } from "../event/media-type.js";
import { validateAttributes } from "../event/validate-attributes.js";
import { refuseRepeatedParameter } from "../http/refuse-repeated-parameter.js";
import type { PublishGate } from "../ingest/publish-gate.js";
import { readBody } from "../ingest/read-body.js";
import type { Clock } from "../ports/clock.js";
import type { Logger } from "../ports/logger.js";
import type { AcceptResult } from "../routing/accept-events.js";
import type { GatewayMetrics } from "../telemetry/gateway-metrics.js";
import { createPublishTelemetry } from "../telemetry/publish-telemetry.js";
import type { TraceContext } from "../telemetry/trace-context.js";
import { cloudEventAttributes, requestUrlAttributes } from "../telemetry/tracing.js";
import { withTraceContext } from "../telemetry/with-trace-context.js";
import type { WebhookAdapter } from "./webhook-adapter.js";
import { stampWebhookEvents } from "./webhook-provenance.js";
import { webhookRequest } from "./webhook-request.js";

export interface WebhookHandlerOptions {
  /** The configured adapters by id. */
  readonly adapters: ReadonlyMap<string, WebhookAdapter>;
  readonly limits: Pick<Limits, "maxEventBytes" | "maxBatchEvents" | "maxBatchBytes">;
  /** Publisher authentication for `publisher` adapters; `undefined` accepts anyone (`--no-auth`). */
  readonly auth: PublisherAuth | undefined;
  readonly clock: Clock;
  /** The same acceptor as `POST /events`: dedupe, all-or-nothing hand-off to the store. */
  readonly accept: (events: readonly CloudEvent[]) => Promise<AcceptResult>;
  /** The same gate as `POST /events`: shutdown lets requests in finish, or cuts them with 503. */
  readonly gate: PublishGate;
  readonly logger: Logger;
  /** Spans (default: the global provider's `@herald/gateway` tracer). */
  readonly tracer?: Tracer | undefined;
  /** Counts accepted, duplicate and refused events, as for `POST /events`. */
  readonly metrics?: Pick<GatewayMetrics, "accepted" | "rejected">;
}

/**
 * What became of a webhook: 202 once its events are accepted, 204 when it carries none (a
 * set-up message, an empty list of records).
 */
export type WebhookOutcome =
  | { readonly status: 202; readonly result: AcceptResult }
  | { readonly status: 204 };

/** Takes one `POST /webhooks/{id}`; throws a coded error for a refusal. */
export type WebhookHandler = (adapterId: string, request: Request) => Promise<WebhookOutcome>;

const UTF8_CHARSETS = new Set(["utf-8", "utf8", "us-ascii"]);
const encoder = new TextEncoder();

/**
 * The whole of `POST /webhooks/{adapter-id}`: refuse while shutting down; find the adapter
 * (404); authenticate a publisher JWT for forwarder kinds before reading the body (401/503);
 * check the media type (415) and size (413); check the provider's own signature (401); normalise
 * the payload (400 naming what is missing; 204 when it carries no event: a set-up message, or an
 * empty list of records); then the same rules as `POST /events`: every event
 * valid (400), within `limits.maxEventBytes` and `limits.maxBatchEvents` (413), allowed by the
 * publisher policy (403/429), stamped with provenance and accepted all or nothing, duplicates
 * (`source` + `id` seen before) acknowledged and not delivered again.
 *
 * @example
 * const handle = createWebhookHandler({ adapters, limits, auth, clock, accept, gate, logger });
 * const outcome = await handle("github-main", request); // { status: 202, result }
 */
export function createWebhookHandler(options: WebhookHandlerOptions): WebhookHandler {
  const { adapters, limits, auth, clock, accept, gate, logger } = options;
  const publish = createPublishTelemetry({ tracer: options.tracer, metrics: options.metrics });
  const route = "/webhooks/{adapterId}";

  // Traced and counted like `POST /events`; the trace the events started in goes into each.
  const traced = (adapterId: string, request: Request): Promise<WebhookOutcome> =>
    publish(
      {
        traceparent: request.headers.get("traceparent") ?? undefined,
        tracestate: request.headers.get("tracestate") ?? undefined,
        span: () => ({
          name: `POST ${route}`,
          attributes: {
            "http.request.method": "POST",
            "http.route": route,
            ...requestUrlAttributes(request.url),
            "herald.adapter.id": adapterId,
          },
        }),
      },
      (span, context, started) => handleWebhook(adapterId, request, span, context, started),
      (outcome) =>
        outcome.status === 202 ? { status: 202, accepted: outcome.result } : { status: 204 },
    );

  async function handleWebhook(
    adapterId: string,
    request: Request,
    span: Span | undefined,
    trace: TraceContext,
    started: TraceContext,
  ): Promise<WebhookOutcome> {
    const admission = gate.admit();
    try {
      const prepared = await admission.prepare(prepare(adapterId, request, started));
      if (prepared.kind === "none") return { status: 204 };
      admission.storing();
      const { adapter, webhook, events } = prepared;
      if (span?.isRecording()) {
        // As POST /events: one event's CloudEvents attributes, or how many a batch held (the
        // messaging conventions keep `messaging.batch.message_count` off single messages).
        const [only] = events;
        if (events.length === 1 && only !== undefined) {
          span.setAttributes(cloudEventAttributes(only));
        } else span.setAttribute("messaging.batch.message_count", events.length);
      }
      const result = await accept(events);
      await adapter.afterAccept?.(webhook);
      logger.debug("webhook accepted", {
        adapter: adapterId,
        kind: adapter.kind,
        events: result.events,
        duplicates: result.duplicates,
        deliveries: result.deliveries,
        // As the `accepted` line of POST /events: a log search leads to the trace.
        trace_id: trace.traceId,
        span_id: trace.spanId,
      });
      return { status: 202, result };
    } finally {
      admission.leave();
    }
  }

  /** Everything before storing: find, authenticate, read, verify, normalise and stamp. */
  async function prepare(adapterId: string, request: Request, started: TraceContext) {
    const adapter = adapters.get(adapterId);
    if (adapter === undefined)
      throw new NotFound(`no adapter ${JSON.stringify(adapterId)} is configured`);
    const claims =
      adapter.auth.scheme === "publisher" && auth !== undefined
        ? await auth.authenticate({
            authorization: request.headers.get("authorization") ?? undefined,
            url: request.url,
          })
        : undefined;
    const grant = claims === undefined ? undefined : auth?.admit(claims);
    const mediaType = checkMediaType(adapter, request.headers.get("content-type"));
    const limit = adapter.records ? limits.maxBatchBytes : limits.maxEventBytes;
    const body = await readBody(request, limit);
    const receivedAt = clock.now();
    const webhook = webhookRequest(request, body, mediaType, receivedAt, limits.maxBatchEvents);
    await adapter.verify?.(webhook);
    const normalised = await adapter.normalise(webhook);
    // Nothing to store: a set-up message, or an empty list of records (`{"Records":[]}`).
    if (normalised.kind === "acknowledge" || normalised.events.length === 0) {
      const reason = normalised.kind === "acknowledge" ? normalised.reason : "no records";
      logger.debug("webhook acknowledged", { adapter: adapterId, reason });
      return { kind: "none" } as const;
    }
    const { events } = normalised;
    if (events.length > limits.maxBatchEvents) {
      throw new BatchTooLarge(events.length, limits.maxBatchEvents);
    }
    checkEvents(events, limits.maxEventBytes);
    if (claims !== undefined) auth?.authorize(claims, events, grant);
    const stamped = stampWebhookEvents(events, adapter, claims, receivedAt);
    return {
      kind: "events",
      adapter,
      webhook,
      events: stamped.map((event) => withTraceContext(event, started)),
    } as const;
  }

  return traced;
}

function checkMediaType(adapter: WebhookAdapter, header: string | null): string {
  const mediaType = parseMediaType(header);
  const accepted = adapter.mediaTypes.join(", ");
  if (mediaType === undefined || !readsMediaType(adapter, mediaType.essence)) {
    const got = mediaType === undefined ? "no Content-Type" : mediaType.essence;
    const reads = adapter.readsAnyJson === true ? `${accepted} or a +json type` : accepted;
    throw new UnsupportedMediaType(
      `the ${adapter.kind} adapter reads ${reads}; the request has ${got}`,
      accepted,
    );
  }
  refuseRepeatedParameter(header ?? "", accepted);
  const charset = mediaType.params.get("charset");
  if (charset !== undefined && !UTF8_CHARSETS.has(charset.toLowerCase())) {
    throw new UnsupportedMediaType(`charset ${charset} is not supported; send UTF-8`, accepted);
  }
  return mediaType.essence;
}

/** A `+json` structured-syntax suffix on a named subtype (RFC 6839 section 3.1). */
const JSON_SUFFIXED = /^[^/]+\/[^/]+\+json$/;

/** True when the adapter reads a body of this media type essence. */
function readsMediaType(adapter: WebhookAdapter, essence: string): boolean {
  if (adapter.mediaTypes.includes(essence)) return true;
  return adapter.readsAnyJson === true && JSON_SUFFIXED.test(essence);
}

/** Every event valid and within the size limit; the first offender's index is named. */
function checkEvents(events: readonly CloudEvent[], maxEventBytes: number): void {
  const violations: Violation[] = [];
  let firstBad: number | undefined;
  const batch = events.length > 1;
  events.forEach((event, index) => {
    for (const violation of validateAttributes(event.attributes)) {
      firstBad ??= index;
      violations.push(batch ? { ...violation, index } : violation);
    }
    const size = eventSize(event);
    if (size > maxEventBytes) {
      const which = batch ? `event ${index} of the payload` : "the event";
      throw new PayloadTooLarge(
        // The body alone may be within the limit: the attributes count too (GitHub's or SNS's
        // payload just under maxEventBytes is over it as an event), so say what was counted.
        `${which} is ${size} bytes (its attributes and data); the limit is ${maxEventBytes}`,
        maxEventBytes,
        ...(batch ? [index] : []),
      );
    }
  });
  if (firstBad !== undefined) throw new InvalidEvent(violations, batch ? firstBad : undefined);
}

/** The event's size as the JSON event format would carry it: its attributes and its data. */
function eventSize(event: CloudEvent): number {
  const attributes = encoder.encode(JSON.stringify(event.attributes)).byteLength;
  const data = event.data;
  if (data === undefined) return attributes;
  if (data.kind === "binary") return attributes + data.value.byteLength;
  if (data.kind === "text") return attributes + encoder.encode(data.value).byteLength;
  return attributes + encoder.encode(data.text ?? JSON.stringify(data.value)).byteLength;
}
