import type { CloudEvent } from "../event/cloud-event.js";
import { safeUrl } from "../telemetry/tracing.js";
import {
  correlationOf,
  HOPS_ATTRIBUTE,
  hopsOf,
  traceOf,
  withSystemProvenance,
} from "./system-events.js";

/** `authid` of the events Herald makes itself (receipts). */
export const HERALD_AUTHID = "herald";
/** Types of receipt events. */
export const RECEIPT_TYPES = {
  succeeded: "dev.herald.delivery.succeeded",
  failed: "dev.herald.delivery.failed",
  disabled: "dev.herald.subscription.disabled",
} as const;

/** Source of a subscription's receipts. */
export const receiptSource = (subscriptionId: string) =>
  `/herald/subscriptions/${encodeURIComponent(subscriptionId)}`;

/**
 * Whether an event is a receipt: made by the gateway itself (`authtype` `system`, `authid`
 * `herald`, which a publisher cannot set: the gateway replaces both on every published event) with
 * a `dev.herald.` type. Receipts never produce receipts.
 */
export function isReceipt(event: CloudEvent): boolean {
  const { authtype, authid, type } = event.attributes;
  return (
    authtype === "system" &&
    authid === HERALD_AUTHID &&
    typeof type === "string" &&
    type.startsWith("dev.herald.")
  );
}

/** What a delivery receipt reports about one job's final outcome. */
export interface DeliveryReport {
  /**
   * The job's id: with the outcome and `at`, the receipt's id. The same outcome reported again
   * is a duplicate; a later outcome of the same job (after a redrive) is a new receipt.
   */
  readonly jobId: string;
  readonly event: CloudEvent;
  readonly subscriptionId: string;
  readonly sink: string;
  readonly attempts: number;
  /** The last attempt's HTTP status, 0 for a network error or timeout. */
  readonly status: number;
  /** When the outcome was settled (clock ms). */
  readonly at: number;
  /** `failed` only: the failure text and where the event went. */
  readonly error?: string;
  readonly ending?: "dead_letter_sink" | "store";
}

const recordedAtOf = (event: CloudEvent): number | undefined => {
  const recorded = event.attributes.recordedtime;
  const ms = typeof recorded === "string" ? Date.parse(recorded) : Number.NaN;
  return Number.isFinite(ms) ? ms : undefined;
};

/**
 * The receipt of one job's final outcome: a thin notification (source
 * `/herald/subscriptions/<id>`, type `dev.herald.delivery.succeeded` or `.failed`) whose data
 * names the original event (source, id, type), the sink (without credentials or query), the
 * attempts, the last status and the latency from `recordedtime`. It continues the original's
 * trace and correlation, and keeps its hop count.
 */
export function deliveryReceipt(
  outcome: "succeeded" | "failed",
  report: DeliveryReport,
): CloudEvent {
  const { event, at } = report;
  const recordedAt = recordedAtOf(event);
  const data = {
    subscription: report.subscriptionId,
    sink: safeUrl(report.sink),
    event: {
      source: String(event.attributes.source),
      id: String(event.attributes.id),
      type: String(event.attributes.type),
    },
    attempts: report.attempts,
    status: report.status,
    ...(recordedAt === undefined ? {} : { latencyMs: Math.max(0, at - recordedAt) }),
    ...(report.error === undefined ? {} : { error: report.error }),
    ...(report.ending === undefined ? {} : { ending: report.ending }),
  };
  const hops = hopsOf(event);
  return withSystemProvenance(
    {
      attributes: {
        specversion: "1.0",
        id: `${report.jobId}.${outcome}.${at}`,
        source: receiptSource(report.subscriptionId),
        type: RECEIPT_TYPES[outcome],
        time: new Date(at).toISOString(),
        datacontenttype: "application/json",
        ...correlationOf(event),
        ...traceOf(event),
        ...(hops > 0 ? { [HOPS_ATTRIBUTE]: hops } : {}),
      },
      data: { kind: "json", value: data },
    },
    { authid: HERALD_AUTHID, recordedAt: at },
  );
}

/** The receipt that a subscription was disabled because its sink answered 410 Gone. */
export function disabledReceipt(
  subscriptionId: string,
  sink: string,
  reason: string,
  at: number,
): CloudEvent {
  return withSystemProvenance(
    {
      attributes: {
        specversion: "1.0",
        id: `disabled.${at}`,
        source: receiptSource(subscriptionId),
        type: RECEIPT_TYPES.disabled,
        time: new Date(at).toISOString(),
        datacontenttype: "application/json",
      },
      data: {
        kind: "json",
        value: { subscription: subscriptionId, sink: safeUrl(sink), status: 410, reason },
      },
    },
    { authid: HERALD_AUTHID, recordedAt: at },
  );
}
