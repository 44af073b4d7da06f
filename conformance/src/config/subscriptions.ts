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

/** A subscription in the shape of DESIGN.md's config (`subscriptions:` entries). */
export interface ConformanceSubscription {
  readonly id: string;
  readonly source?: string;
  readonly types?: readonly string[];
  readonly filters: readonly FilterExpression[];
  readonly sink: string;
  readonly protocol: "HTTP";
  readonly protocolsettings?: { readonly headers: Readonly<Record<string, string>> };
  readonly delivery: { readonly mode: "binary" | "structured" };
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
 * two catch-alls (no filters: every event), one per delivery mode, and one per filter-dialect
 * case, each scoped to the suite's filter events by a `type` prefix.
 *
 * @example
 * const subs = conformanceSubscriptions("http://127.0.0.1:9999");
 * subs[0]; // { id: "conformance-binary", filters: [], sink: "http://127.0.0.1:9999/binary", ... }
 */
export function conformanceSubscriptions(sinkBaseUrl: string): ConformanceSubscription[] {
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
  ];
}

function normaliseBase(url: string): string {
  const parsed = new URL(url);
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") {
    throw new TypeError(`sink base URL must be http(s): ${url}`);
  }
  return parsed.href.replace(/\/+$/, "");
}
