import { formatFieldPath } from "../config/field-path.js";
import { isSecretParameter } from "../deliver/redact-secrets.js";
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
import { InvalidSubscription, type SubscriptionIssue } from "./invalid-subscription.js";

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
const SENSITIVE_HEADER =
  /auth|cookie|token|secret|passw|key|signature|credential|session|jwt|bearer/i;

/**
 * A subscription as the Subscriptions API shows it (spec 3.2.1, with every default applied, 3.2.5.1
 * "Realized subscription object"): Herald's normalised form turned back into the input shape, so
 * what `GET` returns can be sent back with `PUT` unchanged. Durations are written in the largest
 * exact unit (`5s`, `250ms`, `1m`); credentials in `protocolsettings.headers` are shown as
 * `REDACTED`, and so are the values of credential-like query parameters of `sink` and
 * `deadLetterSink` (`?code=`, `?token=`: see `hideUrlSecrets`); a delivery `signingSecret` is
 * never shown.
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
    ...(subscription.config === undefined ? {} : { config: subscription.config }),
    filters: subscription.filters,
    sink: hideUrlSecrets(subscription.sink),
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
      ...(delivery.deadLetterSink === undefined
        ? {}
        : { deadLetterSink: hideUrlSecrets(delivery.deadLetterSink) }),
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
 * stored subscription does not have is refused (`InvalidSubscription`): it would be sent as is;
 * so is one whose sink moved to another origin, which must not receive the stored credential.
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
  // A stored credential goes only where it was sent before: a PUT that moves the sink to another
  // origin and sends `<redacted>` back would otherwise hand the hidden value to the new host, and
  // GET hides it precisely so that an admin token cannot read it.
  const sameOrigin = existing !== undefined && sameUrlOrigin(updated.sink, existing.sink);
  let changed = false;
  const unbacked: string[] = [];
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(updated.protocolsettings.headers)) {
    const storedValue = value === REDACTED ? storedByName.get(name.toLowerCase()) : undefined;
    const kept = sameOrigin ? storedValue : undefined;
    if (value === REDACTED && kept === undefined) unbacked.push(name);
    headers[name] = kept ?? value;
    if (kept !== undefined) changed = true;
  }
  if (unbacked.length > 0) {
    throw new InvalidSubscription(
      unbacked.map((name) => ({
        // Spelt as every other check spells a header's field (`headers["x-api-key"]`).
        field: formatFieldPath(["protocolsettings", "headers", name]),
        message:
          storedByName.has(name.toLowerCase()) && existing !== undefined
            ? `${REDACTED} keeps a stored value only while the sink keeps its origin (scheme, host and port); the sink moved: send the value itself`
            : `${REDACTED} keeps a stored value, and there is none under this name: send the value itself`,
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
  const body = restoreRedactedUrls(raw, existing);
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

/**
 * A sink URL as the API shows it: the values of its credential-like query parameters (the names
 * `redact-secrets.ts` treats as secrets: `code`, `token`, `sig`, `api_key`, ...) are `REDACTED`,
 * everything else stays as written. Azure Functions, Slack and many webhook receivers take their
 * credential in the URL, and DESIGN.md allows no secret in a response.
 *
 * @example
 * hideUrlSecrets("https://fn.example.net/api/in?code=abc&team=a");
 * // "https://fn.example.net/api/in?code=<redacted>&team=a"
 */
export function hideUrlSecrets(url: string): string {
  return mapSecretParameters(url, (name) => `${name}=${REDACTED}`);
}

/**
 * Raw API input (before validation) with each credential-like query value of `sink` and
 * `delivery.deadLetterSink` sent back as `REDACTED` replaced by the stored one of the same name
 * (in the same field of `existing`), so a client can send back what it read. Without a stored
 * value behind it (a create, or a new parameter) it is refused: `REDACTED` would be sent as is;
 * so is one in a URL whose origin changed, which must not receive the stored credential.
 *
 * @example
 * restoreRedactedUrls({ sink: "https://fn.example.net/api/in?code=<redacted>" }, existing);
 * // { sink: "https://fn.example.net/api/in?code=abc" }
 */
export function restoreRedactedUrls(
  raw: Readonly<Record<string, unknown>>,
  existing: Subscription | undefined,
): Record<string, unknown> {
  const body: Record<string, unknown> = { ...raw };
  // Both URLs are looked at before refusing, so one answer names every unbacked value.
  const issues: SubscriptionIssue[] = [];
  body.sink = restoreUrl(body.sink, existing?.sink, "sink", issues);
  const delivery = body.delivery;
  if (typeof delivery === "object" && delivery !== null && !Array.isArray(delivery)) {
    const copy: Record<string, unknown> = { ...(delivery as Record<string, unknown>) };
    copy.deadLetterSink = restoreUrl(
      copy.deadLetterSink,
      existing?.delivery.deadLetterSink,
      "delivery.deadLetterSink",
      issues,
    );
    if (copy.deadLetterSink === undefined) delete copy.deadLetterSink;
    body.delivery = copy;
  }
  if (issues.length > 0) throw new InvalidSubscription(issues);
  if (body.sink === undefined) delete body.sink;
  return body;
}

function restoreUrl(
  value: unknown,
  stored: string | undefined,
  field: string,
  issues: SubscriptionIssue[],
): unknown {
  if (typeof value !== "string") return value;
  // The stored raw values of each secret parameter, in order (a name may repeat); none for a URL
  // of another origin, which must not receive the stored credentials (see restoreRedactedHeaders).
  const kept = new Map<string, string[]>();
  const moved = stored !== undefined && !sameUrlOrigin(value, stored);
  if (stored !== undefined && !moved) {
    mapSecretParameters(stored, (rawName, name, rawValue) => {
      kept.set(name, [...(kept.get(name) ?? []), rawValue]);
      return `${rawName}=${rawValue}`;
    });
  }
  const unbacked: string[] = [];
  const restored = mapSecretParameters(value, (rawName, name, rawValue) => {
    if (decodeQuery(rawValue) !== REDACTED) return `${rawName}=${rawValue}`;
    const back = kept.get(name)?.shift();
    if (back === undefined) unbacked.push(name);
    return `${rawName}=${back ?? rawValue}`;
  });
  for (const name of unbacked) {
    issues.push({
      field,
      message: moved
        ? `${REDACTED} as the value of the query parameter ${JSON.stringify(name)} keeps a stored value only while the URL keeps its origin (scheme, host and port); it moved: send the value itself`
        : `${REDACTED} as the value of the query parameter ${JSON.stringify(name)} keeps a stored value, and there is none: send the value itself`,
    });
  }
  return restored;
}

/** Whether two URLs have one origin (scheme, host, port); an unparsable one has none. */
function sameUrlOrigin(a: string, b: string): boolean {
  if (!URL.canParse(a) || !URL.canParse(b)) return false;
  return new URL(a).origin === new URL(b).origin;
}

/**
 * Rewrites each `name=value` pair of a URL's query whose decoded name is credential-like and
 * whose value is not empty with `replace(rawName, name, rawValue)`; the rest of the text (the
 * path, other pairs, the fragment) is kept byte for byte.
 */
function mapSecretParameters(
  url: string,
  replace: (rawName: string, name: string, rawValue: string) => string,
): string {
  const hash = url.indexOf("#");
  const beforeHash = hash < 0 ? url : url.slice(0, hash);
  const fragment = hash < 0 ? "" : url.slice(hash);
  const question = beforeHash.indexOf("?");
  if (question < 0) return url;
  const pairs = beforeHash
    .slice(question + 1)
    .split("&")
    .map((pair) => {
      const equals = pair.indexOf("=");
      if (equals <= 0 || equals === pair.length - 1) return pair;
      const rawName = pair.slice(0, equals);
      const name = decodeQuery(rawName);
      return isSecretParameter(name) ? replace(rawName, name, pair.slice(equals + 1)) : pair;
    });
  return `${beforeHash.slice(0, question + 1)}${pairs.join("&")}${fragment}`;
}

/** A query name or value decoded as `URLSearchParams` does (`+` is a space); as written if broken. */
function decodeQuery(text: string): string {
  try {
    return decodeURIComponent(text.replace(/\+/g, " "));
  } catch {
    return text;
  }
}
