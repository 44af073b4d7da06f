/**
 * The subscriptions a target must be configured with for the suite to observe routing. They are
 * static (the same for every run); each run tells its own events apart by unique ids.
 */

/** Event `type` of the suite's ordinary events (seen only by the catch-all subscriptions). */
export const SUITE_TYPE = "dev.herald.conformance.event";
/** Event `type` of the sentinels sent after a bad event to prove it was never delivered. */
export const SENTINEL_TYPE = "dev.herald.conformance.sentinel";
/** Every filter-case event has a `type` starting with this; each filter subscription requires it. */
export const FILTER_TYPE_PREFIX = "dev.herald.conformance.filter.";
/** Default `type` of filter-case events. */
export const FILTER_TYPE = `${FILTER_TYPE_PREFIX}event`;
/** `source` the `source`-scoped subscription matches exactly. */
export const FILTER_SOURCE = "/herald/conformance/filter-source";
/** The two types the `types`-scoped subscription lists. */
export const FILTER_TYPES = [
  `${FILTER_TYPE_PREFIX}typed.a`,
  `${FILTER_TYPE_PREFIX}typed.b`,
] as const;
/** Header the `protocolsettings.headers` subscription adds to its deliveries. */
export const FILTER_HEADER = { name: "x-herald-conformance", value: "headers-ok" } as const;

/** Sink path of each subscription, relative to the sink's base URL. */
export const SINK_PATHS = {
  binary: "/binary",
  structured: "/structured",
  exact: "/filter/exact",
  prefix: "/filter/prefix",
  suffix: "/filter/suffix",
  all: "/filter/all",
  any: "/filter/any",
  not: "/filter/not",
  nesting: "/filter/nesting",
  source: "/filter/source",
  types: "/filter/types",
  headers: "/filter/headers",
} as const;

/**
 * The on-success cases (replies and receipts, issue 11): the types that reach each on-success
 * subscription. Each of those subscriptions lists exactly one of them in `types` (or, for the
 * receipts, is scoped by `source`), so no other case's events reach it.
 */
export const ON_SUCCESS_TYPES = {
  /** Delivered to `/reply/echo`, whose answer is a reply the policy allows. */
  reply: "dev.herald.conformance.on-success.reply",
  /** Delivered to `/reply/outside`, whose answer is a reply the policy does not allow. */
  outside: "dev.herald.conformance.on-success.outside",
  /** Delivered to `/receipts/delivered`, whose subscription emits delivery receipts. */
  receipted: "dev.herald.conformance.on-success.receipted",
  /** Delivered to `/reply/malformed`, whose answer is a 200 with an invalid reply event. */
  malformed: "dev.herald.conformance.on-success.malformed",
  /** Delivered to `/reply/loop`, whose answer is a reply of this same type (a reply loop). */
  loop: "dev.herald.conformance.on-success.loop",
  /** Delivered to `/receipts/failing`, which answers 500; its subscription emits receipts. */
  failing: "dev.herald.conformance.on-success.failing",
} as const;

/** The reply events the suite's sink answers with at the reply paths, and the reply policy. */
export const REPLY = {
  /** `source` of every reply the sink makes. */
  source: "/herald/conformance/replier",
  /** `type` of a reply the policy allows (`/reply/echo`). */
  type: "dev.herald.conformance.reply",
  /** `type` of a reply outside the policy (`/reply/outside`). */
  outsideType: "dev.herald.conformance.reply.outside",
  /** A reply's `id`: this prefix, then the id of the event it answers. */
  idPrefix: "reply-",
} as const;

/** Sink paths of the on-success subscriptions (and of the dead-letter sinks some of them use). */
export const ON_SUCCESS_PATHS = {
  /** Answers every delivery with a reply ({@link REPLY}`.type`). */
  reply: "/reply/echo",
  /** Answers every delivery with a reply outside the policy ({@link REPLY}`.outsideType`). */
  outside: "/reply/outside",
  /** Where the allowed replies are routed (by their type). */
  routed: "/reply/routed",
  /** `deadLetterSink` of the `outside` subscription: no subscription's own sink. */
  deadLetter: "/reply/dead-letter",
  /** Sink of the subscription that emits receipts. */
  receipted: "/receipts/delivered",
  /** Where that subscription's receipts are routed (by their source). */
  receipts: "/receipts",
  /** Answers every delivery with 200 and a malformed reply ({@link MALFORMED_REPLY}). */
  malformed: "/reply/malformed",
  /** Answers every delivery with a reply of {@link ON_SUCCESS_TYPES}`.loop`: a reply loop. */
  loop: "/reply/loop",
  /** Answers every delivery with 500 ({@link FAILING_STATUS}); its subscription has `retry: 0`. */
  failing: "/receipts/failing",
  /** Where the `failed` receipts of the failing subscription are routed (source and filters). */
  failures: "/receipts/failures",
  /** `deadLetterSink` of the failing subscription: no subscription's own sink. */
  failingDeadLetter: "/receipts/dead-letter",
  /** Where every `disabled` receipt is routed (by a filter on its type). */
  disabled: "/receipts/disabled",
} as const;

/**
 * The suite's sink answers `410 Gone` at every path under this prefix. The 410 case creates its
 * own subscription there through the Subscriptions API (the 410 disables it, and a config
 * subscription disabled once would stay so for every later run against the same gateway).
 */
export const GONE_PATH_PREFIX = "/gone/";

/**
 * Sink paths the delivery cases script (DESIGN.md "Delivery semantics"): under `flaky` the first
 * POST to a path gets a `503` (or the status its next segment names, `408` or `429`:
 * `/delivery/flaky/429/...`) and every later one a `204`; under `rejecting` every POST gets a
 * `400` (a 4xx that is not retried); under `failing` every POST gets a `500`.
 */
export const DELIVERY_PATH_PREFIXES = {
  flaky: "/delivery/flaky/",
  rejecting: "/delivery/rejecting/",
  failing: "/delivery/failing/",
} as const;

/** The status the sink answers at {@link ON_SUCCESS_PATHS}`.failing`: retried, were retries left. */
export const FAILING_STATUS = 500;

/**
 * The malformed replies the sink answers at `/reply/malformed`, chosen by the delivered event's
 * `subject`: a binary-mode reply without `ce-source` (a required attribute), or a structured-mode
 * reply whose JSON is an array holding an event rather than an event object (JSON format 3).
 */
export const MALFORMED_REPLY = {
  missingSource: "missing-source",
  notAnObject: "not-an-object",
} as const;

/** The subscription ids the on-success cases rely on (receipts and `authid`s name them). */
export const ON_SUCCESS_IDS = {
  reply: "conformance-reply",
  outside: "conformance-reply-outside",
  routed: "conformance-replies",
  receipted: "conformance-receipted",
  receipts: "conformance-receipts",
  malformed: "conformance-reply-malformed",
  loop: "conformance-reply-loop",
  failing: "conformance-failing",
  failures: "conformance-failures",
  disabled: "conformance-disabled",
} as const;

/** The receipt types (Herald README "Delivery receipts"). */
export const RECEIPT_TYPES = {
  succeeded: "dev.herald.delivery.succeeded",
  failed: "dev.herald.delivery.failed",
  disabled: "dev.herald.subscription.disabled",
} as const;

/** `source` of the receipts of a subscription (Herald README "Delivery receipts"). */
export const receiptSource = (subscriptionId: string): string =>
  `/herald/subscriptions/${subscriptionId}`;

/** Name of a conformance subscription (a key of {@link SINK_PATHS}). */
export type SinkName = keyof typeof SINK_PATHS;

/** A filter-case subscription (every one but the two catch-alls). */
export type FilterSinkName = Exclude<SinkName, "binary" | "structured">;

/** A filter expression (Subscriptions API 0.1, section 3.2.4.1). */
export type FilterExpression =
  | { readonly exact: Readonly<Record<string, string>> }
  | { readonly prefix: Readonly<Record<string, string>> }
  | { readonly suffix: Readonly<Record<string, string>> }
  | { readonly all: readonly FilterExpression[] }
  | { readonly any: readonly FilterExpression[] }
  | { readonly not: FilterExpression };

/** A reply policy (`delivery.reply`): globs over the reply's `source` and `type`. */
export interface ReplyPolicy {
  readonly sources: readonly string[];
  readonly types: readonly string[];
}

/** The `delivery` of a conformance subscription (DESIGN.md; `reply`, `receipts`: issue 11). */
export interface ConformanceDelivery {
  readonly mode: "binary" | "structured";
  readonly deadLetterSink?: string;
  readonly reply?: ReplyPolicy;
  readonly receipts?: boolean;
  readonly retry?: number;
}

/** A subscription in the shape of DESIGN.md's config (`subscriptions:` entries). */
export interface ConformanceSubscription {
  readonly id: string;
  readonly source?: string;
  readonly types?: readonly string[];
  readonly filters: readonly FilterExpression[];
  readonly sink: string;
  readonly protocol: "HTTP";
  readonly protocolsettings?: { readonly headers: Readonly<Record<string, string>> };
  readonly delivery: ConformanceDelivery;
}

const scope: FilterExpression = { prefix: { type: FILTER_TYPE_PREFIX } };

/** Filters of each filter-dialect subscription; the filter cases rely on exactly these. */
export const FILTERS: Readonly<Record<FilterSinkName, readonly FilterExpression[]>> = {
  exact: [scope, { exact: { subject: "exact-match", conformanceflag: "enabled" } }],
  prefix: [scope, { prefix: { subject: "prefix/" } }],
  suffix: [scope, { suffix: { subject: ".jpg" } }],
  all: [
    { all: [scope, { prefix: { subject: "all/" } }, { exact: { conformanceflag: "enabled" } }] },
  ],
  any: [scope, { any: [{ exact: { subject: "any-a" } }, { exact: { subject: "any-b" } }] }],
  not: [scope, { prefix: { subject: "not/" } }, { not: { exact: { subject: "not/excluded" } } }],
  nesting: [
    scope,
    {
      any: [
        { all: [{ prefix: { subject: "nest/" } }, { not: { suffix: { subject: "/skip" } } }] },
        { exact: { conformanceflag: "nested" } },
      ],
    },
  ],
  source: [scope],
  types: [],
  headers: [scope, { exact: { subject: "headers" } }],
};

/**
 * The subscription list the target must be configured with, pointing at a sink base URL:
 * two catch-alls (no filters: every event), one per delivery mode; one per filter-dialect
 * case, each scoped to the suite's filter events by a `type` prefix; and the ten on-success
 * subscriptions (replies, refused replies, a reply loop and receipts), each scoped to its own
 * `type` or, for the receipts, to the receipt `source` of one of them or a receipt `type`. With
 * `herald: false` the on-success ones are left out: their `delivery.reply` and
 * `delivery.receipts` are Herald's, beyond DESIGN.md, so another gateway would refuse them.
 *
 * @example
 * const subs = conformanceSubscriptions("http://127.0.0.1:9999");
 * subs[0]; // { id: "conformance-binary", filters: [], sink: "http://127.0.0.1:9999/binary", ... }
 */
export function conformanceSubscriptions(
  sinkBaseUrl: string,
  options: { readonly herald?: boolean } = {},
): ConformanceSubscription[] {
  const base = normaliseBase(sinkBaseUrl);
  const sub = (
    name: SinkName,
    filters: readonly FilterExpression[],
    extra: Partial<ConformanceSubscription> = {},
  ): ConformanceSubscription => ({
    id: `conformance-${name}`,
    ...(extra.source === undefined ? {} : { source: extra.source }),
    ...(extra.types === undefined ? {} : { types: extra.types }),
    filters,
    sink: `${base}${SINK_PATHS[name]}`,
    protocol: "HTTP",
    ...(extra.protocolsettings === undefined ? {} : { protocolsettings: extra.protocolsettings }),
    delivery: { mode: extra.delivery?.mode ?? "binary" },
  });
  return [
    sub("binary", []),
    sub("structured", [], { delivery: { mode: "structured" } }),
    sub("exact", FILTERS.exact),
    sub("prefix", FILTERS.prefix),
    sub("suffix", FILTERS.suffix),
    sub("all", FILTERS.all),
    sub("any", FILTERS.any),
    sub("not", FILTERS.not),
    sub("nesting", FILTERS.nesting),
    sub("source", FILTERS.source, { source: FILTER_SOURCE }),
    sub("types", FILTERS.types, { types: [...FILTER_TYPES] }),
    sub("headers", FILTERS.headers, {
      protocolsettings: { headers: { [FILTER_HEADER.name]: FILTER_HEADER.value } },
    }),
    ...(options.herald === false ? [] : onSuccessSubscriptions(base)),
  ];
}

/** The reply policy of both reply subscriptions: the sink's source, the allowed type only. */
export const REPLY_POLICY: ReplyPolicy = { sources: [REPLY.source], types: [REPLY.type] };

function onSuccessSubscriptions(base: string): ConformanceSubscription[] {
  const sub = (
    name: keyof typeof ON_SUCCESS_IDS,
    scope: { types: readonly string[] } | { source?: string; filters: FilterExpression[] },
    delivery: Omit<ConformanceDelivery, "mode"> = {},
  ): ConformanceSubscription => ({
    id: ON_SUCCESS_IDS[name],
    ...("types" in scope
      ? { types: [...scope.types] }
      : scope.source === undefined
        ? {}
        : { source: scope.source }),
    filters: "filters" in scope ? scope.filters : [],
    sink: `${base}${ON_SUCCESS_PATHS[name]}`,
    protocol: "HTTP",
    delivery: { mode: "binary", ...delivery },
  });
  const policy = { sources: [...REPLY_POLICY.sources], types: [...REPLY_POLICY.types] };
  return [
    sub("reply", { types: [ON_SUCCESS_TYPES.reply] }, { reply: policy }),
    sub(
      "outside",
      { types: [ON_SUCCESS_TYPES.outside] },
      { reply: policy, deadLetterSink: `${base}${ON_SUCCESS_PATHS.deadLetter}` },
    ),
    sub("routed", { types: [REPLY.type] }),
    sub("receipted", { types: [ON_SUCCESS_TYPES.receipted] }, { receipts: true }),
    // Receipts of `conformance-receipted` only; it emits receipts too, so a receipt of one of
    // its deliveries (a receipt of a receipt) would show: it must never be made.
    sub(
      "receipts",
      {
        source: receiptSource(ON_SUCCESS_IDS.receipted),
        filters: [{ prefix: { type: "dev.herald." } }],
      },
      { receipts: true },
    ),
    // Malformed replies and a reply loop: refused, each dead-letters the event that got it.
    sub(
      "malformed",
      { types: [ON_SUCCESS_TYPES.malformed] },
      { reply: policy, deadLetterSink: `${base}${ON_SUCCESS_PATHS.deadLetter}` },
    ),
    sub(
      "loop",
      { types: [ON_SUCCESS_TYPES.loop] },
      {
        reply: { sources: [REPLY.source], types: [ON_SUCCESS_TYPES.loop] },
        deadLetterSink: `${base}${ON_SUCCESS_PATHS.deadLetter}`,
      },
    ),
    // A sink that fails at once (no retries), with receipts; its `failed` receipts routed by an
    // ordinary subscription with a filter, as a user would route an alert.
    sub(
      "failing",
      { types: [ON_SUCCESS_TYPES.failing] },
      {
        retry: 0,
        receipts: true,
        deadLetterSink: `${base}${ON_SUCCESS_PATHS.failingDeadLetter}`,
      },
    ),
    sub("failures", {
      source: receiptSource(ON_SUCCESS_IDS.failing),
      filters: [{ exact: { type: RECEIPT_TYPES.failed, authid: "herald" } }],
    }),
    // Every `disabled` receipt (the 410 case's subscription is made through the API, its id the
    // gateway's): the case picks its own by source.
    sub("disabled", {
      filters: [{ exact: { type: RECEIPT_TYPES.disabled, authid: "herald" } }],
    }),
  ];
}

function normaliseBase(url: string): string {
  const parsed = URL.canParse(url) ? new URL(url) : null;
  if (parsed === null || (parsed.protocol !== "http:" && parsed.protocol !== "https:")) {
    throw new TypeError(`sink base URL must be an absolute http(s) URL (got "${url}")`);
  }
  // The sink paths are appended to it: `?x=1` would end up as `?x=1/binary`.
  if (parsed.search !== "" || parsed.hash !== "") {
    throw new TypeError(`sink base URL must have no query or fragment (got "${url}")`);
  }
  return parsed.href.replace(/\/+$/, "");
}
