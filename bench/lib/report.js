// Turns the per-round measurements into the summary (medians over rounds, medians of per-round
// ratios), the targets check and the printed table.

/**
 * @typedef {object} RatioSpec
 * @property {string} of   numerator system
 * @property {string} to   denominator system
 * @property {number} [min]  target on the median per-round delivered/s ratio; absent: reported only
 */

/**
 * The ratios each scenario reports (`numerator/denominator`, taken within each round) and the
 * targets checked on the median of their per-round delivered/s ratios: issue 2, item 8, for ingest
 * on the memory store (Herald against the relays); issue 5, "Performance", for ingest on the SQLite
 * store (durable Herald >= 0.7x the bare relay; the naive relay is not durable, so that ratio is
 * reported without a target); issue 3, "Performance", for ingest-auth (authenticated Herald against
 * the same Herald without auth); issue 6, for ingest-traced (Herald with tracing on against
 * the same Herald with it off); for match, Herald with 10,000 subscriptions against the same
 * Herald with 10. e2e-latency and backlog have their own reports (lib/e2e-latency.js, lib/backlog.js).
 * @type {Record<string, Record<"memory" | "sqlite", RatioSpec[]>>}
 */
export const SCENARIO_RATIOS = {
  ingest: {
    memory: [
      { of: "herald", to: "bare", min: 0.8 },
      { of: "herald", to: "naive", min: 1.5 },
    ],
    sqlite: [
      { of: "herald", to: "bare", min: 0.7 },
      { of: "herald", to: "naive" },
    ],
  },
  "ingest-auth": {
    memory: [{ of: "herald-auth", to: "herald-noauth", min: 0.9 }],
    sqlite: [{ of: "herald-auth", to: "herald-noauth", min: 0.9 }],
  },
  "ingest-traced": {
    memory: [{ of: "herald-traced", to: "herald", min: 0.85 }],
    sqlite: [{ of: "herald-traced", to: "herald", min: 0.85 }],
  },
  match: {
    memory: [{ of: "herald-10000", to: "herald-10", min: 0.8 }],
    sqlite: [{ of: "herald-10000", to: "herald-10", min: 0.8 }],
  },
};

/**
 * The ratios (and targets) of a scenario run on a store; none for scenarios without ratios.
 * @param {string} scenario
 * @param {"memory" | "sqlite"} store
 * @returns {RatioSpec[]}
 */
export function ratiosFor(scenario, store) {
  return SCENARIO_RATIOS[scenario]?.[store] ?? [];
}

/** Per-round ratios whose min-max range exceeds this fraction of their median get a warning. */
export const NOISY_SPREAD = 0.2;

/**
 * @param {number | undefined} a
 * @param {number | undefined} b
 */
function ratio(a, b) {
  return a === undefined || b === undefined || b === 0
    ? undefined
    : Math.round((a / b) * 1000) / 1000;
}

/**
 * Median of the defined values (mean of the two middle ones for an even count).
 * @param {Array<number | undefined>} values
 */
export function median(values) {
  const xs = /** @type {number[]} */ (values.filter((x) => x !== undefined)).sort((a, b) => a - b);
  if (xs.length === 0) return undefined;
  const mid = Math.floor(xs.length / 2);
  const hi = xs[mid] ?? 0;
  return xs.length % 2 === 1 ? hi : ((xs[mid - 1] ?? 0) + hi) / 2;
}

/**
 * Median, min and max of the defined values; `digits` decimals (integers by default).
 * @param {Array<number | undefined>} values
 * @param {number} [digits]
 */
export function spread(values, digits = 0) {
  const xs = /** @type {number[]} */ (values.filter((x) => x !== undefined));
  const f = 10 ** digits;
  const r = (/** @type {number | undefined} */ x) =>
    x === undefined ? undefined : Math.round(x * f) / f;
  return {
    median: r(median(xs)),
    min: r(xs.length === 0 ? undefined : Math.min(...xs)),
    max: r(xs.length === 0 ? undefined : Math.max(...xs)),
  };
}

/**
 * The scenario's ratios within one round (systems that ran close in time).
 * @param {Record<string, any>} systems  one round's results by system name
 * @param {RatioSpec[]} specs  ratiosFor(scenario, store)
 */
export function roundRatios(systems, specs) {
  /** @type {Record<string, { reqPerSec: number | undefined, deliveredPerSec: number | undefined }>} */
  const out = {};
  for (const { of, to } of specs) {
    const a = systems[of];
    const b = systems[to];
    if (a === undefined || b === undefined) continue;
    out[`${of}/${to}`] = {
      reqPerSec: ratio(a.reqPerSec, b.reqPerSec),
      deliveredPerSec: ratio(a.delivered.perSec, b.delivered.perSec),
    };
  }
  return out;
}

/**
 * @typedef {object} Round
 * @property {number} round
 * @property {string[]} order
 * @property {Record<string, any>} systems
 * @property {ReturnType<typeof roundRatios>} ratios
 */

/**
 * Per system: medians over rounds (with min-max for the rates and latencies); counts that should be
 * zero are summed instead, so a single bad round still shows.
 * @param {Round[]} rounds
 * @param {string[]} names
 */
export function summarizeSystems(rounds, names) {
  /** @type {Record<string, any>} */
  const out = {};
  for (const name of names) {
    const rs = rounds.map((r) => r.systems[name]).filter((x) => x !== undefined);
    if (rs.length === 0) continue;
    const sum = (/** @type {(r: any) => number} */ f) => rs.reduce((a, r) => a + f(r), 0);
    out[name] = {
      rounds: rs.length,
      reqPerSec: spread(rs.map((r) => r.reqPerSec)),
      deliveredPerSec: spread(rs.map((r) => r.delivered.perSec)),
      p50Us: spread(rs.map((r) => r.latencyUs.p50)),
      p99Us: spread(rs.map((r) => r.latencyUs.p99)),
      medians: {
        backlog: spread(rs.map((r) => r.delivered.backlog)).median,
        drainS: spread(
          rs.map((r) => r.delivered.drainS),
          1,
        ).median,
        sutCpuPct: spread(
          rs.map((r) => r.cpu.sutPct),
          1,
        ).median,
        sinkCpuPct: spread(
          rs.map((r) => r.cpu.sinkPct),
          1,
        ).median,
        loadCorePct: spread(
          rs.map((r) => r.cpu.loadCorePct),
          1,
        ).median,
      },
      totals: {
        non2xx: sum((r) => r.non2xx),
        socketErrors: sum((r) => r.socketErrors),
        unanswered: sum((r) => r.unanswered),
        lost: sum((r) => r.delivered.lost),
      },
    };
  }
  return out;
}

/**
 * Median, min and max of the per-round ratios, plus the per-round values themselves.
 * @param {Round[]} rounds
 * @param {RatioSpec[]} specs  ratiosFor(scenario, store)
 */
export function summarizeRatios(rounds, specs) {
  /** @type {Record<string, Record<"deliveredPerSec" | "reqPerSec", { median: number | undefined, min: number | undefined, max: number | undefined, perRound: Array<number | undefined> }>>} */
  const out = {};
  for (const key of specs.map(({ of, to }) => `${of}/${to}`)) {
    const per = rounds.map((r) => r.ratios[key]);
    if (per.every((x) => x === undefined)) continue;
    /** @param {"deliveredPerSec" | "reqPerSec"} metric */
    const of = (metric) => {
      const perRound = per.map((x) => x?.[metric]);
      return { ...spread(perRound, 3), perRound };
    };
    out[key] = { deliveredPerSec: of("deliveredPerSec"), reqPerSec: of("reqPerSec") };
  }
  return out;
}

/**
 * The targets, checked against the median of the per-round delivered/s ratios (ratios without a
 * target are left out).
 * @param {ReturnType<typeof summarizeRatios>} r
 * @param {RatioSpec[]} specs  ratiosFor(scenario, store)
 */
export function targets(r, specs) {
  return specs.flatMap(({ of, to, min }) => {
    if (min === undefined) return [];
    const d = r[`${of}/${to}`]?.deliveredPerSec;
    const actual = d?.median;
    const perRound = (d?.perRound ?? []).filter((x) => x !== undefined);
    return {
      metric: `delivered/s ${of}/${to}`,
      min,
      actual,
      met: actual === undefined ? undefined : actual >= min,
      roundsMet: perRound.filter((x) => x >= min).length,
      rounds: perRound.length,
    };
  });
}

const int = (/** @type {number | undefined} */ x) =>
  x === undefined ? "-" : Math.round(x).toLocaleString("en-US");
const ms = (/** @type {number | undefined} */ us) =>
  us === undefined ? "-" : (us / 1000).toFixed(2);
const pct = (/** @type {number | undefined} */ x) => (x === undefined ? "-" : `${x.toFixed(0)}%`);
const range = (/** @type {{ min: number | undefined, max: number | undefined }} */ s) =>
  s.min === undefined || s.max === undefined ? "-" : `${int(s.min)}-${int(s.max)}`;

/**
 * @param {ReturnType<typeof summarizeSystems>} systems
 * @returns {string}
 */
export function table(systems) {
  const head = [
    "system",
    "req/s",
    "p50 ms",
    "p99 ms",
    "non-2xx",
    "sock err",
    "delivered/s",
    "d/s range",
    "backlog",
    "drain s",
    "unanswered",
    "lost",
    "SUT cpu",
    "sink cpu",
    "load core",
  ];
  const rows = [head];
  for (const [name, s] of Object.entries(systems)) {
    rows.push([
      name,
      int(s.reqPerSec.median),
      ms(s.p50Us.median),
      ms(s.p99Us.median),
      int(s.totals.non2xx),
      int(s.totals.socketErrors),
      int(s.deliveredPerSec.median),
      range(s.deliveredPerSec),
      int(s.medians.backlog),
      s.medians.drainS === undefined ? "-" : s.medians.drainS.toFixed(1),
      int(s.totals.unanswered),
      int(s.totals.lost),
      pct(s.medians.sutCpuPct),
      pct(s.medians.sinkCpuPct),
      pct(s.medians.loadCorePct),
    ]);
  }
  const widths = head.map((_, i) => Math.max(...rows.map((r) => String(r[i]).length)));
  const line = (/** @type {string[]} */ r) =>
    r.map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join("  ");
  return [line(head), widths.map((w) => "-".repeat(w)).join("  "), ...rows.slice(1).map(line)].join(
    "\n",
  );
}

/**
 * One line per ratio: `herald/bare delivered/s: median 0.84x (rounds 0.78-0.90)`.
 * @param {ReturnType<typeof summarizeRatios>} r
 * @returns {string[]}
 */
export function ratioLines(r) {
  const x = (/** @type {number | undefined} */ v) => (v === undefined ? "-" : v.toFixed(2));
  const lines = [];
  for (const [key, v] of Object.entries(r)) {
    for (const [metric, label] of /** @type {const} */ ([
      ["deliveredPerSec", "delivered/s"],
      ["reqPerSec", "req/s"],
    ])) {
      const s = v[metric];
      const n = s.perRound.filter((p) => p !== undefined).length;
      const tail = n <= 1 ? "1 round, no range" : `rounds ${x(s.min)}-${x(s.max)}`;
      lines.push(`${key} ${label}: median ${x(s.median)}x (${tail})`);
    }
  }
  return lines;
}

/**
 * Warnings for ratios whose rounds disagree by more than NOISY_SPREAD of their median.
 * @param {ReturnType<typeof summarizeRatios>} r
 * @returns {string[]}
 */
export function spreadWarnings(r) {
  const out = [];
  for (const [key, v] of Object.entries(r)) {
    const s = v.deliveredPerSec;
    if (s.median === undefined || s.min === undefined || s.max === undefined || s.median === 0)
      continue;
    const width = (s.max - s.min) / s.median;
    if (width > NOISY_SPREAD) {
      out.push(
        `${key} delivered/s: per-round ratios span ${Math.round(width * 100)}% of their median ` +
          `(${s.min.toFixed(2)}-${s.max.toFixed(2)}); the machine was noisy: use more --rounds or a quieter machine`,
      );
    }
  }
  return out;
}
