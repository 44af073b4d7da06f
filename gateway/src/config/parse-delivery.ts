import { DEFAULT_DELIVERY, type DeliverySettings } from "../subscriptions/subscription.js";
import type { FieldPath } from "./field-path.js";
import { type Report, trackReport } from "./report.js";
import {
  expectDuration,
  expectHttpUrl,
  expectInteger,
  expectObject,
  expectOneOf,
  isAbsent,
  optional,
  rejectUnknownKeys,
} from "./value-checks.js";

const DELIVERY_KEYS = [
  "mode",
  "timeout",
  "retry",
  "backoffPolicy",
  "backoffDelay",
  "backoffMax",
  "deadLetterSink",
  "signingSecret",
];

/**
 * Longest per-attempt `delivery.timeout`: 5 minutes. The dispatcher's lease on a job must outlast
 * the attempt (`deliver/dispatcher.ts`, `leaseMs`), or a slow delivery is handed out twice; a
 * bound is what lets the lease be sized, and keeps one stuck sink from holding a slot for hours.
 *
 * @example
 * createDispatcher({ ...options, leaseMs: MAX_DELIVERY_TIMEOUT_MS + 10_000 });
 */
export const MAX_DELIVERY_TIMEOUT_MS = 300_000;

/** Standard Webhooks: the secret is base64, written with a `whsec_` prefix. */
const SIGNING_SECRET = /^whsec_(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/**
 * Validates a subscription's `delivery` (DESIGN.md "Config", modelled on Knative's DeliverySpec)
 * and fills in the defaults of `DEFAULT_DELIVERY`. Retry settings are normalised (durations to
 * milliseconds) but left absent when not written, so the deliverer owns their defaults.
 *
 * @example
 * parseDelivery({ mode: "structured", timeout: "PT2S", retry: 3 }, ["delivery"], report);
 * // { mode: "structured", timeoutMs: 2000, retry: 3 }
 */
export function parseDelivery(
  raw: unknown,
  path: FieldPath,
  report: Report,
): DeliverySettings | undefined {
  if (isAbsent(raw)) return DEFAULT_DELIVERY;
  const tracked = trackReport(report);
  const r = tracked.report;
  const object = expectObject(raw, path, r);
  if (object === undefined) return undefined;
  rejectUnknownKeys(object, DELIVERY_KEYS, path, r);
  const at = (key: string): FieldPath => [...path, key];

  const mode = optional(object.mode, at("mode"), r, parseMode) ?? DEFAULT_DELIVERY.mode;
  const timeoutMs =
    optional(object.timeout, at("timeout"), r, parseTimeout) ?? DEFAULT_DELIVERY.timeoutMs;
  const retry = optional(object.retry, at("retry"), r, (value, p, rr) =>
    expectInteger(value, p, rr, 0),
  );
  const backoffPolicy = optional(object.backoffPolicy, at("backoffPolicy"), r, (value, p, rr) =>
    expectOneOf(value, ["exponential", "linear"] as const, p, rr),
  );
  const backoffDelayMs = optional(object.backoffDelay, at("backoffDelay"), r, expectDuration);
  const backoffMaxMs = optional(object.backoffMax, at("backoffMax"), r, expectDuration);
  if (backoffDelayMs !== undefined && backoffMaxMs !== undefined && backoffMaxMs < backoffDelayMs) {
    r(at("backoffMax"), "must not be shorter than backoffDelay");
  }
  const deadLetterSink = optional(object.deadLetterSink, at("deadLetterSink"), r, expectHttpUrl);
  const signingSecret = optional(object.signingSecret, at("signingSecret"), r, parseSigningSecret);
  if (tracked.failed()) return undefined;
  return {
    mode,
    timeoutMs,
    ...(retry === undefined ? {} : { retry }),
    ...(backoffPolicy === undefined ? {} : { backoffPolicy }),
    ...(backoffDelayMs === undefined ? {} : { backoffDelayMs }),
    ...(backoffMaxMs === undefined ? {} : { backoffMaxMs }),
    ...(deadLetterSink === undefined ? {} : { deadLetterSink }),
    ...(signingSecret === undefined ? {} : { signingSecret }),
  };
}

function parseTimeout(value: unknown, path: FieldPath, report: Report) {
  const ms = expectDuration(value, path, report, 1);
  if (ms === undefined || ms <= MAX_DELIVERY_TIMEOUT_MS) return ms;
  report(path, "must be at most 5m");
  return undefined;
}

function parseMode(value: unknown, path: FieldPath, report: Report) {
  if (value === "batch") {
    report(path, "the batch delivery mode is not supported yet");
    return undefined;
  }
  return expectOneOf(value, ["binary", "structured"] as const, path, report);
}

function parseSigningSecret(value: unknown, path: FieldPath, report: Report) {
  // Never echo the value: it is a secret, and errors end up in logs and problem documents.
  if (typeof value === "string" && SIGNING_SECRET.test(value) && value !== "whsec_") return value;
  report(path, "must be a Standard Webhooks secret: whsec_ followed by base64");
  return undefined;
}
