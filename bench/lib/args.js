// Command-line options of bench/run.js, parsed and checked once.

export const SCENARIOS = /** @type {const} */ ([
  "ingest",
  "ingest-auth",
  "ingest-traced",
  "match",
  "e2e-latency",
  "backlog",
  "sdk-emit",
]);

/**
 * The systems each scenario knows, in the canonical order (tables and JSON list them so), and the
 * ones it runs by default. ingest-auth is about Herald with and without publisher authentication;
 * the baselines can join it (they get the same token-carrying requests and ignore the tokens).
 */
export const SCENARIO_SYSTEMS = {
  ingest: { known: ["bare", "naive", "herald"], default: ["bare", "naive", "herald"] },
  "ingest-auth": {
    known: ["bare", "naive", "herald-noauth", "herald-auth"],
    default: ["herald-noauth", "herald-auth"],
  },
  "ingest-traced": { known: ["herald", "herald-traced"], default: ["herald", "herald-traced"] },
  match: { known: ["herald-10", "herald-10000"], default: ["herald-10", "herald-10000"] },
  "e2e-latency": { known: ["herald"], default: ["herald"] },
  backlog: { known: ["herald"], default: ["herald"] },
  "sdk-emit": {
    known: ["sdk", "sdk-node", "sdk-coalesce", "cloudevents"],
    default: ["sdk", "sdk-node", "sdk-coalesce", "cloudevents"],
  },
};

/**
 * Herald's store when --store is not given: SQLite, the durable default of `herald serve`, for
 * the scenarios about Herald as it runs (issue 5); memory for ingest-auth and match, which compare
 * Herald with itself and isolate what auth or matching cost (and whose recorded results used it).
 */
export const DEFAULT_STORE = {
  ingest: "sqlite",
  "ingest-auth": "memory",
  "ingest-traced": "memory",
  match: "memory",
  "e2e-latency": "sqlite",
  backlog: "sqlite",
  "sdk-emit": "memory",
};

/** backlog: events accepted while the sink is down (issue 5: 100,000). */
export const DEFAULT_BACKLOG_EVENTS = 100_000;

/** The match scenario's parts: the matchers in process, Herald end to end, or both. */
export const MATCH_PARTS = /** @type {const} */ (["micro", "end-to-end", "all"]);

export const DEFAULT_PUBLISHERS = 50;

export const USAGE = `usage: node bench/run.js [options]

  --scenario NAME     ingest (default): Herald against the bare and naive relays;
                      ingest-auth: Herald with publisher authentication (ES256 tokens) against
                      the same Herald without it (--no-auth);
                      ingest-traced: Herald with tracing on (always-on sampler, OTLP
                      http/protobuf to a local stub collector) against tracing off;
                      match: the subscription matcher, in process (indexed vs. linear, 10,000
                      vs. 100 subscriptions) and end to end (Herald with 10,000 subscriptions
                      vs. 10);
                      e2e-latency: Herald's ingest -> sink latency per event at half its maximum
                      rate (constant-rate load from bench/load.js);
                      backlog: the sink down, --events accepted into Herald's SQLite store (peak
                      RSS), then the sink up (drain rate, every event delivered);
                      sdk-emit: events/s a producer gets into Herald with @herald/sdk vs. the
                      cloudevents package's emitter over fetch (client on core 1);
                      ingest-nats, scale-out: Herald on NATS JetStream, with options of their own
                      (see bench/README.md; this help does not cover them)
  --duration D        measured window per run: 10s, 30s, 1m (default: 10s; --quick: 2s);
                      e2e-latency: the constant-rate window (--quick: 3s)
  --warmup D          wrk warm-up before each measured run (default: 5s; --quick: 1s)
  --rounds N          rounds of interleaved runs, each system once per round, starting system
                      rotated; ratios are medians of per-round ratios (default: 3; --quick: 1)
  --connections N     wrk connections (default: 64); sdk-emit: sends in flight per client
  --threads N         wrk threads (default: 1; wrk shares one core with the sink)
  --sink-concurrency N
                      Herald's delivery.concurrency, 1-1000, for the subscriptions of ingest,
                      ingest-auth, ingest-traced, match and e2e-latency (default: --connections,
                      at most 1000: as many requests in flight to the sink as the bare relay
                      has; 16 measures Herald's default)
  --systems LIST      comma-separated subset of the scenario's systems:
                        ingest: bare,naive,herald (default: all three)
                        ingest-auth: bare,naive,herald-noauth,herald-auth
                        (default: herald-noauth,herald-auth)
                        ingest-traced: herald,herald-traced (default: both)
                        match: herald-10,herald-10000 (default: both)
                        sdk-emit: sdk,sdk-node,sdk-coalesce,cloudevents (default: all four)
  --part P            match: micro | end-to-end | all (default: all)
  --publishers N      ingest-auth: distinct publishers (tokens) sent round-robin (default: ${DEFAULT_PUBLISHERS})
  --store KIND        Herald's store in the generated config: memory | sqlite (default: sqlite
                      for ingest, e2e-latency and backlog (which needs it); memory for
                      ingest-auth, ingest-traced and match)
  --events N          backlog: events accepted while the sink is down (default: ${DEFAULT_BACKLOG_EVENTS.toLocaleString("en-US")};
                      --quick: 20,000)
  --hold D            backlog: how long the backlog waits, sink down, after the last event is
                      accepted (default: 5s; --quick: 2s)
  --herald-bin FILE   Herald's CLI entry (default: gateway/bin/herald.js)
  --out FILE          where to write the results (default: bench/results/<scenario>.json;
                      --quick: bench/results/<scenario>.quick.json, not kept in git)
  --quick             smoke run: 1 round, 2s measured, 1s warm-up per run
  -h, --help          show this help
`;

/**
 * @typedef {object} Options
 * @property {"ingest" | "ingest-auth" | "ingest-traced" | "match" | "e2e-latency" | "backlog" | "sdk-emit"} scenario
 * @property {"micro" | "end-to-end" | "all"} part  match: which parts run
 * @property {number} durationS
 * @property {number} warmupS
 * @property {number} rounds
 * @property {number} connections
 * @property {number} threads
 * @property {number} sinkConcurrency  Herald's delivery.concurrency per subscription
 * @property {string[]} systems  in the scenario's canonical order
 * @property {number} publishers  ingest-auth: how many tokens (publishers) wrk cycles through
 * @property {"memory" | "sqlite"} store
 * @property {number} events  backlog: events accepted while the sink is down
 * @property {number} holdS   backlog: seconds the backlog waits with the sink down
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
export function seconds(flag, text) {
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
export function positiveInt(flag, text) {
  if (!/^\d+$/.test(text) || Number(text) < 1) {
    throw new UsageError(`${flag}: expected a positive integer, got "${text}"`);
  }
  return Number(text);
}

export class UsageError extends Error {}

/**
 * `--sink-concurrency`, or `--connections` capped at 1000 (`delivery.concurrency` is 1-1000).
 * @param {string | undefined} given
 * @param {string} connections
 */
function sinkConcurrency(given, connections) {
  if (given === undefined) return Math.min(1000, positiveInt("--connections", connections));
  const n = positiveInt("--sink-concurrency", given);
  if (n > 1000) throw new UsageError(`--sink-concurrency: at most 1000 (Herald's limit), got ${n}`);
  return n;
}

const KNOWN = [
  "scenario",
  "duration",
  "warmup",
  "rounds",
  "connections",
  "threads",
  "systems",
  "publishers",
  "store",
  "out",
  "herald-bin",
  "sink-concurrency",
  "part",
  "events",
  "hold",
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

  const scenario = /** @type {Options["scenario"]} */ (given.scenario ?? "ingest");
  if (!SCENARIOS.includes(scenario)) {
    throw new UsageError(`--scenario: unknown "${scenario}" (known: ${SCENARIOS.join(", ")})`);
  }
  const { known, default: defaults } = SCENARIO_SYSTEMS[scenario];
  const systems = (given.systems ?? defaults.join(","))
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "");
  for (const s of systems) {
    if (!known.includes(s)) {
      throw new UsageError(
        `--systems: "${s}" is not a system of the ${scenario} scenario (known: ${known.join(", ")})`,
      );
    }
  }
  if (systems.length === 0) throw new UsageError("--systems: name at least one system");
  if (given.publishers !== undefined && scenario !== "ingest-auth") {
    throw new UsageError("--publishers: only the ingest-auth scenario has publishers");
  }
  if (given.part !== undefined && scenario !== "match") {
    throw new UsageError("--part: only the match scenario has parts");
  }
  const part = /** @type {"micro" | "end-to-end" | "all"} */ (given.part ?? "all");
  if (!MATCH_PARTS.includes(part)) {
    throw new UsageError(`--part: expected ${MATCH_PARTS.join(", ")}, got "${part}"`);
  }
  const store = given.store ?? DEFAULT_STORE[scenario];
  if (store !== "memory" && store !== "sqlite") {
    throw new UsageError(`--store: expected memory or sqlite, got "${store}"`);
  }
  if (scenario === "backlog" && store !== "sqlite") {
    throw new UsageError(
      "--store: backlog measures a backlog that lives on disk; it runs on sqlite only",
    );
  }
  for (const name of ["events", "hold"]) {
    if (given[name] !== undefined && scenario !== "backlog") {
      throw new UsageError(`--${name}: only the backlog scenario has it`);
    }
  }

  return {
    scenario,
    part,
    durationS: seconds(
      "--duration",
      given.duration ?? (quick ? (scenario === "e2e-latency" ? "3s" : "2s") : "10s"),
    ),
    warmupS: seconds("--warmup", given.warmup ?? (quick ? "1s" : "5s")),
    rounds: positiveInt("--rounds", given.rounds ?? (quick ? "1" : "3")),
    connections: positiveInt("--connections", given.connections ?? "64"),
    sinkConcurrency: sinkConcurrency(given["sink-concurrency"], given.connections ?? "64"),
    threads: positiveInt("--threads", given.threads ?? "1"),
    // Always run in the canonical order so tables and JSON line up between runs.
    systems: known.filter((s) => systems.includes(s)),
    publishers: positiveInt("--publishers", given.publishers ?? String(DEFAULT_PUBLISHERS)),
    store,
    events: positiveInt(
      "--events",
      given.events ?? String(quick ? 20_000 : DEFAULT_BACKLOG_EVENTS),
    ),
    holdS: seconds("--hold", given.hold ?? (quick ? "2s" : "5s")),
    out: given.out,
    heraldBin: given["herald-bin"],
    quick,
    help,
  };
}
