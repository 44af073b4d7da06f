// Command-line options of bench/run.js, parsed and checked once.

export const SYSTEMS = /** @type {const} */ (["bare", "naive", "herald"]);
export const SCENARIOS = /** @type {const} */ (["ingest"]);

export const USAGE = `usage: node bench/run.js [options]

  --scenario NAME     scenario to run (default: ingest; the only one so far)
  --duration D        wrk measured window per run: 10s, 30s, 1m (default: 10s; --quick: 2s)
  --warmup D          wrk warm-up before each measured run (default: 5s; --quick: 1s)
  --rounds N          rounds of interleaved runs, each system once per round, starting system
                      rotated; ratios are medians of per-round ratios (default: 3; --quick: 1)
  --connections N     wrk connections (default: 64)
  --threads N         wrk threads (default: 1; wrk shares one core with the sink)
  --systems LIST      comma-separated subset of bare,naive,herald (default: all three)
  --store KIND        Herald's store in the generated config: memory | sqlite (default: memory)
  --herald-bin FILE   Herald's CLI entry (default: gateway/bin/herald.js)
  --out FILE          where to write the results (default: bench/results/<scenario>.json)
  --quick             smoke run: 1 round, 2s measured, 1s warm-up per run
  -h, --help          show this help
`;

/**
 * @typedef {object} Options
 * @property {"ingest"} scenario
 * @property {number} durationS
 * @property {number} warmupS
 * @property {number} rounds
 * @property {number} connections
 * @property {number} threads
 * @property {Array<"bare" | "naive" | "herald">} systems
 * @property {"memory" | "sqlite"} store
 * @property {string | undefined} out
 * @property {string | undefined} heraldBin
 * @property {boolean} quick
 * @property {boolean} help
 */

/**
 * Whole seconds from `10`, `10s`, `2m` (wrk takes whole seconds).
 * @param {string} flag
 * @param {string} text
 */
function seconds(flag, text) {
  const m = /^(\d+)(s|m)?$/.exec(text.trim());
  if (m === null || Number(m[1]) < 1) {
    throw new UsageError(`${flag}: expected whole seconds like 10s or 1m, got "${text}"`);
  }
  return Number(m[1]) * (m[2] === "m" ? 60 : 1);
}

/**
 * @param {string} flag
 * @param {string} text
 */
function positiveInt(flag, text) {
  if (!/^\d+$/.test(text) || Number(text) < 1) {
    throw new UsageError(`${flag}: expected a positive integer, got "${text}"`);
  }
  return Number(text);
}

export class UsageError extends Error {}

const KNOWN = [
  "scenario",
  "duration",
  "warmup",
  "rounds",
  "connections",
  "threads",
  "systems",
  "store",
  "out",
  "herald-bin",
];

/**
 * @param {string[]} argv process.argv.slice(2)
 * @returns {Options}
 */
export function parseArgs(argv) {
  /** @type {Record<string, string>} */
  const given = {};
  let quick = false;
  let help = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = /** @type {string} */ (argv[i]);
    if (arg === "--quick") quick = true;
    else if (arg === "-h" || arg === "--help") help = true;
    else if (arg.startsWith("--")) {
      const eq = arg.indexOf("=");
      const name = eq >= 0 ? arg.slice(2, eq) : arg.slice(2);
      if (!KNOWN.includes(name)) throw new UsageError(`unknown option --${name}`);
      const value = eq >= 0 ? arg.slice(eq + 1) : argv[++i];
      if (value === undefined) throw new UsageError(`--${name} needs a value`);
      given[name] = value;
    } else {
      throw new UsageError(`unexpected argument "${arg}"`);
    }
  }

  const scenario = given.scenario ?? "ingest";
  if (!SCENARIOS.includes(/** @type {never} */ (scenario))) {
    throw new UsageError(`--scenario: unknown "${scenario}" (known: ${SCENARIOS.join(", ")})`);
  }
  const systems = (given.systems ?? SYSTEMS.join(","))
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "");
  for (const s of systems) {
    if (!SYSTEMS.includes(/** @type {never} */ (s))) {
      throw new UsageError(`--systems: unknown "${s}" (known: ${SYSTEMS.join(", ")})`);
    }
  }
  if (systems.length === 0) throw new UsageError("--systems: name at least one system");
  const store = given.store ?? "memory";
  if (store !== "memory" && store !== "sqlite") {
    throw new UsageError(`--store: expected memory or sqlite, got "${store}"`);
  }

  return {
    scenario: /** @type {"ingest"} */ (scenario),
    durationS: seconds("--duration", given.duration ?? (quick ? "2s" : "10s")),
    warmupS: seconds("--warmup", given.warmup ?? (quick ? "1s" : "5s")),
    rounds: positiveInt("--rounds", given.rounds ?? (quick ? "1" : "3")),
    connections: positiveInt("--connections", given.connections ?? "64"),
    threads: positiveInt("--threads", given.threads ?? "1"),
    // Always run in the canonical order so tables and JSON line up between runs.
    systems: SYSTEMS.filter((s) => systems.includes(s)),
    store,
    out: given.out,
    heraldBin: given["herald-bin"],
    quick,
    help,
  };
}
