import type { RetrySettings } from "./backoff.js";
import type { CoalesceSettings } from "./coalescer.js";
import type { ContentMode } from "./encode-message.js";
import { isUriReference } from "./uri-reference.js";

/** How long to wait before retries; every field optional, in milliseconds. */
export interface RetryOptions {
  /** Retries after the first attempt (default 3). */
  readonly retries?: number | undefined;
  /** Cap of the first backoff, doubled on each retry (default 100). */
  readonly baseDelay?: number | undefined;
  /** Longest backoff (default 5000). */
  readonly maxDelay?: number | undefined;
  /** Longest `Retry-After` worth waiting for; a longer one throws at once (default 60000). */
  readonly maxRetryAfter?: number | undefined;
}

/** Gathering of single events into batch requests under load; every field optional. */
export interface CoalesceOptions {
  /** Most events per batch request: the gateway's `limits.maxBatchEvents` (default 100). */
  readonly maxEvents?: number | undefined;
  /** Most bytes per batch request: the gateway's `limits.maxBatchBytes` (default 1048576). */
  readonly maxBatchBytes?: number | undefined;
  /** Requests in flight before events start to queue and share a request (default 4). */
  readonly maxInFlight?: number | undefined;
}

/** Options of `createProducer`, checked once when the producer is made. */
export interface ProducerOptions {
  /** The gateway's ingest URL, e.g. `http://127.0.0.1:8080/events`. */
  readonly endpoint: string | URL;
  /** The CloudEvents `source` of every event this producer makes (a URI-reference, e.g. `/images`). */
  readonly source: string;
  /**
   * Bearer token, or a function giving one (asked on every attempt, e.g. `serviceAccountToken`,
   * within the attempt's `timeout`); visible ASCII, no spaces or control characters.
   */
  readonly token?: string | (() => string | Promise<string>) | undefined;
  /** A `fetch` to use instead of the global one. */
  readonly fetch?: typeof fetch | undefined;
  /** Per-attempt timeout: an integer number of milliseconds, 1 to 2^31-1 (default 10000). */
  readonly timeout?: number | undefined;
  /** Retry settings, or `false` for a single attempt. */
  readonly retry?: RetryOptions | false | undefined;
  /** Content mode of single events (default `binary`); arrays always go in batch mode. */
  readonly mode?: ContentMode | undefined;
  /** Extra headers on every request (not `ce-*`, `content-type` or `authorization`). */
  readonly headers?: Readonly<Record<string, string>> | undefined;
  /**
   * For high event rates: while `maxInFlight` requests are out, further single events wait and
   * go together as one batch-mode request (each still settles on its own). Off by default.
   */
  readonly coalesce?: boolean | CoalesceOptions | undefined;
  /** The gateway's `limits.maxEventBytes` (default 262144): `stateTransfer` refuses larger events. */
  readonly maxEventBytes?: number | undefined;
  /** Most bytes of JSON `data` a notification may carry (default 1024). */
  readonly maxNotificationDataBytes?: number | undefined;
  /** Set `traceparent`/`tracestate` from the active OpenTelemetry span, if any (default true). */
  readonly tracing?: boolean | undefined;
  /** Clock in milliseconds (tests). */
  readonly now?: (() => number) | undefined;
  /** Random numbers in [0, 1) for jitter (tests). */
  readonly random?: (() => number) | undefined;
  /** How to wait between attempts (tests). */
  readonly sleep?: ((ms: number) => Promise<void>) | undefined;
}

/** `ProducerOptions` with every default applied and every value checked. */
export interface ProducerSettings {
  readonly endpoint: string;
  readonly source: string;
  readonly token: (() => string | Promise<string>) | undefined;
  readonly fetch: typeof fetch;
  readonly timeoutMs: number;
  readonly retry: RetrySettings;
  readonly mode: ContentMode;
  readonly headers: Readonly<Record<string, string>>;
  readonly coalesce: CoalesceSettings | undefined;
  readonly maxEventBytes: number;
  readonly maxNotificationDataBytes: number;
  readonly tracing: boolean;
  readonly now: () => number;
  readonly random: () => number;
  readonly sleep: (ms: number) => Promise<void>;
}

const TOKEN_CHARS = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
// A bearer token: visible ASCII only (no spaces, line breaks or other controls), at least one.
const BEARER_TOKEN = /^[\x21-\x7e]+$/;

/** Whether `value` can go in `Authorization: Bearer <value>` as is. */
export function isBearerToken(value: unknown): value is string {
  return typeof value === "string" && BEARER_TOKEN.test(value);
}
const RESERVED_HEADERS = new Set(["content-type", "authorization", "content-length"]);

function fail(message: string): never {
  throw new TypeError(`createProducer: ${message}`);
}

/** A delay option: any finite number from 0 (Number.isFinite is false for anything else). */
function milliseconds(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isFinite(value) || value < 0) fail(`${name} must be a number of milliseconds >= 0`);
  return value;
}

/** The longest delay `setTimeout` (so `AbortSignal.timeout`) takes; a longer one fires at once. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** An integer option from `min` (to `max`, when given), e.g. "an integer number of bytes >= 1". */
function integer(
  name: string,
  value: number | undefined,
  fallback: number,
  min: number,
  unit = "",
  max?: number,
): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value < min || value > (max ?? value)) {
    fail(`${name} must be an integer${unit} ${max ? `from ${min} to ${max}` : `>= ${min}`}`);
  }
  return value;
}

function endpointOf(value: string | URL | undefined): string {
  let url: URL;
  try {
    url = new URL(String(value));
  } catch {
    return fail("endpoint must be an absolute http(s) URL");
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    fail("endpoint must be an absolute http(s) URL");
  }
  if (url.username || url.password) {
    fail("endpoint must not hold credentials; use token");
  }
  return url.href;
}

function tokenOf(token: ProducerOptions["token"]): ProducerSettings["token"] {
  if (token === undefined) return undefined;
  if (typeof token === "function") return token;
  if (!isBearerToken(token)) {
    fail("token must be a non-empty string of visible ASCII (no spaces), or a function giving one");
  }
  return () => token;
}

function retryOf(retry: ProducerOptions["retry"]): RetrySettings {
  // `false`: no retry, so the delays (their defaults) never apply.
  const r = retry === false ? { retries: 0 } : (retry ?? {});
  return {
    retries: integer("retry.retries", r.retries, 3, 0),
    baseDelayMs: milliseconds("retry.baseDelay", r.baseDelay, 100),
    maxDelayMs: milliseconds("retry.maxDelay", r.maxDelay, 5_000),
    maxRetryAfterMs: milliseconds("retry.maxRetryAfter", r.maxRetryAfter, 60_000),
  };
}

function headersOf(headers: ProducerOptions["headers"]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [rawName, value] of Object.entries(headers ?? {})) {
    const name = rawName.toLowerCase();
    if (!TOKEN_CHARS.test(name)) fail(`header name ${JSON.stringify(rawName)} is not valid`);
    if (name.startsWith("ce-") || RESERVED_HEADERS.has(name)) {
      fail(`header ${name} is set from the event or the token`);
    }
    if (typeof value !== "string" || /[\r\n]/.test(value))
      fail(`header ${name} needs a one-line value`);
    out[name] = value;
  }
  return out;
}

function coalesceOf(coalesce: ProducerOptions["coalesce"]): CoalesceSettings | undefined {
  if (coalesce === undefined || coalesce === false) return undefined;
  const c = coalesce === true ? {} : coalesce;
  return {
    maxEvents: integer("coalesce.maxEvents", c.maxEvents, 100, 1),
    maxBatchBytes: integer("coalesce.maxBatchBytes", c.maxBatchBytes, 1_048_576, 1),
    maxInFlight: integer("coalesce.maxInFlight", c.maxInFlight, 4, 1),
  };
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Checks `ProducerOptions` once and applies the defaults; a mistake is a `TypeError` naming the
 * option, at construction rather than at the first event.
 *
 * @example
 * producerSettings({ endpoint: "http://127.0.0.1:8080/events", source: "/images" }).timeoutMs; // 10000
 */
export function producerSettings(options: ProducerOptions): ProducerSettings {
  if (options === null || typeof options !== "object") fail("options are required");
  const { source, mode = "binary", tracing = true } = options;
  if (!isUriReference(source)) {
    fail("source must be a non-empty URI-reference (RFC 3986); percent-encode other characters");
  }
  if (mode !== "binary" && mode !== "structured") fail('mode must be "binary" or "structured"');
  const custom = options.fetch;
  if (custom !== undefined && typeof custom !== "function") fail("fetch must be a function");
  if (custom === undefined && typeof globalThis.fetch !== "function") fail("no global fetch here");
  return {
    endpoint: endpointOf(options.endpoint),
    source,
    token: tokenOf(options.token),
    // Called as a plain function: Workers' fetch refuses any other `this` (Illegal invocation).
    fetch: custom ?? ((input, init) => globalThis.fetch(input, init)),
    timeoutMs: integer(
      "timeout",
      options.timeout,
      10_000,
      1,
      " number of milliseconds",
      MAX_TIMER_MS,
    ),
    retry: retryOf(options.retry),
    mode,
    headers: headersOf(options.headers),
    coalesce: coalesceOf(options.coalesce),
    maxEventBytes: integer("maxEventBytes", options.maxEventBytes, 262_144, 1, " number of bytes"),
    maxNotificationDataBytes: integer(
      "maxNotificationDataBytes",
      options.maxNotificationDataBytes,
      1024,
      0,
      " number of bytes",
    ),
    tracing: tracing !== false,
    now: options.now ?? Date.now,
    random: options.random ?? Math.random,
    sleep: options.sleep ?? defaultSleep,
  };
}
