import {
  DEFAULT_BACKOFF_DELAY_MS,
  DEFAULT_DELIVERY,
  type DeliverySettings,
  type ReplyPolicy,
} from "../subscriptions/subscription.js";
import type { FieldPath } from "./field-path.js";
import { parseGlobList } from "./parse-glob-list.js";
import { parseRate } from "./parse-rate.js";
import { type Report, trackReport } from "./report.js";
import {
  expectBoolean,
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
  "maxBatchSize",
  "maxBatchWait",
  "concurrency",
  "rate",
  "handshake",
  "timeout",
  "retry",
  "backoffPolicy",
  "backoffDelay",
  "backoffMax",
  "deadLetterSink",
  "signingSecret",
  "reply",
  "receipts",
];
const REPLY_KEYS = ["sources", "types"];

/**
 * Longest per-attempt `delivery.timeout`: 5 minutes. The dispatcher's lease on a job must outlast
 * the attempt (`deliver/dispatcher.ts`, `leaseMs`), or a slow delivery is handed out twice; a
 * bound is what lets the lease be sized, and keeps one stuck sink from holding a slot for hours.
 *
 * @example
 * createDispatcher({ ...options, leaseMs: MAX_DELIVERY_TIMEOUT_MS + 10_000 });
 */
export const MAX_DELIVERY_TIMEOUT_MS = 300_000;

/** Most retries after the first attempt: enough for days of backoff, bounded so a typo is caught. */
export const MAX_RETRY = 100;
/** Largest batch-mode request, in events (a batch is also bounded by the sink's patience). */
export const MAX_BATCH_SIZE = 1_000;
/** Longest wait for a batch to fill. */
export const MAX_BATCH_WAIT_MS = 60_000;
/** Most requests in flight to one sink. */
export const MAX_SINK_CONCURRENCY = 1_000;

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
    expectInteger(value, p, rr, 0, MAX_RETRY),
  );
  const backoffPolicy = optional(object.backoffPolicy, at("backoffPolicy"), r, (value, p, rr) =>
    expectOneOf(value, ["exponential", "linear"] as const, p, rr),
  );
  const backoffDelayMs = optional(object.backoffDelay, at("backoffDelay"), r, parseBackoff);
  const backoffMaxMs = optional(object.backoffMax, at("backoffMax"), r, parseBackoff);
  if (backoffMaxMs !== undefined) {
    // Against the default too: a stored subscription shows its delay (500ms when not set), and
    // that body sent back must pass the same check.
    if (backoffDelayMs === undefined && backoffMaxMs < DEFAULT_BACKOFF_DELAY_MS) {
      r(
        at("backoffMax"),
        `must not be shorter than backoffDelay, which is ${DEFAULT_BACKOFF_DELAY_MS}ms when not set (set backoffDelay too)`,
      );
    } else if (backoffDelayMs !== undefined && backoffMaxMs < backoffDelayMs) {
      r(at("backoffMax"), "must not be shorter than backoffDelay");
    }
  }
  const maxBatchSize = optional(object.maxBatchSize, at("maxBatchSize"), r, (value, p, rr) =>
    expectInteger(value, p, rr, 1, MAX_BATCH_SIZE),
  );
  const maxBatchWaitMs = optional(object.maxBatchWait, at("maxBatchWait"), r, (value, p, rr) => {
    const ms = expectDuration(value, p, rr);
    if (ms === undefined || ms <= MAX_BATCH_WAIT_MS) return ms;
    rr(p, "must be at most 1m");
    return undefined;
  });
  checkBatchOnly(object, mode, at, r);
  const concurrency = optional(object.concurrency, at("concurrency"), r, (value, p, rr) =>
    expectInteger(value, p, rr, 1, MAX_SINK_CONCURRENCY),
  );
  const rate = optional(object.rate, at("rate"), r, parseRate);
  const handshake = optional(object.handshake, at("handshake"), r, expectBoolean);
  const deadLetterSink = optional(object.deadLetterSink, at("deadLetterSink"), r, expectHttpUrl);
  const signingSecret = optional(object.signingSecret, at("signingSecret"), r, parseSigningSecret);
  const reply = optional(object.reply, at("reply"), r, parseReply);
  if (reply !== undefined && reply !== false && mode === "batch") {
    r(at("reply"), "needs mode binary or structured: a batch has no one event to reply to");
  }
  const receipts = optional(object.receipts, at("receipts"), r, expectBoolean);
  if (tracked.failed()) return undefined;
  return {
    mode,
    timeoutMs,
    ...(retry === undefined ? {} : { retry }),
    ...(backoffPolicy === undefined ? {} : { backoffPolicy }),
    ...(backoffDelayMs === undefined ? {} : { backoffDelayMs }),
    ...(backoffMaxMs === undefined ? {} : { backoffMaxMs }),
    ...(maxBatchSize === undefined ? {} : { maxBatchSize }),
    ...(maxBatchWaitMs === undefined ? {} : { maxBatchWaitMs }),
    ...(concurrency === undefined ? {} : { concurrency }),
    ...(rate === undefined ? {} : { rate: { count: rate.count, perMs: rate.periodMs } }),
    ...(handshake === undefined ? {} : { handshake }),
    ...(deadLetterSink === undefined ? {} : { deadLetterSink }),
    ...(signingSecret === undefined ? {} : { signingSecret }),
    ...(reply === undefined || reply === false ? {} : { reply }),
    ...(receipts === undefined ? {} : { receipts }),
  };
}

/**
 * `reply: true` (any source and type), `false` (off), or `{ sources, types }`: glob lists, each
 * optional (absent: any) and, when written, not empty.
 */
function parseReply(
  value: unknown,
  path: FieldPath,
  report: Report,
): ReplyPolicy | false | undefined {
  if (value === true) return {};
  if (value === false) return false;
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    report(path, "must be true, false or { sources, types }");
    return undefined;
  }
  const tracked = trackReport(report);
  const object = value as Record<string, unknown>;
  rejectUnknownKeys(object, REPLY_KEYS, path, tracked.report);
  const sources = optional(object.sources, [...path, "sources"], tracked.report, parseGlobList);
  const types = optional(object.types, [...path, "types"], tracked.report, parseGlobList);
  if (tracked.failed()) return undefined;
  return {
    ...(sources === undefined ? {} : { sources }),
    ...(types === undefined ? {} : { types }),
  };
}

function parseTimeout(value: unknown, path: FieldPath, report: Report) {
  const ms = expectDuration(value, path, report, 1);
  if (ms === undefined || ms <= MAX_DELIVERY_TIMEOUT_MS) return ms;
  report(path, "must be at most 5m");
  return undefined;
}

/**
 * `backoffDelay` and `backoffMax`: longer than zero. Knative's DeliverySpec only checks that
 * `backoffDelay` parses, but DESIGN.md has failures "retried with backoff", full jitter, growing
 * by the policy: with a zero delay (or a zero cap) every wait is 0 under either policy, so
 * `retry: N` becomes N+1 requests in one burst at a sink that is failing, and is over before a
 * brief outage is.
 */
function parseBackoff(value: unknown, path: FieldPath, report: Report) {
  const ms = expectDuration(value, path, report);
  if (ms === undefined || ms > 0) return ms;
  report(path, "must be longer than zero: with 0 every retry is sent at once, without backoff");
  return undefined;
}

function parseMode(value: unknown, path: FieldPath, report: Report) {
  return expectOneOf(value, ["binary", "structured", "batch"] as const, path, report);
}

/**
 * One secret, or several separated by spaces while a secret is rotated (Standard Webhooks: every
 * secret signs, so a receiver that knows either verifies). Normalised to single spaces.
 */
function parseSigningSecret(value: unknown, path: FieldPath, report: Report) {
  const secrets = typeof value === "string" ? value.trim().split(/\s+/) : [];
  // Never echo the value: it is a secret, and errors end up in logs and problem documents.
  if (secrets.length > 0 && secrets.every((s) => SIGNING_SECRET.test(s) && s !== "whsec_")) {
    return secrets.join(" ");
  }
  report(
    path,
    "must be a Standard Webhooks secret: whsec_ followed by base64 (several separated by spaces)",
  );
  return undefined;
}

/** Batch settings only mean something in batch mode; elsewhere they would be silently ignored. */
function checkBatchOnly(
  object: Readonly<Record<string, unknown>>,
  mode: DeliverySettings["mode"],
  at: (key: string) => FieldPath,
  report: Report,
): void {
  if (mode === "batch") return;
  for (const key of ["maxBatchSize", "maxBatchWait"]) {
    if (!isAbsent(object[key])) report(at(key), "applies only to mode: batch");
  }
}
