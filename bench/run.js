#!/usr/bin/env node
// Herald benchmark harness. See bench/README.md for the method and how to read the results.
//
//   node bench/run.js [--scenario ingest|ingest-auth|match] [--rounds 3] [--duration 10s] [--connections 64] [--quick]
//
// Layout on a 2-core machine: each system under test runs alone on core 0; wrk and the sink share
// core 1. The systems run interleaved in rounds (each once per round, the starting one rotated);
// every run is a fresh sink and a fresh system under test, warmed up, measured, drained, stopped.
// Ratios are taken within a round and summarised by their median over rounds.
// ingest-auth: Herald with publisher authentication (ES256 tokens of 50 publishers, minted here)
// against the same Herald with --no-auth; a preflight first checks that Herald enforces auth and
// accepts every token.
// ingest-traced: Herald with tracing on (bench/herald-traced.js: OTLP to a local stub on the load
// core) against the same Herald with it off.
// match: the subscription matcher called in this process (indexed vs. linear at 10,000
// subscriptions, indexed at 10,000 vs. 100), then Herald with 10,000 subscriptions against the same
// Herald with 10, end to end.
// e2e-latency: Herald (SQLite) at half the rate it sustained in a short wrk run, driven at a constant
// rate by bench/load.js; ingest -> sink receipt latency per event.
// backlog: Herald (SQLite) with its sink down accepts 100,000 events (peak RSS), then the sink comes
// up (drain rate, every event delivered).
import { existsSync, mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from "node:fs";
import {
  arch,
  availableParallelism,
  cpus,
  loadavg,
  platform,
  release,
  tmpdir,
  totalmem,
} from "node:os";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { parseArgs, USAGE, UsageError } from "./lib/args.js";
import { probeAuth } from "./lib/auth-preflight.js";
import {
  ALGORITHM,
  AUDIENCE,
  authConfig,
  ISSUER,
  mintPublishers,
  verifyPublishers,
  writeTokenFile,
} from "./lib/auth-tokens.js";
import {
  BACKLOG_DELIVERY,
  BACKLOG_LIMITS,
  BATCH_CONNECTIONS,
  BATCH_EVENTS,
  RSS_TARGET_MB,
  runBacklogRound,
  summarizeBacklog,
} from "./lib/backlog.js";
import { coreBusyPct, coreTimes, processCpuSeconds, round1 } from "./lib/cpu.js";
import {
  fmtMs,
  latencyWarnings,
  measureLatency,
  PACED_CONNECTIONS,
  RATE_FRACTION,
  summarizeLatency,
} from "./lib/e2e-latency.js";
import { MATCHED_TYPE, SUBSCRIPTIONS, writeHeraldConfig } from "./lib/herald-config.js";
import { tracedHerald } from "./lib/ingest-traced.js";
import { fmtNs, runMatchMicro } from "./lib/match-micro.js";
import { endToEndSubscriptions, SQL_PROBE, supportsSql } from "./lib/match-subscriptions.js";
import { natsScenarioOf, runNatsScenario } from "./lib/nats-scale.js";
import { assertStopped, canPin, killAll, liveChildren, startServer } from "./lib/processes.js";
import {
  ratioLines,
  ratiosFor,
  roundRatios,
  spreadWarnings,
  summarizeRatios,
  summarizeSystems,
  table,
  targets,
} from "./lib/report.js";
import { runSdkEmit, SDK_EMIT_TARGET } from "./lib/sdk-emit.js";
import { readCount, waitUntilSettled } from "./lib/sink-client.js";
import { runWrk, wrkVersion } from "./lib/wrk.js";

const BENCH = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(BENCH, "..");
const DEFAULT_HERALD_BIN = join(ROOT, "gateway", "bin", "herald.js");
/** The built gateway's modules the match scenario's micro part calls directly. */
const GATEWAY_DIST = join(ROOT, "gateway", "dist", "subscriptions");
const SUT_CORE = 0;
const LOAD_CORE = 1;
/** Pause between two runs, after every process of the previous one has exited. */
const BETWEEN_RUNS_MS = 500;
/** ingest-auth's preflight: a type outside the publisher rule (`com.example.bench.*`). */
const FORBIDDEN_TYPE = "com.example.not-bench.1";

class BenchError extends Error {}

/** Temporary directories (Herald's config and store) not yet removed; Ctrl-C removes them too. */
const tempDirs = new Set();

function removeTempDirs() {
  for (const d of tempDirs) rmSync(d, { recursive: true, force: true });
  tempDirs.clear();
}

const sleep = (/** @type {number} */ ms) => new Promise((r) => setTimeout(r, ms));

/** @param {string} message */
const log = (message) => process.stderr.write(`${message}\n`);

/**
 * How to start each system under test, given the sink URL. `herald` (ingest) and `herald-noauth`
 * (ingest-auth) are the same: the ingest config, --no-auth. `herald-auth` adds the `auth` section
 * and runs without --no-auth. `herald-10` and `herald-10000` (match) run --no-auth with that many
 * subscriptions of the match mix (lib/match-subscriptions.js).
 * @param {string} sinkUrl
 * @param {"memory" | "sqlite"} store
 * @param {string} heraldBin
 * @param {() => string} tempDir
 * @param {object | undefined} auth  ingest-auth: Herald's `auth` section
 * @param {boolean} sql  match: whether the mix includes `sql` filters
 * @param {number} sinkConcurrency  every subscription's `delivery.concurrency` (--sink-concurrency)
 */
function systemSpecs(sinkUrl, store, heraldBin, tempDir, auth, sql, sinkConcurrency) {
  const env = { ...process.env, NODE_ENV: "production" };
  /**
   * @param {boolean} withAuth
   * @param {number} [subscriptions]  match: this many subscriptions of the match mix
   */
  const herald = (withAuth, subscriptions) => {
    const dir = tempDir();
    if (withAuth && auth === undefined) throw new BenchError("herald-auth needs the auth section");
    const config = writeHeraldConfig({
      sinkUrl,
      store,
      dir,
      delivery: { concurrency: sinkConcurrency },
      ...(withAuth ? { auth } : {}),
      ...(subscriptions === undefined
        ? {}
        : { subscriptions: endToEndSubscriptions(subscriptions, { sql, wrkType: MATCHED_TYPE }) }),
    });
    return heraldCommand(heraldBin, config, dir, withAuth);
  };
  return {
    bare: () => ({
      command: process.execPath,
      args: [join(BENCH, "baselines", "bare-relay.js"), "--sink", `${sinkUrl}/bare`],
      env,
      cwd: ROOT,
      ready: /^bare listening on (http:\/\/[^\s/]+)/,
    }),
    naive: () => ({
      command: process.execPath,
      args: [join(BENCH, "baselines", "naive-relay.js"), "--sink", `${sinkUrl}/naive`],
      env,
      cwd: ROOT,
      ready: /^naive listening on (http:\/\/[^\s/]+)/,
    }),
    herald: () => herald(false),
    "herald-noauth": () => herald(false),
    "herald-auth": () => herald(true),
    "herald-traced": () => tracedHerald(herald(false), LOAD_CORE),
    "herald-10": () => herald(false, 10),
    "herald-10000": () => herald(false, 10_000),
  };
}

/**
 * How to start `herald serve` with a generated config: on 127.0.0.1, a free port, warnings only.
 * @param {string} heraldBin
 * @param {string} config  the config file
 * @param {string} dir     its temporary directory (also Herald's working directory)
 * @param {boolean} withAuth  false: --no-auth
 */
function heraldCommand(heraldBin, config, dir, withAuth) {
  return {
    command: process.execPath,
    args: [
      heraldBin,
      "serve",
      "--config",
      config,
      ...(withAuth ? [] : ["--no-auth"]),
      "--port",
      "0",
      "--host",
      "127.0.0.1",
    ],
    env: { ...process.env, NODE_ENV: "production", HERALD_LOG_LEVEL: "warn" },
    // Anything Herald writes next to its working directory (.herald/) stays out of the repo.
    cwd: dir,
    ready: /^herald listening on (http:\/\/[^\s/]+)/,
  };
}

/**
 * Warm-up, measured run and drain for one system that is already listening.
 * @param {object} o
 * @param {import("./lib/processes.js").Server} o.sut
 * @param {import("./lib/processes.js").Server} o.sink
 * @param {import("./lib/args.js").Options} o.opts
 * @param {number | undefined} o.loadCore
 * @param {string | undefined} o.tokenFile  ingest-auth: every request carries one of these tokens
 */
async function measure({ sut, sink, opts, loadCore, tokenFile }) {
  const sinkUrl = sink.url;
  const target = `${sut.url}/events`;
  const nonce = `${Date.now().toString(36)}-${sut.name}`;
  const wrkBase = {
    url: target,
    connections: opts.connections,
    threads: opts.threads,
    core: loadCore,
    type: MATCHED_TYPE,
    ...(tokenFile === undefined ? {} : { tokenFile }),
  };
  const drainMaxMs = Math.max(30_000, 3_000 * opts.durationS);

  // Warm-up: JIT, connection pools, and for Herald its queue. There is no pause for deliveries to
  // settle before the measured window: the load goes on, so the window starts at steady state with
  // whatever backlog the warm-up built. (Draining first would hand a buffering gateway an empty
  // queue to fill during the window, which is a burst, not the sustained rate.)
  const beforeWarm = await readCount(sinkUrl);
  const warm = await runWrk({ ...wrkBase, durationS: opts.warmupS, nonce: `${nonce}-warm` });
  const warmNotRejected = warm.sent - warm.errors.status;
  if (!sut.alive()) throw new BenchError(`${sut.name} exited during warm-up\n${sut.output()}`);

  // Measured window: sink count, core and process CPU sampled right before and after wrk.
  const c0 = await readCount(sinkUrl);
  const cores0 = coreTimes();
  const cpu0 = processCpuSeconds(sut.pid);
  const sinkCpu0 = processCpuSeconds(sink.pid);
  const t0 = performance.now();
  const w = await runWrk({ ...wrkBase, durationS: opts.durationS, nonce: `${nonce}-run` });
  const c1 = await readCount(sinkUrl);
  const t1 = performance.now();
  const cores1 = coreTimes();
  const cpu1 = processCpuSeconds(sut.pid);
  const sinkCpu1 = processCpuSeconds(sink.pid);
  if (!sut.alive()) throw new BenchError(`${sut.name} exited during the run\n${sut.output()}`);

  // Drain: deliveries still arriving after the load stopped (Herald delivers after its 202, and
  // requests in flight when wrk stopped are still processed).
  const accepted = w.requests - w.errors.status;
  const notRejected = w.sent - w.errors.status;
  const settled = await waitUntilSettled(sinkUrl, {
    expected: beforeWarm.deliveries + warmNotRejected + notRejected,
    maxMs: drainMaxMs,
  });

  const windowS = (t1 - t0) / 1000;
  const inWindow = c1.deliveries - c0.deliveries;
  // Warm-up and window together: everything sent, and everything delivered once the drain is over.
  const total = settled.deliveries - beforeWarm.deliveries;
  return {
    reqPerSec: Math.round(w.requests / (w.durationUs / 1e6)),
    latencyUs: w.latencyUs,
    requests: w.requests,
    sent: w.sent,
    // Sent but never answered: in flight when wrk stopped (at most one per connection), plus any
    // lost to socket errors. Their fate is unknown to wrk; most still reach the sink.
    unanswered: w.sent - w.requests + (warm.sent - warm.requests),
    accepted,
    connections: opts.connections,
    non2xx: w.errors.status,
    warmupNon2xx: warm.errors.status,
    socketErrors: w.errors.connect + w.errors.read + w.errors.write + w.errors.timeout,
    windowS: Math.round(windowS * 1000) / 1000,
    delivered: {
      // The headline number: deliveries the sink counted while the load was on.
      perSec: Math.round(inWindow / windowS),
      inWindow,
      backlog: settled.deliveries - c1.deliveries,
      drainS: round1(settled.waitedMs / 1000),
      drainTimedOut: settled.timedOut,
      total,
      // Delivered from the window's start until the drain ended, per second of window + drain.
      effectivePerSec: Math.round(
        (settled.deliveries - c0.deliveries) / (windowS + settled.waitedMs / 1000),
      ),
      // Sent and not rejected, yet never delivered. 0 <= lost <= unanswered is normal (an unanswered
      // request may never have been accepted); above `unanswered`, accepted events were lost;
      // negative, something was delivered twice.
      lost: warmNotRejected + notRejected - total,
      invalid: settled.invalid - c0.invalid,
    },
    cpu: {
      sutPct: pctOf(cpu0, cpu1, windowS),
      sinkPct: pctOf(sinkCpu0, sinkCpu1, windowS),
      sutCorePct: loadCore === undefined ? undefined : coreBusyPct(cores0, cores1, SUT_CORE),
      loadCorePct: loadCore === undefined ? undefined : coreBusyPct(cores0, cores1, LOAD_CORE),
    },
    wrk: w,
  };
}

/**
 * @param {number | undefined} before CPU seconds
 * @param {number | undefined} after
 * @param {number} windowS
 */
function pctOf(before, after, windowS) {
  return before === undefined || after === undefined
    ? undefined
    : round1((100 * (after - before)) / windowS);
}

/**
 * Sanity checks that make a number untrustworthy; printed under the table and kept in the JSON.
 * @param {string} name
 * @param {Awaited<ReturnType<typeof measure>>} r
 */
function warnings(name, r) {
  const w = [];
  if (r.non2xx > 0) w.push(`${name}: ${r.non2xx} responses with status >= 400`);
  if (r.socketErrors > 0)
    w.push(`${name}: ${r.socketErrors} socket errors (wrk connect/read/write/timeout)`);
  if (r.delivered.invalid > 0)
    w.push(`${name}: ${r.delivered.invalid} deliveries were not CloudEvents`);
  if (r.delivered.lost > r.unanswered) {
    w.push(
      `${name}: ${r.delivered.lost - r.unanswered} accepted (answered 2xx) events never reached the sink ` +
        `(${r.delivered.lost} not delivered, of which at most ${r.unanswered} were unanswered)`,
    );
  }
  if (r.delivered.lost < 0) {
    w.push(`${name}: ${-r.delivered.lost} more deliveries than requests sent (duplicates?)`);
  }
  if (r.delivered.drainTimedOut)
    w.push(`${name}: deliveries still arriving when the drain wait gave up`);
  const { sutPct, sutCorePct } = r.cpu;
  if (sutPct !== undefined && sutCorePct !== undefined && sutCorePct - sutPct > 10) {
    w.push(
      `${name}: other processes took ~${Math.round(sutCorePct - sutPct)}% of core ${SUT_CORE} during the run; rerun on a quiet machine`,
    );
  } else if (sutPct !== undefined && sutPct < 85) {
    w.push(
      `${name}: used only ${r.cpu.sutPct}% of its core; the load side (core ${LOAD_CORE}: ${r.cpu.loadCorePct ?? "?"}%) may have been the limit`,
    );
  }
  return w;
}

async function main() {
  const nats = natsScenarioOf(process.argv); // ingest-nats, scale-out: lib/nats-scale.js
  if (nats !== undefined) {
    // --help must not start the scenario (it used to: its options are parsed loosely).
    if (process.argv.includes("--help") || process.argv.includes("-h")) {
      process.stdout.write(USAGE);
      return 0;
    }
    return runNatsScenario(nats, process.argv.slice(2));
  }
  let opts;
  try {
    opts = parseArgs(process.argv.slice(2));
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    log(`bench: ${err.message}\n\n${USAGE}`);
    return 2;
  }
  if (opts.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  if (opts.connections < opts.threads) throw new BenchError("--connections must be >= --threads");

  const loadavg1mAtStart = round1(loadavg()[0] ?? 0);
  // match --part micro calls the matchers in this process: no servers, no wrk.
  const endToEnd = opts.scenario !== "match" || opts.part !== "micro";
  const wrk = wrkVersion();
  // backlog loads Herald with bench/load.js only.
  if (
    endToEnd &&
    opts.scenario !== "backlog" &&
    opts.scenario !== "sdk-emit" &&
    wrk === undefined
  ) {
    throw new BenchError(
      "wrk is not installed (Debian/Ubuntu: apt-get install wrk); it is the load generator",
    );
  }
  const pin = canPin();
  if (!pin) {
    log(
      "bench: WARNING taskset or a second core is missing: running UNPINNED, numbers are not comparable",
    );
  }
  const sutCore = pin ? SUT_CORE : undefined;
  const loadCore = pin ? LOAD_CORE : undefined;

  /** @type {Record<string, string>} */
  const skipped = {};
  let systems = endToEnd ? opts.systems : [];
  const heraldBin = resolve(opts.heraldBin ?? DEFAULT_HERALD_BIN);
  const heralds = systems.filter(isHerald);
  if (heralds.length > 0 && !existsSync(heraldBin)) {
    const shown = heraldBin.startsWith(`${ROOT}/`) ? relative(ROOT, heraldBin) : heraldBin;
    const why = `${shown} not found (is the gateway written and built? npm run bench builds it)`;
    for (const name of heralds) skipped[name] = why;
    log(
      `\nbench: *** SKIPPING ${heralds.join(", ")}: ${why}. Baselines only; exit code will be 1. ***\n`,
    );
    systems = systems.filter((s) => !isHerald(s));
    if (systems.length === 0) throw new BenchError(`nothing to run: Herald skipped (${why})`);
  }

  const benchStartAt = performance.now();
  // The scenarios with runners of their own get the same context.
  const ctx = {
    opts,
    heraldBin,
    sutCore,
    loadCore,
    pin,
    wrk,
    loadavg1mAtStart,
    benchStart: benchStartAt,
  };
  if (opts.scenario === "e2e-latency") return runLatencyScenario(ctx);
  if (opts.scenario === "backlog") return runBacklogScenario(ctx);
  if (opts.scenario === "sdk-emit") return runSdkEmitScenario(ctx);

  log(
    endToEnd
      ? `bench: scenario ${opts.scenario}, ${opts.rounds} round(s) of ${systems.join(", ")} interleaved, ` +
          `${opts.durationS}s measured + ${opts.warmupS}s warm-up per run, ` +
          `${opts.connections} connections, ${opts.threads} wrk thread(s), ` +
          `Herald's delivery.concurrency ${opts.sinkConcurrency}; ` +
          (pin ? `SUT on core ${SUT_CORE}, wrk + sink on core ${LOAD_CORE}` : "unpinned")
      : `bench: scenario ${opts.scenario}, micro part only (in process, no servers)`,
  );

  const benchStart = benchStartAt;

  // What every run needs besides the options (ingest-auth: tokens and auth; match: sql).
  /** @type {Scenario} */
  const scenario = { auth: undefined, tokenFile: undefined, sql: false };

  // match: does this build compile `sql` filters (CESQL)? The mix uses them if so, in both parts.
  // Then the micro part: the matchers called directly, before any server starts.
  /** @type {ReturnType<typeof runMatchMicro> | undefined} */
  let micro;
  if (opts.scenario === "match") {
    const { compileFilter, matchers } = await loadMatching();
    scenario.sql = supportsSql(compileFilter);
    log(
      `bench: match: compileFilter(${JSON.stringify(SQL_PROBE)}) ${scenario.sql ? "compiles: the mix includes sql filters" : "throws: the mix uses all/any/not instead of sql"}`,
    );
    if (opts.part !== "end-to-end") {
      const rounds = 3 * opts.rounds;
      log(
        `bench: micro: ${rounds} rounds of indexed-10000, linear-10000, indexed-100 interleaved, ` +
          `>= ${microMinMs(opts)} ms each, in this process`,
      );
      micro = runMatchMicro({ matchers, sql: scenario.sql, rounds, minMs: microMinMs(opts), log });
    }
  }

  // ingest-auth: the publishers' key and tokens, checked here first, then Herald checked with them.
  /** @type {Record<string, unknown> | undefined} */
  let authSettings;
  /** @type {Awaited<ReturnType<typeof probeAuth>> | undefined} */
  let preflight;
  if (opts.scenario === "ingest-auth") {
    const ttlS = tokenTtlS(opts, systems.length);
    const publishers = await mintPublishers(opts.publishers, ttlS);
    await verifyPublishers(publishers);
    const dir = mkdtempSync(join(tmpdir(), "herald-bench-tokens-"));
    tempDirs.add(dir);
    scenario.tokenFile = writeTokenFile(publishers, dir);
    scenario.auth = authConfig(publishers);
    const tokenBytes = publishers.tokens.map((t) => t.length);
    authSettings = {
      issuer: ISSUER,
      audience: AUDIENCE,
      algorithm: ALGORITHM,
      kid: publishers.publicJwk.kid,
      keys: "inline (auth.issuers[0].jwks.keys)",
      publishers: opts.publishers,
      subjects: `publisher-0 .. publisher-${opts.publishers - 1}`,
      tokenBytes: { min: Math.min(...tokenBytes), max: Math.max(...tokenBytes) },
      tokensExpireAt: new Date(publishers.expiresAt * 1000).toISOString(),
      publisherRules: scenario.auth.publishers,
      requests:
        "Authorization: Bearer <token> on every request to every system (herald-noauth too, so " +
        "both Herald runs get the same bytes), cycling round-robin through the publishers' tokens",
      heraldNoauth: "the ingest scenario's config, herald serve --no-auth",
      heraldAuth: "the same config plus the auth section, herald serve without --no-auth",
    };
    log(
      `bench: ingest-auth: ${opts.publishers} ${ALGORITHM} tokens minted (iss ${ISSUER}, aud ${AUDIENCE}, ` +
        `${Math.min(...tokenBytes)}-${Math.max(...tokenBytes)} bytes, valid ${Math.round(ttlS / 60)} min) and verified`,
    );
    if (systems.includes("herald-auth")) {
      log("bench: preflight: herald-auth must start, refuse an event without a token (401) and");
      log(
        `bench: preflight: one of a type outside its publisher rule (403), accept each publisher's token`,
      );
      preflight = await preflightAuth({ opts, heraldBin, sutCore, loadCore, scenario, publishers });
      log(
        `bench: preflight OK: no token -> ${preflight.withoutToken}, forbidden type -> ` +
          `${preflight.forbiddenType}, ${preflight.publishersAccepted}/${opts.publishers} publishers ` +
          `accepted, ${preflight.delivered} delivered`,
      );
    }
  }

  /** @type {import("./lib/report.js").Round[]} */
  const rounds = [];
  /** @type {string[]} */
  const notes = [];
  /** Why the measurement is not valid (ingest-auth: Herald rejected requests); stops the rounds. */
  let invalid;
  for (let i = 0; endToEnd && i < opts.rounds && invalid === undefined; i++) {
    // Rotate the starting system so none is always first (or always right after another one).
    const k = i % systems.length;
    const order = [...systems.slice(k), ...systems.slice(0, k)];
    log(`bench: round ${i + 1}/${opts.rounds}: ${order.join(", ")}`);
    /** @type {Record<string, Awaited<ReturnType<typeof runOnce>>>} */
    const ran = {};
    for (const name of order) {
      const r = await runOnce({ name, opts, heraldBin, sutCore, loadCore, benchStart, scenario });
      ran[name] = r;
      notes.push(...[...warnings(name, r), ...r.notes].map((n) => `round ${i + 1} ${n}`));
      const rejected = r.non2xx + r.warmupNon2xx;
      log(
        `bench: round ${i + 1} ${name}: ${r.reqPerSec} req/s, ${r.delivered.perSec} delivered/s, ` +
          `p99 ${(r.latencyUs.p99 / 1000).toFixed(2)} ms` +
          (rejected > 0 ? `, *** ${rejected} responses with status >= 400 ***` : ""),
      );
      if (opts.scenario === "ingest-auth" && isHerald(name) && rejected > 0) {
        invalid =
          `${name} answered ${rejected} requests with status >= 400 in round ${i + 1} ` +
          `(${r.warmupNon2xx} during warm-up, ${r.non2xx} in the measured window). ` +
          (name === "herald-auth"
            ? "401 or 403 mean the bench's auth config or tokens are wrong (the preflight " +
              "accepted them, so look for expiry or rate limits: 429); "
            : "") +
          "a rejected request is cheaper than an accepted one, so the ratio is NOT valid. " +
          "Stopped after this run.";
        break;
      }
    }
    /** @type {Record<string, Awaited<ReturnType<typeof runOnce>>>} */
    const bySystem = {};
    for (const name of systems) if (ran[name] !== undefined) bySystem[name] = ran[name];
    const r = roundRatios(bySystem, ratiosFor(opts.scenario, opts.store));
    const shown = Object.entries(r).map(
      ([key, v]) => `${key} delivered/s ${v.deliveredPerSec?.toFixed(2) ?? "-"}x`,
    );
    if (shown.length > 0) log(`bench: round ${i + 1}: ${shown.join(", ")}`);
    rounds.push({ round: i + 1, order, systems: bySystem, ratios: r });
  }

  const summarySystems = summarizeSystems(rounds, systems);
  const summaryRatios = summarizeRatios(rounds, ratiosFor(opts.scenario, opts.store));
  const t = targets(summaryRatios, ratiosFor(opts.scenario, opts.store));
  notes.push(...spreadWarnings(summaryRatios));
  const report = {
    scenario: opts.scenario,
    date: new Date().toISOString(),
    quick: opts.quick,
    method:
      "Systems run interleaved: each round runs every system once, the starting system rotated " +
      "each round; every run is a fresh sink and a fresh system under test (warm-up, measured " +
      "window, drain, stop). Per system: medians over rounds. Ratios: computed within each round, " +
      "then the median (and min-max) of those per-round ratios; the targets use that median.",
    settings: {
      rounds: opts.rounds,
      durationS: opts.durationS,
      warmupS: opts.warmupS,
      connections: opts.connections,
      wrkThreads: opts.threads,
      sinkConcurrency: opts.sinkConcurrency,
      systems,
      pinned: pin ? { sut: SUT_CORE, wrk: LOAD_CORE, sink: LOAD_CORE } : false,
      herald:
        opts.scenario === "match"
          ? {
              subscriptions:
                "herald-<n>: n subscriptions of the match mix (lib/match-subscriptions.js), the middle one exact on eventType",
              sql: scenario.sql,
              eventType: MATCHED_TYPE,
              store: opts.store,
            }
          : { subscriptions: SUBSCRIPTIONS, eventType: MATCHED_TYPE, store: opts.store },
      ...(opts.scenario === "match" ? { part: opts.part } : {}),
      event: "binary mode, application/json, 79-byte body, unique ce-id per request",
      ...(authSettings === undefined ? {} : { auth: authSettings }),
    },
    machine: {
      node: process.version,
      platform: `${platform()} ${release()} ${arch()}`,
      cpus: availableParallelism(),
      cpuModel: cpus()[0]?.model,
      memoryGiB: Math.round(totalmem() / 2 ** 30),
      loadavg1mAtStart,
      loadavg1mAtEnd: round1(loadavg()[0] ?? 0),
      wrk,
      elapsedS: Math.round((performance.now() - benchStart) / 1000),
    },
    summary: { systems: summarySystems, ratios: summaryRatios, targets: t },
    ...(micro === undefined ? {} : { micro }),
    ...(preflight === undefined ? {} : { preflight }),
    rounds,
    skipped,
    ...(invalid === undefined ? {} : { invalid }),
    warnings: notes,
  };

  const out = writeResults(opts, report);

  const print = (/** @type {string} */ s = "") => process.stdout.write(`${s}\n`);
  print();
  if (endToEnd) {
    print(
      `Herald bench: ${opts.scenario}${opts.quick ? " (quick)" : ""}, ${opts.rounds} round(s) interleaved, ` +
        `${opts.durationS}s measured per run, ${opts.connections} connections, node ${process.version}, ${availableParallelism()} cpus`,
    );
    print(
      `medians over ${opts.rounds} round(s); d/s range: min-max of delivered/s; non-2xx, sock err, unanswered, lost: totals`,
    );
  } else {
    print(
      `Herald bench: ${opts.scenario}${opts.quick ? " (quick)" : ""}, micro part only, node ${process.version}, ${availableParallelism()} cpus`,
    );
  }
  if (micro !== undefined) {
    print();
    for (const line of microLines(micro)) print(line);
  }
  if (endToEnd) {
    print();
    print(table(summarySystems));
  }
  for (const name of Object.keys(skipped)) print(`${name}: SKIPPED, ${skipped[name]}`);
  print();
  for (const line of ratioLines(summaryRatios)) print(line);
  for (const x of endToEnd ? t : []) {
    const verdict = x.met === undefined ? "not measured" : x.met ? "MET" : "MISSED";
    const per = x.rounds > 1 ? ` (met in ${x.roundsMet}/${x.rounds} rounds)` : "";
    print(
      `target ${x.metric} >= ${x.min}: median ${x.actual?.toFixed(2) ?? "-"} ${verdict}${x.met === undefined ? "" : per}`,
    );
  }
  if (notes.length > 0) {
    print();
    for (const n of notes) print(`warning: ${n}`);
  }
  if (invalid !== undefined) {
    print();
    print(`*** NOT VALID: ${invalid} ***`);
  }
  print();
  print(`results: ${relative(process.cwd(), out)}`);
  // A miss of the targets is a finding, not a failure; a skipped system or rejected requests in an
  // ingest-auth run are.
  return Object.keys(skipped).length > 0 || invalid !== undefined ? 1 : 0;
}

/**
 * match, micro part: each measurement runs whole passes over its events for at least this long.
 * @param {import("./lib/args.js").Options} opts
 */
function microMinMs(opts) {
  return opts.quick ? 50 : 200;
}

/**
 * match: the built gateway's compileFilter and matchers (the micro part calls them directly).
 * @returns {Promise<{ compileFilter: (filter: object) => unknown, matchers: import("./lib/match-micro.js").MatcherModule }>}
 */
async function loadMatching() {
  const matcherFile = join(GATEWAY_DIST, "matcher.js");
  const compileFile = join(GATEWAY_DIST, "compile-filter.js");
  if (!existsSync(matcherFile) || !existsSync(compileFile)) {
    throw new BenchError(
      `${relative(ROOT, matcherFile)} not found: build the gateway first (npm run bench:match builds it)`,
    );
  }
  const matchers = await import(pathToFileURL(matcherFile).href);
  if (typeof matchers.createLinearMatcher !== "function") {
    throw new BenchError(
      "this gateway build has no createLinearMatcher (the reference matcher); rebuild it",
    );
  }
  const { compileFilter } = await import(pathToFileURL(compileFile).href);
  return { compileFilter, matchers };
}

/**
 * The micro part's summary: per-event cost of each case, the ratios and the targets.
 * @param {ReturnType<typeof runMatchMicro>} m
 * @returns {string[]}
 */
function microLines(m) {
  const lines = [
    `match micro (in process, ${m.rounds.length} rounds interleaved, ${m.eventsPerCase} events per case, ` +
      `each matching 1 subscription; mix ${m.sql ? "with sql" : "without sql (all/any/not instead)"}):`,
  ];
  for (const [name, v] of Object.entries(m.nsPerEvent)) {
    lines.push(
      `  ${name.padEnd(14)} median ${fmtNs(v.median)} (rounds ${fmtNs(v.min)} - ${fmtNs(v.max)})`,
    );
  }
  lines.push(
    `  building the index of 10,000: median ${m.buildMs.median.toFixed(1)} ms ` +
      `(rounds ${m.buildMs.min.toFixed(1)}-${m.buildMs.max.toFixed(1)}; first, cold: ${m.buildMs.first.toFixed(1)} ms)`,
  );
  for (const x of m.targets) {
    const r = m.ratios[x.metric];
    const bound = x.min !== undefined ? `>= ${x.min}` : `<= ${x.max}`;
    lines.push(
      `target ${x.metric} (${x.meaning}) ${bound}: median ${r?.median.toFixed(2)}x ` +
        `(rounds ${r?.min.toFixed(2)}-${r?.max.toFixed(2)}) ${x.met ? "MET" : "MISSED"} ` +
        `(met in ${x.roundsMet}/${x.rounds} rounds)`,
    );
  }
  return lines;
}

/** @param {string} name */
function isHerald(name) {
  return name === "herald" || name.startsWith("herald-");
}

/**
 * ingest-auth: what every run needs besides the options.
 * @typedef {object} Scenario
 * @property {ReturnType<typeof authConfig> | undefined} auth  Herald's `auth` section (herald-auth)
 * @property {string | undefined} tokenFile     the tokens wrk cycles through, one per line
 * @property {boolean} sql                      match: the mix includes `sql` filters
 */

/**
 * Token lifetime: an hour, or longer when the bench could last longer (every run taking its
 * longest drain), so no token expires mid-bench.
 * @param {import("./lib/args.js").Options} opts
 * @param {number} systems
 */
function tokenTtlS(opts, systems) {
  const perRunS = opts.warmupS + opts.durationS + Math.max(30, 3 * opts.durationS) + 30;
  return Math.max(3600, opts.rounds * systems * perRunS + 600);
}

/**
 * ingest-auth, before any measurement: starts Herald with the auth config and probes it (see
 * lib/auth-preflight.js). Throws a BenchError that says why when Herald does not start or does
 * not behave like an authenticating gateway.
 * @param {object} o
 * @param {import("./lib/args.js").Options} o.opts
 * @param {string} o.heraldBin
 * @param {number | undefined} o.sutCore
 * @param {number | undefined} o.loadCore
 * @param {Scenario} o.scenario
 * @param {import("./lib/auth-tokens.js").Publishers} o.publishers
 */
async function preflightAuth({ opts, heraldBin, sutCore, loadCore, scenario, publishers }) {
  return withSystem(
    { name: "herald-auth", opts, heraldBin, sutCore, loadCore, scenario },
    async (sut, sink) => {
      try {
        return await probeAuth({
          heraldUrl: sut.url,
          sinkUrl: sink.url,
          tokens: publishers.tokens,
          allowedType: MATCHED_TYPE,
          forbiddenType: FORBIDDEN_TYPE,
        });
      } catch (err) {
        throw new BenchError(
          `ingest-auth preflight: ${/** @type {Error} */ (err).message}\nNothing was measured.`,
        );
      }
    },
    (err) => {
      // Herald's own words: `herald: <why>` on stderr, or its JSON log lines.
      const text = /** @type {Error} */ (err).message;
      const output = text.split("\n--- herald-auth output ---\n")[1] ?? text;
      const said = output
        .split("\n")
        .filter((l) => l.startsWith("herald: "))
        .map((l) => l.slice("herald: ".length));
      const reason = said.length > 0 ? said.join("\n  ") : output.trim() || text;
      const noAuthYet = /authentication is not available|no auth section|--no-auth/.test(reason);
      return new BenchError(
        "ingest-auth cannot run: Herald did not start with publisher authentication configured " +
          "(the ingest config plus an auth section, without --no-auth), so nothing was measured.\n" +
          `  Herald said: ${reason}\n` +
          (noAuthYet
            ? "  This Herald build does not accept an auth config yet (issue 3 wires it into " +
              "`herald serve`); run this scenario again once it does (npm run bench rebuilds the gateway)."
            : "  If it names a field of the config, the auth section the bench writes " +
              "(bench/lib/auth-tokens.js, authConfig) no longer matches the gateway's config format."),
      );
    },
  );
}

/**
 * One run of one system: a fresh sink, the system under test, warm-up + measured window + drain,
 * then both stopped and checked gone (process reaped, port closed) before the next run starts.
 * @param {object} o
 * @param {string} o.name
 * @param {import("./lib/args.js").Options} o.opts
 * @param {string} o.heraldBin
 * @param {number | undefined} o.sutCore
 * @param {number | undefined} o.loadCore
 * @param {number} o.benchStart  performance.now() when the bench started
 * @param {Scenario} o.scenario
 */
async function runOnce({ name, opts, heraldBin, sutCore, loadCore, benchStart, scenario }) {
  /** @type {string[]} */
  const notes = [];
  const startedAtS = round1((performance.now() - benchStart) / 1000);
  const result = await withSystem(
    { name, opts, heraldBin, sutCore, loadCore, scenario, notes },
    async (sut, sink) => ({
      startedAtS,
      ...(await measure({ sut, sink, opts, loadCore, tokenFile: scenario.tokenFile })),
      notes,
    }),
  );
  await sleep(BETWEEN_RUNS_MS);
  return result;
}

/**
 * Starts a fresh sink and the system `name`, runs `body` with both, then stops both (also when
 * `body` fails; the error then propagates) and checks that nothing of them survives: processes
 * reaped, ports closed.
 * @template T
 * @param {object} o
 * @param {string} o.name
 * @param {import("./lib/args.js").Options} o.opts
 * @param {string} o.heraldBin
 * @param {number | undefined} o.sutCore
 * @param {number | undefined} o.loadCore
 * @param {Scenario} o.scenario
 * @param {string[]} [o.notes]  non-zero exit codes on SIGTERM are noted here
 * @param {string[]} [o.sinkArgs]  extra arguments of the sink (e2e-latency: --record)
 * @param {(sut: import("./lib/processes.js").Server, sink: import("./lib/processes.js").Server) => Promise<T>} body
 * @param {(err: unknown) => Error} [startFailed]  turns the system's failure to start into the error thrown
 * @returns {Promise<T>}
 */
async function withSystem(o, body, startFailed) {
  const { name, opts, heraldBin, sutCore, loadCore, scenario } = o;
  const notes = o.notes ?? [];
  if (liveChildren() !== 0) {
    throw new BenchError(`${liveChildren()} process(es) of the previous run are still running`);
  }
  /** @type {string | undefined} */
  let dir;
  const sink = await startServer({
    name: "sink",
    command: process.execPath,
    args: [join(BENCH, "sink.js"), ...(o.sinkArgs ?? [])],
    core: loadCore,
    cwd: ROOT,
    ready: /^sink listening on (http:\/\/[^\s/]+)/,
  });
  /** @type {import("./lib/processes.js").Server | undefined} */
  let sut;
  let result;
  try {
    const specs = systemSpecs(
      sink.url,
      opts.store,
      heraldBin,
      () => {
        dir = mkdtempSync(join(tmpdir(), "herald-bench-"));
        tempDirs.add(dir);
        return dir;
      },
      scenario.auth,
      scenario.sql,
      opts.sinkConcurrency,
    );
    const spec = specs[/** @type {keyof typeof specs} */ (name)]();
    try {
      sut = await startServer({ name, core: sutCore, ...spec });
    } catch (err) {
      throw startFailed === undefined ? err : startFailed(err);
    }
    result = await body(sut, sink);
  } finally {
    // Stop both even when the measurement failed (the error then propagates; killAll() covers
    // anything left).
    if (sut !== undefined) {
      const code = await sut.stop();
      if (code !== 0) notes.push(`${name}: exited with code ${code} on SIGTERM`);
    }
    const sinkCode = await sink.stop();
    if (sinkCode !== 0) notes.push(`${name}: the sink exited with code ${sinkCode} on SIGTERM`);
    if (dir !== undefined) {
      rmSync(dir, { recursive: true, force: true });
      tempDirs.delete(dir);
    }
  }
  // Nothing of this run may survive into the next one: processes reaped, ports closed.
  if (sut !== undefined) await assertStopped(sut);
  await assertStopped(sink);
  return result;
}

/**
 * What the e2e-latency and backlog scenarios share with the others.
 * @typedef {object} Context
 * @property {import("./lib/args.js").Options} opts
 * @property {string} heraldBin
 * @property {number | undefined} sutCore
 * @property {number | undefined} loadCore
 * @property {boolean} pin
 * @property {string | undefined} wrk
 * @property {number} loadavg1mAtStart
 * @property {number} benchStart  performance.now() when the bench started
 */

/**
 * The `machine` record of the JSON.
 * @param {Context} ctx
 */
function machineInfo(ctx) {
  return {
    node: process.version,
    platform: `${platform()} ${release()} ${arch()}`,
    cpus: availableParallelism(),
    cpuModel: cpus()[0]?.model,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    loadavg1mAtStart: ctx.loadavg1mAtStart,
    loadavg1mAtEnd: round1(loadavg()[0] ?? 0),
    wrk: ctx.wrk,
    elapsedS: Math.round((performance.now() - ctx.benchStart) / 1000),
  };
}

/**
 * Writes the report (atomically) and returns its path.
 * @param {import("./lib/args.js").Options} opts
 * @param {object} report
 */
/**
 * Writes the record to `--out`, else to bench/results/<scenario>.json, or to
 * <scenario>.quick.json for a `--quick` smoke run (not kept in git), so that a smoke run never
 * replaces the recorded numbers of a full one.
 */
function writeResults(opts, report) {
  const name = `${opts.scenario}${opts.quick ? ".quick" : ""}.json`;
  const out = resolve(opts.out ?? join(BENCH, "results", name));
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(`${out}.tmp`, `${JSON.stringify(report, null, 2)}\n`);
  renameSync(`${out}.tmp`, out);
  return out;
}

/** A temporary directory removed at the end (and on Ctrl-C). */
function tempDir() {
  const dir = mkdtempSync(join(tmpdir(), "herald-bench-"));
  tempDirs.add(dir);
  return dir;
}

const print = (/** @type {string} */ s = "") => process.stdout.write(`${s}\n`);

/**
 * e2e-latency: per round, a fresh sink (--record) and Herald; a short wrk run finds the rate Herald
 * sustains (delivered/s), then bench/load.js sends at RATE_FRACTION of it, at a constant rate, for
 * --duration; every event's send -> sink receipt time is taken.
 * @param {Context} ctx
 */
async function runLatencyScenario(ctx) {
  const { opts, loadCore } = ctx;
  // The probe for the maximum: the ingest scenario's warm-up, window and drain, shorter.
  const probe = { warmupS: opts.quick ? 1 : 2, durationS: opts.quick ? 2 : 3 };
  log(
    `bench: scenario e2e-latency, ${opts.rounds} round(s); each: herald (${opts.store} store) ` +
      `maximum from wrk (${probe.warmupS}s warm-up + ${probe.durationS}s, ${opts.connections} connections), ` +
      `then ${RATE_FRACTION} of it at a constant rate for ${opts.durationS}s (bench/load.js, ` +
      `<= ${PACED_CONNECTIONS} requests in flight); ` +
      (ctx.pin ? `herald on core ${SUT_CORE}, load + sink on core ${LOAD_CORE}` : "unpinned"),
  );
  const dir = tempDir();
  const scenario = { auth: undefined, tokenFile: undefined, sql: false };
  const rounds = [];
  /** @type {string[]} */
  const notes = [];
  for (let i = 0; i < opts.rounds; i++) {
    /** @type {string[]} */
    const runNotes = [];
    const r = await withSystem(
      { name: "herald", ...ctx, scenario, notes: runNotes, sinkArgs: ["--record"] },
      async (sut, sink) => {
        const max = await measure({
          sut,
          sink,
          opts: { ...opts, ...probe },
          loadCore,
          tokenFile: undefined,
        });
        const rate = Math.max(1, Math.round(RATE_FRACTION * max.delivered.perSec));
        log(
          `bench: round ${i + 1}: maximum ${max.delivered.perSec} delivered/s (${max.reqPerSec} req/s); ` +
            `constant rate ${rate}/s for ${opts.durationS}s`,
        );
        const latency = await measureLatency({
          heraldUrl: sut.url,
          sinkUrl: sink.url,
          rate,
          durationS: opts.durationS,
          core: loadCore,
          dir,
          type: MATCHED_TYPE,
          nonce: `lat${i + 1}-${Date.now().toString(36)}`,
        });
        return {
          round: i + 1,
          maxRate: max.delivered.perSec,
          probe: {
            reqPerSec: max.reqPerSec,
            deliveredPerSec: max.delivered.perSec,
            non2xx: max.non2xx,
            socketErrors: max.socketErrors,
            backlog: max.delivered.backlog,
            drainS: max.delivered.drainS,
            drainTimedOut: max.delivered.drainTimedOut,
            lost: max.delivered.lost,
            sutCpuPct: max.cpu.sutPct,
          },
          ...latency,
        };
      },
    );
    await sleep(BETWEEN_RUNS_MS);
    rounds.push(r);
    const probeWarnings = [
      ...(r.probe.non2xx + r.probe.socketErrors > 0 ? ["probe: wrk saw errors"] : []),
      // The constant-rate window must start with the probe's backlog delivered.
      ...(r.probe.drainTimedOut
        ? ["probe: its backlog was still draining when the constant-rate window started"]
        : []),
    ];
    for (const n of [...probeWarnings, ...latencyWarnings(r, opts.durationS), ...runNotes]) {
      notes.push(`round ${i + 1}: ${n}`);
    }
    log(
      `bench: round ${i + 1}: ${r.received} events at ${r.load.achievedRate}/s: p50 ${fmtMs(r.latencyUs.p50)}, ` +
        `p99 ${fmtMs(r.latencyUs.p99)}, p99.9 ${fmtMs(r.latencyUs.p999)}, max ${fmtMs(r.latencyUs.max)}`,
    );
  }
  const summary = summarizeLatency(rounds);
  const report = {
    scenario: opts.scenario,
    date: new Date().toISOString(),
    quick: opts.quick,
    method:
      "Per round, a fresh sink (recording each event id's first receipt) and a fresh Herald: a short " +
      "wrk run (the ingest scenario's warm-up, window and drain) gives the maximum, the delivered/s " +
      `Herald sustained; bench/load.js then sends ${RATE_FRACTION} of it at a constant rate (event k ` +
      "due at start + k/rate, open loop, keep-alive connections), stamping each send; latency = " +
      "sink receipt - send, both on CLOCK_MONOTONIC (process.hrtime). Per-round percentiles by " +
      "nearest rank; summary: their median and min-max over rounds, and all rounds' events pooled.",
    settings: {
      rounds: opts.rounds,
      probe: { ...probe, connections: opts.connections, wrkThreads: opts.threads },
      sinkConcurrency: opts.sinkConcurrency,
      rateFraction: RATE_FRACTION,
      durationS: opts.durationS,
      pacedConnections: PACED_CONNECTIONS,
      pinned: ctx.pin ? { herald: SUT_CORE, load: LOAD_CORE, sink: LOAD_CORE } : false,
      herald: { subscriptions: SUBSCRIPTIONS, eventType: MATCHED_TYPE, store: opts.store },
      event: "binary mode, application/json, 79-byte body, unique ce-id per request",
    },
    machine: machineInfo(ctx),
    summary,
    rounds: rounds.map(({ samples, ...r }) => r),
    warnings: notes,
  };
  const out = writeResults(opts, report);
  const l = summary.latencyUs;
  const row = (/** @type {string} */ key) =>
    `${fmtMs(l[key]?.median)} (rounds ${fmtMs(l[key]?.min)} - ${fmtMs(l[key]?.max)})`;
  print();
  print(
    `Herald bench: e2e-latency${opts.quick ? " (quick)" : ""}, ${opts.rounds} round(s), ${opts.store} store, ` +
      `node ${process.version}, ${availableParallelism()} cpus`,
  );
  print(
    `maximum (wrk, delivered/s): median ${summary.maxRate.median} (rounds ${summary.maxRate.min}-${summary.maxRate.max}); ` +
      `constant rate: median ${summary.rate.median}/s, achieved ${summary.achievedRate.median}/s, ${opts.durationS}s per round`,
  );
  print("ingest -> sink receipt latency, median over rounds (min - max):");
  for (const [key, label] of [
    ["p50", "p50"],
    ["p90", "p90"],
    ["p99", "p99"],
    ["p999", "p99.9"],
    ["max", "max"],
  ]) {
    print(`  ${label.padEnd(6)} ${row(key)}`);
  }
  const p = summary.pooledUs;
  print(
    `  pooled over ${p.count} events: p50 ${fmtMs(p.p50)}, p99 ${fmtMs(p.p99)}, p99.9 ${fmtMs(p.p999)}, max ${fmtMs(p.max)}`,
  );
  print(
    `sent ${summary.totals.sent}, non-2xx ${summary.totals.non2xx}, socket errors ${summary.totals.errors}, ` +
      `never received ${summary.totals.missing}; send lag behind schedule p99 ${fmtMs(summary.lagP99Us)}`,
  );
  if (notes.length > 0) {
    print();
    for (const n of notes) print(`warning: ${n}`);
  }
  print();
  print(`results: ${relative(process.cwd(), out)}`);
  return 0;
}

/**
 * backlog: per round, Herald (SQLite) with its sink down accepts --events in batches; its RSS is
 * sampled throughout; after --hold the sink starts on its port and the drain is timed to the last
 * distinct event id (lib/backlog.js).
 * @param {Context} ctx
 */
async function runBacklogScenario(ctx) {
  const { opts } = ctx;
  log(
    `bench: scenario backlog, ${opts.rounds} round(s); each: herald (sqlite) with the sink down ` +
      `accepts ${opts.events.toLocaleString("en-US")} events (${BATCH_EVENTS} per batch request, ` +
      `${BATCH_CONNECTIONS} in flight), holds ${opts.holdS}s, then the sink comes up and the backlog ` +
      `drains; ` +
      (ctx.pin ? `herald on core ${SUT_CORE}, load + sink on core ${LOAD_CORE}` : "unpinned"),
  );
  const rounds = [];
  /** @type {string[]} */
  const notes = [];
  for (let i = 0; i < opts.rounds; i++) {
    if (liveChildren() !== 0) {
      throw new BenchError(`${liveChildren()} process(es) of the previous run are still running`);
    }
    const dir = tempDir();
    try {
      const r = await runBacklogRound({
        herald: (sinkUrl) =>
          heraldCommand(
            ctx.heraldBin,
            writeHeraldConfig({
              sinkUrl,
              store: "sqlite",
              dir,
              delivery: BACKLOG_DELIVERY,
              limits: BACKLOG_LIMITS,
            }),
            dir,
            false,
          ),
        sinkScript: join(BENCH, "sink.js"),
        sutCore: ctx.sutCore,
        loadCore: ctx.loadCore,
        events: opts.events,
        holdS: opts.holdS,
        type: MATCHED_TYPE,
        nonce: `backlog${i + 1}-${Date.now().toString(36)}`,
        log,
      });
      rounds.push({ round: i + 1, ...r });
      for (const n of r.notes) notes.push(`round ${i + 1}: ${n}`);
      log(
        `bench: round ${i + 1}: peak RSS ${r.rssMb.peak} MB; drain ${r.drain.eventsPerSec}/s ` +
          `(${r.sink.unique.toLocaleString("en-US")} of ${r.ingest.accepted.toLocaleString("en-US")} ` +
          `in ${r.drain.seconds} s, first after ${r.drain.firstDeliveryS} s)`,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
      tempDirs.delete(dir);
    }
    await sleep(BETWEEN_RUNS_MS);
  }
  const summary = summarizeBacklog(rounds);
  const report = {
    scenario: opts.scenario,
    date: new Date().toISOString(),
    quick: opts.quick,
    method:
      "Per round, a fresh Herald on a fresh SQLite file; its sink's port has nothing listening " +
      "(connection refused: the sink is down). bench/load.js posts the events in batch mode " +
      "(application/cloudevents-batch+json), each answered 202 once committed; Herald retries the " +
      "refused deliveries with backoff meanwhile. VmRSS is read from /proc every 100 ms throughout; " +
      "the peak is the larger of the sampled maximum and VmHWM. After the hold the sink starts on the " +
      "port; drain rate = distinct event ids at the sink / time from the sink's start to the last new " +
      "id. Target: the highest peak RSS of any round.",
    settings: {
      rounds: opts.rounds,
      events: opts.events,
      batchEvents: BATCH_EVENTS,
      batchConnections: BATCH_CONNECTIONS,
      holdS: opts.holdS,
      delivery: BACKLOG_DELIVERY,
      limits: BACKLOG_LIMITS,
      sinkDown: "nothing listening on the sink's port (connection refused) until the drain",
      pinned: ctx.pin ? { herald: SUT_CORE, load: LOAD_CORE, sink: LOAD_CORE } : false,
      herald: { subscriptions: SUBSCRIPTIONS, eventType: MATCHED_TYPE, store: "sqlite" },
      event: "structured, application/json data of 79 bytes, unique id",
    },
    machine: machineInfo(ctx),
    summary,
    rounds,
    warnings: notes,
  };
  const out = writeResults(opts, report);
  const x = summary;
  print();
  print(
    `Herald bench: backlog${opts.quick ? " (quick)" : ""}, ${opts.rounds} round(s), ` +
      `${opts.events.toLocaleString("en-US")} events with the sink down, node ${process.version}, ${availableParallelism()} cpus`,
  );
  print("medians over rounds (min-max):");
  print(
    `  ingest (sink down)   ${x.ingestPerSec.median} events/s (${x.ingestPerSec.min}-${x.ingestPerSec.max}); ` +
      `Herald's CPU while holding the backlog: ${x.holdCpuPct}%`,
  );
  print(`  peak RSS             ${x.rssPeakMb.median} MB (${x.rssPeakMb.min}-${x.rssPeakMb.max})`);
  print(
    `  drain                ${x.drainPerSec.median} events/s (${x.drainPerSec.min}-${x.drainPerSec.max}), ` +
      `${x.drainS.median} s (${x.drainS.min}-${x.drainS.max}); from the first delivery on ` +
      `${x.drainFromFirstPerSec.median} events/s; first delivery ${x.firstDeliveryS} s after the sink came up`,
  );
  print(
    `  at the sink          ${x.totals.unique.toLocaleString("en-US")} distinct of ${x.totals.accepted.toLocaleString("en-US")} accepted ` +
      `(lost ${x.totals.lost}, duplicates ${x.totals.duplicates}; totals)`,
  );
  const t = x.target;
  print(
    `target peak RSS <= ${RSS_TARGET_MB} MB: highest round ${t.actual} MB ${t.met ? "MET" : "MISSED"} (met in ${t.roundsMet}/${t.rounds} rounds)`,
  );
  if (notes.length > 0) {
    print();
    for (const n of notes) print(`warning: ${n}`);
  }
  print();
  print(`results: ${relative(process.cwd(), out)}`);
  return x.totals.lost > 0 ? 1 : 0;
}

/**
 * sdk-emit: per round, each client once (lib/sdk-emit.js) against a fresh Herald; the ratio of
 * events/s within a round, its median over rounds against SDK_EMIT_TARGET.
 * @param {Context} ctx
 */
async function runSdkEmitScenario(ctx) {
  const { opts } = ctx;
  if (!existsSync(ctx.heraldBin)) {
    throw new BenchError(`${ctx.heraldBin} not found (npm run bench:sdk builds it)`);
  }
  if (!existsSync(join(ROOT, "sdk", "dist", "index.js"))) {
    throw new BenchError("sdk/dist is missing (npm run bench:sdk builds it)");
  }
  log(
    `bench: scenario sdk-emit, ${opts.rounds} round(s) of ${opts.systems.join(", ")} interleaved, ` +
      `${opts.warmupS}s warm-up + ${opts.durationS}s per run, ${opts.connections} sends in flight; ` +
      (ctx.pin ? `herald on core ${SUT_CORE}, client on core ${LOAD_CORE}` : "unpinned"),
  );
  const { rounds, summary, notes } = await runSdkEmit({
    opts,
    heraldBin: ctx.heraldBin,
    bench: BENCH,
    root: ROOT,
    sutCore: ctx.sutCore,
    loadCore: ctx.loadCore,
    log,
  });
  const report = {
    scenario: opts.scenario,
    date: new Date().toISOString(),
    quick: opts.quick,
    method:
      "Per round, each client once (starting client rotated): a fresh herald serve (--no-auth, no " +
      "subscriptions, memory store unless --store sqlite) on the SUT core; bench/sdk-emit-client.js on " +
      "the load core sends binary-mode events with the same JSON data for warm-up + window, " +
      "--connections sends in flight, counting 2xx answers. sdk: createProducer().stateTransfer(); " +
      "sdk-node: the same with fetch: createNodeFetch() from @herald/sdk/node; sdk-coalesce: the same with createProducer({ coalesce: true }); cloudevents: new CloudEvent() + " +
      "emitterFor(fetch transport, Mode.BINARY). Ratios: <sdk client>/cloudevents events/s within a " +
      "round, median over rounds; client CPU per event from process.cpuUsage().",
    settings: {
      rounds: opts.rounds,
      durationS: opts.durationS,
      warmupS: opts.warmupS,
      inFlight: opts.connections,
      clients: opts.systems,
      store: opts.store,
      pinned: ctx.pin ? { herald: SUT_CORE, client: LOAD_CORE } : false,
    },
    machine: machineInfo(ctx),
    summary,
    rounds,
    warnings: notes,
  };
  const out = writeResults(opts, report);
  print();
  print(
    `Herald bench: sdk-emit${opts.quick ? " (quick)" : ""}, ${opts.rounds} round(s), node ${process.version}, ${availableParallelism()} cpus`,
  );
  for (const [name, c] of Object.entries(summary.clients)) {
    print(
      `  ${name.padEnd(12)} ${String(c.perSec).padStart(7)} events/s (median), ${c.cpuUsPerEvent} µs client CPU per event`,
    );
  }
  for (const [name, r] of Object.entries(summary.ratios)) {
    print(
      `${name} events/s: median ${r.median}x (rounds ${r.min}x-${r.max}x); target >= ${SDK_EMIT_TARGET}x ` +
        `${r.met ? "MET" : "MISSED"}; client CPU per event ${r.cpuPerEvent}x less`,
    );
  }
  if (notes.length > 0) {
    print();
    for (const n of notes) print(`warning: ${n}`);
  }
  print();
  print(`results: ${relative(process.cwd(), out)}`);
  return 0;
}

/** @param {number} code */
function onSignal(code) {
  killAll();
  removeTempDirs();
  process.exit(code);
}
process.on("SIGINT", () => onSignal(130));
process.on("SIGTERM", () => onSignal(143));
process.on("SIGHUP", () => onSignal(129));

main().then(
  (code) => {
    removeTempDirs();
    process.exitCode = code;
  },
  (err) => {
    killAll();
    removeTempDirs();
    // Expected failures (a system that does not start, wrk failing) are plain Errors: their message
    // says it all. Anything else is a harness bug: show the stack.
    const plain = err instanceof Error && (err.constructor === Error || err instanceof BenchError);
    log(`bench: FAILED: ${plain ? err.message : (err?.stack ?? err)}`);
    process.exitCode = 1;
  },
);
