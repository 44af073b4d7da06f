import { effectiveBackoffMax } from "../deliver/retry-policy.js";
import type { DisabledState } from "../store/subscription-store.js";
import {
  DEFAULT_BACKOFF_DELAY_MS,
  DEFAULT_BACKOFF_POLICY,
  DEFAULT_MAX_BATCH_SIZE,
  DEFAULT_MAX_BATCH_WAIT_MS,
  DEFAULT_RETRY,
  DEFAULT_SINK_CONCURRENCY,
  type Subscription,
} from "../subscriptions/subscription.js";
import { InvalidSubscription } from "./invalid-subscription.js";

/**
 * Members the API shows but a client cannot set: `disabled` (set by a 410 Gone from the sink,
 * cleared by an update). A `PUT` of what `GET` returned carries them; they are ignored.
 */
export const READ_ONLY_MEMBERS = ["disabled"] as const;

/**
 * What the API shows instead of a sensitive header value, and what a client sends back in a
 * `PUT` to keep the stored value (see `restoreRedactedHeaders`).
 */
export const REDACTED = "<redacted>";

/**
 * Header names whose values are credentials for the sink: the API never shows them (DESIGN.md:
 * never a token or secret in a response). Any name with `key` (`x-api-key`, Azure's
 * `x-functions-key` and `ocp-apim-subscription-key`) or `auth` (`authorization`, `x-auth-token`)
 * counts, as for a sink URL's query parameters (`redact-secrets.ts`); hiding a harmless value
 * costs nothing, since a `PUT` of `REDACTED` keeps it.
 */
const SENSITIVE_HEADER = /auth|cookie|token|secret|passw|key|signature/i;

/**
 * A subscription as the Subscriptions API shows it (spec 3.2.1, with every default applied, 3.2.5.1
 * "Realized subscription object"): Herald's normalised form turned back into the input shape, so
 * what `GET` returns can be sent back with `PUT` unchanged. Durations are written in the largest
 * exact unit (`5s`, `250ms`, `1m`); credentials in `protocolsettings.headers` are shown as
 * `REDACTED`; a delivery `signingSecret` is never shown.
 *
 * @example
 * toSubscriptionResource(subscription);
 * // { id: "thumbnails", filters: [], sink: "http://...", protocol: "HTTP",
 * //   protocolsettings: { method: "POST", headers: {} },
 * //   delivery: { mode: "binary", timeout: "5s", retry: 3, backoffPolicy: "exponential",
 * //     backoffDelay: "500ms", backoffMax: "1m", concurrency: 16, handshake: false, receipts: false } }
 */
export function toSubscriptionResource(
  subscription: Subscription,
  disabled?: DisabledState,
): Record<string, unknown> {
  const { delivery } = subscription;
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(subscription.protocolsettings.headers)) {
    headers[name] = SENSITIVE_HEADER.test(name) ? REDACTED : value;
  }
  return {
    id: subscription.id,
    ...(subscription.source === undefined ? {} : { source: subscription.source }),
    ...(subscription.types === undefined ? {} : { types: subscription.types }),
    filters: subscription.filters,
    sink: subscription.sink,
    protocol: subscription.protocol,
    protocolsettings: { method: "POST", headers },
    delivery: {
      mode: delivery.mode,
      ...(delivery.mode === "batch"
        ? {
            maxBatchSize: delivery.maxBatchSize ?? DEFAULT_MAX_BATCH_SIZE,
            maxBatchWait: formatDuration(delivery.maxBatchWaitMs ?? DEFAULT_MAX_BATCH_WAIT_MS),
          }
        : {}),
      timeout: formatDuration(delivery.timeoutMs),
      retry: delivery.retry ?? DEFAULT_RETRY,
      backoffPolicy: delivery.backoffPolicy ?? DEFAULT_BACKOFF_POLICY,
      backoffDelay: formatDuration(delivery.backoffDelayMs ?? DEFAULT_BACKOFF_DELAY_MS),
      backoffMax: formatDuration(effectiveBackoffMax(delivery)),
      concurrency: delivery.concurrency ?? DEFAULT_SINK_CONCURRENCY,
      ...(delivery.rate === undefined ? {} : { rate: formatRate(delivery.rate) }),
      handshake: delivery.handshake ?? false,
      ...(delivery.deadLetterSink === undefined ? {} : { deadLetterSink: delivery.deadLetterSink }),
      // The signing secret itself is never shown; a placeholder says one is set.
      ...(delivery.signingSecret === undefined ? {} : { signingSecret: REDACTED }),
      ...(delivery.reply === undefined ? {} : { reply: delivery.reply }),
      receipts: delivery.receipts ?? false,
    },
    ...(disabled === undefined
      ? {}
      : { disabled: { at: new Date(disabled.at).toISOString(), reason: disabled.reason } }),
  };
}

/** `{ count: 10, perMs: 1000 }` as `10/s`; the config accepts per second and per minute. */
function formatRate(rate: { readonly count: number; readonly perMs: number }): string {
  return rate.perMs === 60_000 ? `${rate.count}/m` : `${rate.count}/s`;
}

/**
 * For a `PUT`: a header sent back as `REDACTED` keeps the value stored under the same name, so a
 * client can edit what it read without knowing the credentials in it. A `REDACTED` header the
 * stored subscription does not have is refused (`InvalidSubscription`): it would be sent as is.
 *
 * @example
 * restoreRedactedHeaders(updated, existing); // authorization: "<redacted>" -> the stored token
 */
export function restoreRedactedHeaders(
  updated: Subscription,
  existing: Subscription | undefined,
): Subscription {
  const stored = existing?.protocolsettings.headers ?? {};
  const storedByName = new Map(Object.entries(stored).map(([k, v]) => [k.toLowerCase(), v]));
  let changed = false;
  const unbacked: string[] = [];
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(updated.protocolsettings.headers)) {
    const kept = value === REDACTED ? storedByName.get(name.toLowerCase()) : undefined;
    if (value === REDACTED && kept === undefined) unbacked.push(name);
    headers[name] = kept ?? value;
    if (kept !== undefined) changed = true;
  }
  if (unbacked.length > 0) {
    throw new InvalidSubscription(
      unbacked.map((name) => ({
        field: `protocolsettings.headers.${name}`,
        message: `${REDACTED} keeps a stored value, and there is none under this name: send the value itself`,
      })),
    );
  }
  return changed
    ? { ...updated, protocolsettings: { ...updated.protocolsettings, headers } }
    : updated;
}

/** Milliseconds in the largest unit that writes them exactly, in the config's duration syntax. */
export function formatDuration(ms: number): string {
  if (ms > 0 && ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms > 0 && ms % 60_000 === 0) return `${ms / 60_000}m`;
  if (ms > 0 && ms % 1_000 === 0) return `${ms / 1_000}s`;
  return `${ms}ms`;
}

/**
 * Prepares a `PUT` body (raw JSON, before validation): drops the read-only members `GET` shows,
 * and a `delivery.signingSecret` sent back as `REDACTED` becomes the stored secret again, so a
 * client can send back what it read (with none stored it is refused: `InvalidSubscription`).
 *
 * @example
 * const proposed = prepareUpdate({ ...resource, id }, existing);
 */
export function prepareUpdate(
  raw: Readonly<Record<string, unknown>>,
  existing: Subscription,
): Record<string, unknown> {
  const body: Record<string, unknown> = { ...raw };
  for (const member of READ_ONLY_MEMBERS) delete body[member];
  const delivery = body.delivery;
  if (typeof delivery === "object" && delivery !== null && !Array.isArray(delivery)) {
    const copy: Record<string, unknown> = { ...(delivery as Record<string, unknown>) };
    if (copy.signingSecret === REDACTED) {
      if (existing.delivery.signingSecret === undefined) {
        throw new InvalidSubscription([
          {
            field: "delivery.signingSecret",
            message: `${REDACTED} keeps the stored secret, and this subscription has none: send a whsec_ secret, or leave it out`,
          },
        ]);
      }
      copy.signingSecret = existing.delivery.signingSecret;
    }
    body.delivery = copy;
  }
  return body;
}
