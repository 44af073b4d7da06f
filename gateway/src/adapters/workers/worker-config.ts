import { InvalidSubscription, type SubscriptionIssue } from "../../api/invalid-subscription.js";
import { formatDuration } from "../../api/subscription-resource.js";
import { unsupportedSettings } from "../../app/unsupported-settings.js";
import { ConfigInvalid, type ConfigIssue } from "../../config/config-invalid.js";
import type { HeraldConfig } from "../../config/herald-config.js";
import type { Env } from "../../config/interpolate-env.js";
import { type ConfigCheck, parseConfig } from "../../config/load-config.js";
import { parseDelivery } from "../../config/parse-delivery.js";
import { parseIssuer } from "../../config/parse-issuer.js";
import type { Report } from "../../config/report.js";
import { isAbsent, isRawObject } from "../../config/value-checks.js";
import { backoffCeiling, effectiveBackoffMax } from "../../deliver/retry-policy.js";
import {
  DEFAULT_BACKOFF_DELAY_MS,
  DEFAULT_BACKOFF_POLICY,
  DEFAULT_RETRY,
  type DeliverySettings,
  type Subscription,
} from "../../subscriptions/subscription.js";
import { QUEUE_LIMITS } from "./cloudflare-bindings.js";

/** Cloudflare Queues' default message retention: 4 days. */
export const DEFAULT_RETENTION_SECONDS = 345_600;
/** The retention a queue can be created with: 60 seconds to 14 days (`wrangler queues create`). */
const RETENTION_RANGE = { min: 60, max: 1_209_600 } as const;

/**
 * The delivery queue's retention in seconds, from `HERALD_QUEUE_RETENTION_SECONDS` (the default,
 * 4 days, when it is not set). A value that is not a whole number of seconds a queue can keep
 * messages (60 to 1209600) is refused by name: taking "14d" for the default would judge every
 * retry schedule against 4 days while the message said the variable was read, and a value over
 * 14 days would admit schedules whose late retries expire unseen.
 *
 * @example
 * queueRetentionSeconds("1209600"); // 1209600 (14 days)
 * queueRetentionSeconds("14d"); // throws ConfigInvalid: HERALD_QUEUE_RETENTION_SECONDS ...
 */
export function queueRetentionSeconds(value: string | undefined): number {
  if (value === undefined || value.trim() === "") return DEFAULT_RETENTION_SECONDS;
  const seconds = /^\s*\d+\s*$/.test(value) ? Number(value) : Number.NaN;
  if (seconds >= RETENTION_RANGE.min && seconds <= RETENTION_RANGE.max) return seconds;
  throw new ConfigInvalid([
    {
      file: "HERALD_QUEUE_RETENTION_SECONDS",
      field: "",
      message: `${JSON.stringify(value)} is not a retention a queue can have: give the delivery queue's --message-retention-period-secs, whole seconds from ${RETENTION_RANGE.min} to ${RETENTION_RANGE.max} (14 days), or leave it out for Cloudflare's default of ${DEFAULT_RETENTION_SECONDS} (4 days)`,
    },
  ]);
}

/**
 * The longest a job's retries can keep its queue message alive: each retry's backoff at its
 * ceiling (`backoffCeiling`, the full-jitter draw's upper bound), in whole seconds and at most
 * `message.retry`'s 12 hours as the consumer sends it, plus the timeout of every attempt before
 * the last. A sink's `Retry-After` can stretch it; then the consumer ends the job before its
 * message would expire (`retentionSeconds` in `queue-consumer.ts`) rather than lose it.
 *
 * @example
 * retryScheduleSeconds({ mode: "binary", timeoutMs: 5000, retry: 3, backoffDelayMs: 1000 }); // 22
 */
export function retryScheduleSeconds(delivery: DeliverySettings): number {
  const retries = delivery.retry ?? DEFAULT_RETRY;
  let seconds = 0;
  for (let n = 0; n < retries; n++) {
    const delay = Math.ceil(backoffCeiling(n, delivery) / 1000);
    seconds += Math.min(delay, QUEUE_LIMITS.maxDelaySeconds) + Math.ceil(delivery.timeoutMs / 1000);
  }
  return seconds;
}

/** Seconds as days, hours, minutes and seconds, the largest units first (`4d 2h 30s`). */
function describeSeconds(total: number): string {
  const parts: string[] = [];
  let rest = total;
  for (const [unit, size] of [
    ["d", 86_400],
    ["h", 3_600],
    ["m", 60],
  ] as const) {
    if (rest >= size) {
      parts.push(`${Math.floor(rest / size)}${unit}`);
      rest %= size;
    }
  }
  if (rest > 0 || parts.length === 0) parts.push(`${rest}s`);
  return parts.join(" ");
}

/**
 * What a subscription asks for that a Worker cannot honour:
 * - a `rate` or the webhook `handshake` (whose answer grants a rate). Isolates and queue
 *   consumers run side by side and share no memory, so a per-sink rate would need one
 *   coordinator per sink (a Durable Object); refusing is better than exceeding a limit the
 *   sink's owner set;
 * - a retry schedule (`retry`, `backoffDelay`, `backoffMax`, `backoffPolicy`) longer than the
 *   delivery queue keeps a message (`retentionSeconds`): its late retries would expire with the
 *   message, silently, instead of ending dead-lettered.
 *
 * @example
 * workersSubscriptionIssues(subscription, 345_600); // [{ field: "delivery.rate", message: "..." }]
 */
export function workersSubscriptionIssues(
  subscription: Pick<Subscription, "delivery">,
  retentionSeconds: number = DEFAULT_RETENTION_SECONDS,
): SubscriptionIssue[] {
  const issues: SubscriptionIssue[] = [];
  const { delivery } = subscription;
  const why = "is not available on Cloudflare Workers (isolates share no per-sink state)";
  if (delivery.rate !== undefined) {
    issues.push({ field: "delivery.rate", message: why });
  }
  if (delivery.handshake === true) {
    issues.push({ field: "delivery.handshake", message: `${why}; leave it out` });
  }
  const schedule = retryScheduleSeconds(delivery);
  if (schedule > retentionSeconds) {
    const retries = delivery.retry ?? DEFAULT_RETRY;
    const backoffDelay = formatDuration(delivery.backoffDelayMs ?? DEFAULT_BACKOFF_DELAY_MS);
    const backoffMax = formatDuration(effectiveBackoffMax(delivery));
    issues.push({
      field: "delivery.retry",
      message: `${retries} retries with backoffDelay ${backoffDelay} and backoffMax ${backoffMax} (${delivery.backoffPolicy ?? DEFAULT_BACKOFF_POLICY}, each delay at most 12h on Workers, with the timeouts) can take up to ${describeSeconds(schedule)}, longer than the delivery queue keeps a message (${describeSeconds(retentionSeconds)}, HERALD_QUEUE_RETENTION_SECONDS): late retries would expire unseen; lower retry, backoffDelay or backoffMax, or raise the queue's retention (at most 14 days) and HERALD_QUEUE_RETENTION_SECONDS with it`,
    });
  }
  return issues;
}

/**
 * Refuses, through the Subscriptions API, a subscription a Worker cannot honour (400), for a
 * delivery queue that keeps messages `retentionSeconds`.
 *
 * @example
 * openRefreshingRegistry({ ..., check: workersSubscriptionCheck(345_600) });
 */
export function workersSubscriptionCheck(
  retentionSeconds: number = DEFAULT_RETENTION_SECONDS,
): (subscription: Subscription) => void {
  return (subscription) => {
    const issues = workersSubscriptionIssues(subscription, retentionSeconds);
    if (issues.length > 0) throw new InvalidSubscription(issues);
  };
}

/** How `loadWorkerConfig` reads a config. */
export interface WorkerConfigOptions {
  /** The delivery queue's retention (`HERALD_QUEUE_RETENTION_SECONDS`); default 4 days. */
  readonly retentionSeconds?: number;
  /** `HERALD_NO_AUTH=true`: a config without `auth` is served (dev only). Default false. */
  readonly noAuth?: boolean;
}

/**
 * What a Worker refuses in a config document on top of the config's own rules, by name (see
 * `loadWorkerConfig`). Each part is judged where it is valid by the core's rules (what is not
 * has its own issue already), so a config with both kinds of error shows them together.
 *
 * @example
 * parseConfig(text, "HERALD_CONFIG", env, workersConfigCheck({ retentionSeconds: 345_600 }));
 */
export function workersConfigCheck(options: WorkerConfigOptions = {}): ConfigCheck {
  const { retentionSeconds = DEFAULT_RETENTION_SECONDS, noAuth = false } = options;
  // The core already reports what these parts break; here only whether a Worker can honour them.
  const ignore: Report = () => {};
  return (document, report) => {
    if (!isRawObject(document)) return;
    const { store, auth, subscriptions } = document;
    if (isRawObject(store) && store.kind === "nats") {
      report(
        ["store", "kind"],
        "nats needs TCP connections a Worker does not have; on Workers the store is D1 and the delivery queue (use memory or sqlite, which both mean that)",
      );
    }
    if (isAbsent(auth) && !noAuth) {
      // As `herald serve` without --no-auth: not served open to anyone who finds the URL.
      report(
        ["auth"],
        "this config has no auth section, so anyone could publish: add auth, or set HERALD_NO_AUTH=true (development only)",
      );
    }
    const issuers = isRawObject(auth) && Array.isArray(auth.issuers) ? auth.issuers : [];
    issuers.forEach((item: unknown, i) => {
      const path = ["auth", "issuers", i];
      if (parseIssuer(item, path, ignore)?.keys.kind === "file") {
        report(
          [...path, "jwks"],
          "a file cannot be read on Cloudflare Workers; inline the JWKS or give its URL",
        );
      }
    });
    const items = Array.isArray(subscriptions) ? subscriptions : [];
    items.forEach((item: unknown, i) => {
      if (!isRawObject(item)) return;
      const path = ["subscriptions", i];
      // Only `delivery` matters here, so a subscription broken elsewhere is judged too.
      const delivery = parseDelivery(item.delivery, [...path, "delivery"], ignore);
      if (delivery === undefined) return;
      const named = typeof item.id === "string" && item.id !== "" ? { subscription: item.id } : {};
      for (const issue of workersSubscriptionIssues({ delivery }, retentionSeconds)) {
        report([...path, ...issue.field.split(".")], issue.message, named);
      }
    });
  };
}

/**
 * Reads the gateway's config on a Worker: `text` (a bundled file, or the `HERALD_CONFIG`
 * variable; YAML or JSON, the config schema of DESIGN.md) with `${VAR}` taken from the Worker's
 * variables and secrets. On top of the core's checks it refuses, by name, what this runtime
 * cannot honour instead of ignoring it (`workersConfigCheck`): `jwks` files (there is no file
 * system: inline the set or give its URL), per-sink `rate` and `handshake`, retry schedules
 * longer than the delivery queue's retention (see `workersSubscriptionIssues`), and a config
 * without `auth` unless `noAuth`. Those issues are reported with the core's, each with its line
 * and column, in the order they appear, as `herald validate` reports a config on Node. The
 * store is always D1 and the delivery queue: of `store`, only `dedupeWindow` applies (`kind:
 * memory` or `sqlite` both mean "the Worker's store", so configs written for Node, such as the
 * conformance suite's, run as they are; `nats` is refused). `listen` and
 * `limits.maxQueuedDeliveries` do not apply (the platform listens; the queue holds the backlog).
 *
 * @example
 * const config = loadWorkerConfig(env.HERALD_CONFIG, "HERALD_CONFIG", env, { retentionSeconds: 345_600 });
 */
export function loadWorkerConfig(
  text: string | undefined,
  file: string,
  env: Env,
  options: WorkerConfigOptions = {},
): HeraldConfig {
  if (text === undefined || text.trim() === "") {
    throw new ConfigInvalid([
      {
        file,
        field: "",
        message:
          "no config: set the HERALD_CONFIG variable (JSON or YAML) or pass a bundled config to createHeraldWorker",
      },
    ]);
  }
  const config = parseConfig(text, file, env, workersConfigCheck(options));
  const issues: ConfigIssue[] = unsupportedSettings(config).map((line) => {
    const colon = line.indexOf(": ");
    return { file, field: line.slice(0, colon), message: line.slice(colon + 2) };
  });
  if (issues.length > 0) throw new ConfigInvalid(issues);
  return config;
}
