import { InvalidSubscription, type SubscriptionIssue } from "../../api/invalid-subscription.js";
import { unsupportedSettings } from "../../app/unsupported-settings.js";
import { ConfigInvalid, type ConfigIssue } from "../../config/config-invalid.js";
import type { HeraldConfig } from "../../config/herald-config.js";
import type { Env } from "../../config/interpolate-env.js";
import { parseConfig } from "../../config/load-config.js";
import type { Subscription } from "../../subscriptions/subscription.js";

/**
 * What a subscription asks for that a Worker cannot honour: a `rate` or the webhook
 * `handshake` (whose answer grants a rate). Isolates and queue consumers run side by side and
 * share no memory, so a per-sink rate would need one coordinator per sink (a Durable Object);
 * refusing is better than exceeding a limit the sink's owner set.
 *
 * @example
 * workersSubscriptionIssues(subscription); // [{ field: "delivery.rate", message: "..." }]
 */
export function workersSubscriptionIssues(subscription: Subscription): SubscriptionIssue[] {
  const issues: SubscriptionIssue[] = [];
  const why = "is not available on Cloudflare Workers (isolates share no per-sink state)";
  if (subscription.delivery.rate !== undefined) {
    issues.push({ field: "delivery.rate", message: why });
  }
  if (subscription.delivery.handshake === true) {
    issues.push({ field: "delivery.handshake", message: `${why}; leave it out` });
  }
  return issues;
}

/**
 * Refuses, through the Subscriptions API, a subscription a Worker cannot honour (400).
 *
 * @example
 * openRefreshingRegistry({ ..., check: checkWorkersSubscription });
 */
export function checkWorkersSubscription(subscription: Subscription): void {
  const issues = workersSubscriptionIssues(subscription);
  if (issues.length > 0) throw new InvalidSubscription(issues);
}

/**
 * Reads the gateway's config on a Worker: `text` (a bundled file, or the `HERALD_CONFIG`
 * variable; YAML or JSON, the config schema of DESIGN.md) with `${VAR}` taken from the Worker's
 * variables and secrets. On top of the core's checks it refuses, by name, what this runtime
 * cannot honour instead of ignoring it: `jwks` files (there is no file system: inline the set or
 * give its URL) and per-sink `rate` and `handshake`. The store is always D1 and the delivery
 * queue: of `store`, only `dedupeWindow` applies (`kind: memory` or `sqlite` both mean "the
 * Worker's store", so configs written for Node, such as the conformance suite's, run as they
 * are; `nats` is refused). `listen` and `limits.maxQueuedDeliveries` do not apply
 * (the platform listens; the queue holds the backlog).
 *
 * @example
 * const config = loadWorkerConfig(env.HERALD_CONFIG, "HERALD_CONFIG", env);
 */
export function loadWorkerConfig(text: string | undefined, file: string, env: Env): HeraldConfig {
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
  const config = parseConfig(text, file, env);
  const issues: ConfigIssue[] = unsupportedSettings(config).map((line) => {
    const colon = line.indexOf(": ");
    return { file, field: line.slice(0, colon), message: line.slice(colon + 2) };
  });
  if (config.store.kind === "nats") {
    issues.push({
      file,
      field: "store.kind",
      message:
        "nats needs TCP connections a Worker does not have; on Workers the store is D1 and the delivery queue (use memory or sqlite, which both mean that)",
    });
  }
  config.auth?.issuers.forEach((issuer, i) => {
    if (issuer.keys.kind === "file") {
      issues.push({
        file,
        field: `auth.issuers[${i}].jwks`,
        message: "a file cannot be read on Cloudflare Workers; inline the JWKS or give its URL",
      });
    }
  });
  config.subscriptions.forEach((subscription, i) => {
    for (const issue of workersSubscriptionIssues(subscription)) {
      issues.push({
        file,
        field: `subscriptions[${i}].${issue.field}`,
        message: issue.message,
        subscription: subscription.id,
      });
    }
  });
  if (issues.length > 0) throw new ConfigInvalid(issues);
  return config;
}
