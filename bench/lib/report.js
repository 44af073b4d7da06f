// Turns per-system measurements into the printed table, the ratios and the targets check.

/** The targets of issue 2, item 8: sustained delivered events/s relative to each baseline. */
export const TARGETS = /** @type {const} */ ([
  { baseline: "bare", min: 0.8 },
  { baseline: "naive", min: 1.5 },
]);

/**
 * @param {number | undefined} a
 * @param {number | undefined} b
 */
function ratio(a, b) {
  return a === undefined || b === undefined || b === 0
    ? undefined
    : Math.round((a / b) * 100) / 100;
}

/**
 * @param {Record<string, any>} systems  measured results by system name (skipped ones absent)
 */
export function ratios(systems) {
  const herald = systems.herald;
  /** @type {Record<string, { reqPerSec: number | undefined, deliveredPerSec: number | undefined }>} */
  const out = {};
  if (herald === undefined) return out;
  for (const base of ["bare", "naive"]) {
    const b = systems[base];
    if (b === undefined) continue;
    out[`herald/${base}`] = {
      reqPerSec: ratio(herald.reqPerSec, b.reqPerSec),
      deliveredPerSec: ratio(herald.delivered.perSec, b.delivered.perSec),
    };
  }
  return out;
}

/**
 * @param {ReturnType<typeof ratios>} r
 */
export function targets(r) {
  return TARGETS.map(({ baseline, min }) => {
    const actual = r[`herald/${baseline}`]?.deliveredPerSec;
    return {
      metric: `delivered/s herald/${baseline}`,
      min,
      actual,
      met: actual === undefined ? undefined : actual >= min,
    };
  });
}

const int = (/** @type {number | undefined} */ x) =>
  x === undefined ? "-" : Math.round(x).toLocaleString("en-US");
const ms = (/** @type {number | undefined} */ us) =>
  us === undefined ? "-" : (us / 1000).toFixed(2);
const pct = (/** @type {number | undefined} */ x) => (x === undefined ? "-" : `${x.toFixed(0)}%`);

/**
 * @param {Record<string, any>} systems
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
    "backlog",
    "drain s",
    "lost",
    "SUT cpu",
    "sink cpu",
    "load core",
  ];
  const rows = [head];
  for (const [name, s] of Object.entries(systems)) {
    rows.push([
      name,
      int(s.reqPerSec),
      ms(s.latencyUs.p50),
      ms(s.latencyUs.p99),
      int(s.non2xx),
      int(s.socketErrors),
      int(s.delivered.perSec),
      int(s.delivered.backlog),
      s.delivered.drainS.toFixed(1),
      int(s.delivered.missing),
      pct(s.cpu.sutPct),
      pct(s.cpu.sinkPct),
      pct(s.cpu.loadCorePct),
    ]);
  }
  const widths = head.map((_, i) => Math.max(...rows.map((r) => String(r[i]).length)));
  const line = (/** @type {string[]} */ r) =>
    r.map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join("  ");
  return [line(head), widths.map((w) => "-".repeat(w)).join("  "), ...rows.slice(1).map(line)].join(
    "\n",
  );
}
