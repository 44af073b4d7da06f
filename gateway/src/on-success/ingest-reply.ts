import { compileGlobList, type GlobMatcher } from "../auth/glob.js";
import type { SinkReply } from "../deliver/delivery-outcome.js";
import { PayloadTooLarge } from "../errors/errors.js";
import { HeraldError } from "../errors/herald-error.js";
import type { AttributeValue, CloudEvent } from "../event/cloud-event.js";
import type { IngestSource } from "../ingest/ingest-source.js";
import { type IngestLimits, parseRequest } from "../ingest/parse-request.js";
import { checkContentCoding } from "../ingest/read-body.js";
import type { Clock } from "../ports/clock.js";
import type { ReplyPolicy, Subscription } from "../subscriptions/subscription.js";
import { parseTraceparent } from "../telemetry/trace-context.js";
import {
  correlationOf,
  HOPS_ATTRIBUTE,
  hopsOf,
  traceOf,
  withSystemProvenance,
} from "./system-events.js";

/**
 * Takes the reply a sink answered to `cause`'s delivery: ingests it and resolves `undefined`, or
 * resolves why it was not ingested (also when the store refuses it as too large to ever hold).
 * Rejects only when accepting failed (the store is unavailable): the delivery is then settled
 * again later, and the reply with it.
 */
export type IngestReply = (
  cause: CloudEvent,
  reply: SinkReply,
  subscription: Subscription,
) => Promise<string | undefined>;

export interface ReplyIngestOptions {
  readonly limits: IngestLimits & { readonly maxReplyHops: number };
  /** Accepts events durably (the gateway's acceptor: matching, dedupe, the store). */
  readonly accept: (events: readonly CloudEvent[]) => Promise<unknown>;
  readonly clock: Clock;
}

interface CompiledPolicy {
  readonly sources: GlobMatcher | undefined;
  readonly types: GlobMatcher | undefined;
}

const compiled = new WeakMap<ReplyPolicy, CompiledPolicy>();

function compile(policy: ReplyPolicy): CompiledPolicy {
  let found = compiled.get(policy);
  if (found === undefined) {
    found = {
      sources: policy.sources === undefined ? undefined : compileGlobList(policy.sources),
      types: policy.types === undefined ? undefined : compileGlobList(policy.types),
    };
    compiled.set(policy, found);
  }
  return found;
}

/**
 * The reply as an ingest request, so it is parsed and validated exactly like a published one. A
 * body in a content coding other than `identity` (a sink that ignored `Accept-Encoding:
 * identity`, or a subscription that asked for `gzip` in `protocolsettings.headers`) is refused as
 * a published one is: its bytes are compressed, and taken as they came they would become the
 * reply's data under a `datacontenttype` they do not have. (A fetch-based sink client may have
 * decoded it already; refusing it there too keeps the outcome the same on every adapter.)
 */
function replySource(reply: SinkReply, url: string): IngestSource {
  return {
    url,
    header: (name) => reply.header(name),
    forEachHeader: (fn) => reply.forEachHeader(fn),
    async readBody(limit) {
      checkContentCoding(reply.header("content-encoding") ?? null);
      if (reply.body.length > limit) {
        throw new PayloadTooLarge(
          `the reply is ${reply.body.length} bytes; the limit is ${limit}`,
          limit,
        );
      }
      return reply.body;
    },
  };
}

/**
 * Reply events (Knative's model, on Herald's parts): a reply is parsed and validated like a
 * published event (binary or structured mode, one event), authorised by the subscription's
 * `delivery.reply` globs on `source` and `type` instead of a token, and accepted with:
 * - provenance `authtype` `system`, `authid` `subscription:<id>` (replacing what the sink sent);
 * - the correlation extension: `causationid` = the cause's id, `correlationid` = the cause's
 *   `correlationid`, or its id;
 * - `heraldhops` = the cause's hop count + 1; past `limits.maxReplyHops` the reply is refused
 *   (loop protection);
 * - the cause's `traceparent`/`tracestate` when the reply has none, or one that is not W3C Trace
 *   Context (as a published event's is replaced), so it stays in the trace.
 * Matched and delivered like any event; its `source` + `id` dedupe as usual, so a reply sent again
 * after a redelivery is not delivered twice.
 *
 * @example
 * const ingestReply = createReplyIngest({ limits: config.limits, accept, clock });
 * const refusal = await ingestReply(job.event, outcome.reply, subscription); // undefined: ingested
 */
export function createReplyIngest(options: ReplyIngestOptions): IngestReply {
  const { limits, accept, clock } = options;
  return async function ingestReply(cause, reply, subscription) {
    const policy = subscription.delivery.reply;
    if (policy === undefined) return "the subscription does not take replies";
    if (!reply.complete) {
      // Its start is kept up to the limit: shorter, the body broke off or outran the timeout.
      return reply.body.length >= limits.maxEventBytes
        ? `the reply is larger than limits.maxEventBytes (${limits.maxEventBytes} bytes)`
        : `the reply's body broke off or was still arriving at the delivery timeout, after ${reply.body.length} bytes`;
    }
    let events: readonly CloudEvent[];
    let mode: string;
    try {
      ({ mode, events } = await parseRequest(replySource(reply, subscription.sink), limits));
    } catch (err) {
      if (err instanceof HeraldError) return `invalid reply (${err.code}): ${err.message}`;
      throw err;
    }
    const [event] = events;
    if (mode === "batch" || event === undefined || events.length !== 1) {
      return "a reply must be one event (binary or structured mode), not a batch";
    }
    const { sources, types } = compile(policy);
    const { source, type } = event.attributes;
    if (sources !== undefined && !sources(String(source))) {
      return `source ${JSON.stringify(source)} is not allowed by delivery.reply.sources`;
    }
    if (types !== undefined && !types(String(type))) {
      return `type ${JSON.stringify(type)} is not allowed by delivery.reply.types`;
    }
    const hops = hopsOf(cause) + 1;
    if (hops > limits.maxReplyHops) {
      return `reply loop: the reply would be hop ${hops}, past limits.maxReplyHops (${limits.maxReplyHops})`;
    }
    const stamped = withSystemProvenance(event, {
      authid: `subscription:${subscription.id}`,
      recordedAt: clock.now(),
    });
    const attributes: Record<string, AttributeValue> = {
      ...stamped.attributes,
      ...correlationOf(cause),
      [HOPS_ATTRIBUTE]: hops,
    };
    const own = stamped.attributes.traceparent;
    if (typeof own !== "string" || parseTraceparent(own) === undefined) {
      // None, or not W3C Trace Context (`garbage`): as for a published event, it is replaced, here
      // by the cause's trace, with the tracestate that belongs to it.
      delete attributes.traceparent;
      delete attributes.tracestate;
      Object.assign(attributes, traceOf(cause));
    }
    try {
      await accept([
        stamped.data === undefined ? { attributes } : { attributes, data: stamped.data },
      ]);
    } catch (err) {
      // A store that can never hold it (on Workers, an event over a Queues message's 128 KB)
      // refuses it for good, like a reply over limits.maxEventBytes; anything else is retried.
      if (err instanceof PayloadTooLarge) return `invalid reply (${err.code}): ${err.message}`;
      throw err;
    }
    return undefined;
  };
}
