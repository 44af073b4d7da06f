// The match scenario's micro part: the gateway's matchers called directly, in this process, on the
// subscription mix of lib/match-subscriptions.js. Three cases run interleaved in rounds (the
// starting one rotated), and the ratios are taken within each round:
//   indexed-10000  createMatcher over 10,000 subscriptions
//   linear-10000   createLinearMatcher (checks every subscription) over the same 10,000
//   indexed-100    createMatcher over the first 100 of the same mix
// Targets: linear-10000 / indexed-10000 >= 50 (the index is at least 50x faster), and
// indexed-10000 / indexed-100 <= 2 (the cost per event barely grows with the subscriptions).

import { matchEvents, matchSubscriptions } from "./match-subscriptions.js";
import { median } from "./report.js";

export const MICRO_TARGETS = [
  { metric: "linear-10000/indexed-10000", min: 50, meaning: "index speed-up at 10,000" },
  { metric: "indexed-10000/indexed-100", max: 2, meaning: "cost growth from 100 to 10,000" },
];

/** Events per case: each matches one subscription; a pass matches them all once. */
const EVENTS = 1024;

/**
 * @typedef {object} MatcherModule
 * @property {(subscriptions: readonly object[]) => { match(event: object): readonly object[] }} createMatcher
 * @property {(subscriptions: readonly object[]) => { match(event: object): readonly object[] }} createLinearMatcher
 */

/**
 * @param {object} o
 * @param {MatcherModule} o.matchers  the built gateway's subscriptions/matcher.js
 * @param {boolean} o.sql             whether the mix includes `sql` filters
 * @param {number} o.rounds
 * @param {number} o.minMs            each case's measurement runs whole passes for at least this long
 * @param {(line: string) => void} o.log
 */
export function runMatchMicro({ matchers, sql, rounds, minMs, log }) {
  const { createMatcher, createLinearMatcher } = matchers;
  const big = matchSubscriptions(10_000, { sql });
  const small = big.slice(0, 100);
  const bigEvents = matchEvents(big.length, EVENTS, sql);
  const smallEvents = matchEvents(small.length, EVENTS, sql);

  const buildStart = performance.now();
  const indexedBig = createMatcher(big);
  const firstBuildMs = performance.now() - buildStart;
  const cases = {
    "indexed-10000": { matcher: indexedBig, events: bigEvents },
    "linear-10000": { matcher: createLinearMatcher(big), events: bigEvents },
    "indexed-100": { matcher: createMatcher(small), events: smallEvents },
  };
  const names = /** @type {(keyof typeof cases)[]} */ (Object.keys(cases));

  // Both matchers must agree, and every event must match exactly the subscription it was made for:
  // otherwise the cases would not be doing the same work.
  const matchesPerEvent = {};
  for (const name of names) {
    const { matcher, events } = cases[name];
    let total = 0;
    for (const event of events) {
      const ids = matcher.match(event).map((s) => /** @type {{ id: string }} */ (s).id);
      const want = `match-${event.attributes.id.slice(2)}`;
      if (ids.length !== 1 || ids[0] !== want) {
        throw new Error(`${name}: event for ${want} matched [${ids.join(", ")}]`);
      }
      total += ids.length;
    }
    matchesPerEvent[name] = total / events.length;
  }

  // Warm-up: every case's code optimised before the first measured round.
  for (const name of names) measure(cases[name], minMs);

  /** @type {{ round: number, order: string[], nsPerEvent: Record<string, number>, buildMs: number, ratios: Record<string, number> }[]} */
  const perRound = [];
  for (let r = 0; r < rounds; r++) {
    const k = r % names.length;
    const order = [...names.slice(k), ...names.slice(0, k)];
    /** @type {Record<string, number>} */
    const ns = {};
    for (const name of order) ns[name] = measure(cases[name], minMs);
    const t0 = performance.now();
    createMatcher(big);
    const buildMs = performance.now() - t0;
    const ratios = {
      "linear-10000/indexed-10000": round3((ns["linear-10000"] ?? 0) / (ns["indexed-10000"] ?? 1)),
      "indexed-10000/indexed-100": round3((ns["indexed-10000"] ?? 0) / (ns["indexed-100"] ?? 1)),
    };
    perRound.push({ round: r + 1, order, nsPerEvent: ns, buildMs: round3(buildMs), ratios });
    log(
      `bench: micro round ${r + 1}/${rounds}: ` +
        names.map((n) => `${n} ${fmtNs(ns[n])}`).join(", ") +
        `; linear/indexed ${ratios["linear-10000/indexed-10000"].toFixed(0)}x, ` +
        `10000/100 ${ratios["indexed-10000/indexed-100"].toFixed(2)}x, build ${buildMs.toFixed(0)} ms`,
    );
  }

  const summary = (/** @type {number[]} */ xs) => ({
    median: round3(median(xs) ?? Number.NaN),
    min: round3(Math.min(...xs)),
    max: round3(Math.max(...xs)),
  });
  /** @type {Record<string, ReturnType<typeof summary>>} */
  const nsPerEvent = {};
  for (const name of names)
    nsPerEvent[name] = summary(perRound.map((p) => p.nsPerEvent[name] ?? 0));
  /** @type {Record<string, ReturnType<typeof summary> & { perRound: number[] }>} */
  const ratios = {};
  for (const { metric } of MICRO_TARGETS) {
    const xs = perRound.map((p) => p.ratios[metric] ?? 0);
    ratios[metric] = { ...summary(xs), perRound: xs };
  }
  const targets = MICRO_TARGETS.map((t) => {
    const xs = ratios[t.metric]?.perRound ?? [];
    const actual = ratios[t.metric]?.median;
    const ok = (/** @type {number | undefined} */ x) =>
      x !== undefined && (t.min !== undefined ? x >= t.min : x <= (t.max ?? 0));
    return {
      ...t,
      actual,
      met: ok(actual),
      roundsMet: xs.filter(ok).length,
      rounds: xs.length,
    };
  });
  return {
    sql,
    subscriptions: { big: big.length, small: small.length },
    eventsPerCase: EVENTS,
    matchesPerEvent,
    minMsPerMeasurement: minMs,
    buildMs: { first: round3(firstBuildMs), ...summary(perRound.map((p) => p.buildMs)) },
    nsPerEvent,
    ratios,
    targets,
    rounds: perRound,
  };
}

/**
 * Nanoseconds per event: whole passes over the case's events until `minMs` have gone by.
 * @param {{ matcher: { match(event: object): readonly object[] }, events: object[] }} c
 * @param {number} minMs
 */
function measure({ matcher, events }, minMs) {
  let passes = 0;
  let found = 0;
  const start = performance.now();
  let elapsed = 0;
  do {
    for (const event of events) found += matcher.match(event).length;
    passes++;
    elapsed = performance.now() - start;
  } while (elapsed < minMs);
  // `found` keeps the results alive (and checks them once more).
  if (found !== passes * events.length) throw new Error("a matcher's results changed");
  return (elapsed * 1e6) / (passes * events.length);
}

const round3 = (/** @type {number} */ x) => Math.round(x * 1000) / 1000;

/** @param {number | undefined} ns */
export function fmtNs(ns) {
  if (ns === undefined) return "-";
  return ns >= 10_000 ? `${(ns / 1000).toFixed(1)} µs/event` : `${ns.toFixed(0)} ns/event`;
}
