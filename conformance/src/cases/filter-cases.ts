import {
  FILTER_HEADER,
  FILTER_SOURCE,
  FILTER_TYPE,
  FILTER_TYPE_PREFIX,
  FILTER_TYPES,
  type FilterSinkName,
  SINK_PATHS,
  type SinkName,
} from "../config/subscriptions.js";
import { type Attributes, binaryRequest } from "../events/requests.js";
import { type CaseContext, type ConformanceCase, check } from "./case.js";
import { expectAccepted, waitForId } from "./expect.js";

const SUB = "Subscriptions API 0.1 §3.2.4.1";

/** Attributes of one filter-case event and whether the subscription under test must get it. */
export interface Probe {
  readonly attributes: Attributes;
  readonly match: boolean;
}

/**
 * A probe event: `match` says whether the subscription under test must receive it.
 *
 * @example
 * probe(false, { subject: "elsewhere" });
 */
export const probe = (match: boolean, attributes: Attributes): Probe => ({ match, attributes });
const subject = (match: boolean, value: string, more: Attributes = {}) =>
  probe(match, { subject: value, ...more });

/**
 * Sends every non-matching probe and waits until the catch-all sink has each (so the gateway has
 * routed them), then sends the matching ones and waits for each at the subscription's sink.
 * Finally no non-matching probe may have reached that sink. Returns the matching receptions.
 */
function route(ctx: CaseContext, sink: SinkName, probes: readonly Probe[]) {
  return routeProbes(ctx, SINK_PATHS[sink], probes, { type: FILTER_TYPE });
}

/**
 * {@link route} for any sink path: each probe is `ctx.event({ ...base, ...probe.attributes })`.
 * The sentinel pattern again: the catch-all having every miss proves they were routed, without
 * sleeping. Returns the receptions of the matching probes at `path`.
 *
 * @example
 * await routeProbes(ctx, "/mine", [probe(true, { subject: "a" }), probe(false, { subject: "b" })]);
 */
export async function routeProbes(
  ctx: CaseContext,
  path: string,
  probes: readonly Probe[],
  base: Attributes = {},
) {
  const send = async (p: Probe) => {
    const event = ctx.event({ ...base, ...p.attributes });
    expectAccepted(await ctx.send(binaryRequest(event)));
    return String(event.id);
  };
  const misses = new Map<string, Probe>();
  for (const p of probes.filter((p) => !p.match)) misses.set(await send(p), p);
  await Promise.all([...misses.keys()].map((id) => waitForId(ctx, SINK_PATHS.binary, id)));
  const hits: string[] = [];
  for (const p of probes.filter((p) => p.match)) hits.push(await send(p));
  const received = await Promise.all(hits.map((id) => waitForId(ctx, path, id)));
  const wrong = ctx.sink.received
    .filter((r) => r.path === path)
    .map((r) => misses.get(String(r.event.attributes.id)))
    .filter((p) => p !== undefined);
  check(
    wrong.length === 0,
    `${path} received events its filters exclude: ${wrong.map((p) => JSON.stringify(p.attributes)).join(", ")}`,
  );
  return received;
}

/**
 * For each filter subscription (see `config/subscriptions.ts`), events and whether that
 * subscription must receive them. Every probe also carries `type: FILTER_TYPE` unless it sets one.
 */
export const FILTER_PROBES: Readonly<Record<FilterSinkName, readonly Probe[]>> = {
  exact: [
    subject(true, "exact-match", { conformanceflag: "enabled" }),
    subject(false, "exact-match"),
    subject(false, "exact-match", { conformanceflag: "disabled" }),
    subject(false, "Exact-Match", { conformanceflag: "enabled" }),
    subject(false, "exact-match-2", { conformanceflag: "enabled" }),
  ],
  prefix: [
    subject(true, "prefix/a/b"),
    subject(true, "prefix/"),
    subject(false, "Prefix/a"),
    subject(false, "prefix"),
    probe(false, {}),
  ],
  suffix: [
    subject(true, "photos/cat.jpg"),
    subject(true, ".jpg"),
    subject(false, "photos/cat.JPG"),
    subject(false, "photos/cat.jpg.png"),
  ],
  all: [
    subject(true, "all/x", { conformanceflag: "enabled" }),
    subject(false, "all/x", { conformanceflag: "disabled" }),
    subject(false, "all/x"),
    subject(false, "other", { conformanceflag: "enabled" }),
  ],
  any: [subject(true, "any-a"), subject(true, "any-b"), subject(false, "any-c"), probe(false, {})],
  not: [subject(true, "not/included"), subject(false, "not/excluded"), subject(false, "elsewhere")],
  nesting: [
    subject(true, "nest/a"),
    subject(true, "elsewhere", { conformanceflag: "nested" }),
    subject(true, "nest/a/skip", { conformanceflag: "nested" }),
    subject(false, "nest/a/skip"),
    subject(false, "elsewhere"),
  ],
  source: [
    probe(true, { source: FILTER_SOURCE }),
    probe(false, { source: `${FILTER_SOURCE}/sub` }),
    probe(false, { source: FILTER_SOURCE.toUpperCase() }),
  ],
  types: [
    probe(true, { type: FILTER_TYPES[0] }),
    probe(true, { type: FILTER_TYPES[1] }),
    probe(false, { type: `${FILTER_TYPE_PREFIX}typed.c` }),
    probe(false, { type: `${FILTER_TYPES[0]}.more` }),
  ],
  headers: [subject(true, "headers"), subject(false, "no-headers")],
};

function filterCase(name: string, sink: FilterSinkName): ConformanceCase {
  return {
    name: `filters: ${name}`,
    spec: sink === "source" || sink === "types" ? "Subscriptions API 0.1 §3.2.1" : SUB,
    async run(ctx) {
      await route(ctx, sink, FILTER_PROBES[sink]);
    },
  };
}

/** Routing by the filter dialects (Subscriptions API 0.1, 3.2.4) and by `source` / `types`. */
export const filterCases: readonly ConformanceCase[] = [
  filterCase("exact: every listed attribute equal, case-sensitive", "exact"),
  filterCase("prefix: starts with, case-sensitive", "prefix"),
  filterCase("suffix: ends with, case-sensitive", "suffix"),
  filterCase("all: every nested expression true", "all"),
  filterCase("any: at least one nested expression true", "any"),
  filterCase("not: inverts the nested expression; top-level filters ANDed", "not"),
  filterCase("nesting: any of (all of prefix, not suffix) or exact", "nesting"),
  filterCase("source: exact match on the event source", "source"),
  filterCase("types: the event type is one of the listed types", "types"),
  {
    name: "filters: protocolsettings.headers added to that subscription's deliveries only",
    spec: "Subscriptions API 0.1 §3.2.2.1 (headers)",
    async run(ctx) {
      const [hit] = await route(ctx, "headers", FILTER_PROBES.headers);
      const value = hit?.delivery.headers[FILTER_HEADER.name];
      check(value === FILTER_HEADER.value, `${FILTER_HEADER.name} header is ${String(value)}`);
      const id = String(hit?.event.attributes.id);
      const other = await waitForId(ctx, SINK_PATHS.binary, id);
      check(
        other.delivery.headers[FILTER_HEADER.name] === undefined,
        `${FILTER_HEADER.name} leaked into the catch-all subscription's delivery`,
      );
    },
  },
];
