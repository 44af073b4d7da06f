// The e2e-latency scenario's measurement: Herald driven at a constant rate by bench/load.js, and for
// every event the time from its send (load.js) to its receipt at the sink (sink.js --record). Both
// stamp with process.hrtime (CLOCK_MONOTONIC, one clock for the whole machine), so the difference
// is the event's ingest -> sink latency: Herald's 202 path, its store, its dispatcher and the
// delivery. run.js finds the rate first (half of what Herald sustained in a short wrk run).
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { runLoad } from "./load.js";
import { median, spread } from "./report.js";
import { readCount, readReceipts, waitUntilSettled } from "./sink-client.js";

/** The fraction of the measured maximum rate the constant-rate load runs at (issue 5: half). */
export const RATE_FRACTION = 0.5;
/** Requests the constant-rate load keeps in flight at most (more wait in its queue, timed). */
export const PACED_CONNECTIONS = 32;

/**
 * Percentiles by nearest rank over the values (µs); undefined fields when there are none.
 * @param {number[]} values
 */
export function percentiles(values) {
  const xs = [...values].sort((a, b) => a - b);
  const at = (/** @type {number} */ p) =>
    xs.length === 0 ? undefined : xs[Math.min(xs.length - 1, Math.ceil(p * xs.length) - 1)];
  return {
    count: xs.length,
    p50: at(0.5),
    p90: at(0.9),
    p99: at(0.99),
    p999: at(0.999),
    max: xs.length === 0 ? undefined : xs[xs.length - 1],
    mean: xs.length === 0 ? undefined : Math.round(xs.reduce((a, b) => a + b, 0) / xs.length),
  };
}

/**
 * One constant-rate window against a running Herald and its recording sink.
 * @param {object} o
 * @param {string} o.heraldUrl
 * @param {string} o.sinkUrl     a sink started with --record
 * @param {number} o.rate        events/s
 * @param {number} o.durationS
 * @param {number | undefined} o.core   where load.js runs (the sink's core)
 * @param {string} o.dir         a temporary directory for load.js's send times
 * @param {string} o.type
 * @param {string} o.nonce
 */
export async function measureLatency({
  heraldUrl,
  sinkUrl,
  rate,
  durationS,
  core,
  dir,
  type,
  nonce,
}) {
  const before = await readCount(sinkUrl);
  const out = join(dir, `${nonce}-sends.json`);
  const load = await runLoad({
    url: `${heraldUrl}/events`,
    mode: "paced",
    nonce,
    type,
    core,
    connections: PACED_CONNECTIONS,
    rate,
    durationS,
    out,
  });
  // Everything Herald accepted should arrive; wait for it (bounded) before reading the receipts.
  const settled = await waitUntilSettled(sinkUrl, {
    expected: before.deliveries + load.ok,
    maxMs: 30_000,
  });
  const { sendUs, schedUs } = /** @type {{ sendUs: number[], schedUs: number[] }} */ (
    JSON.parse(readFileSync(out, "utf8"))
  );
  const receipts = await readReceipts(sinkUrl, `${nonce}-`);
  /** @type {Map<string, number>} */
  const received = new Map();
  receipts.ids.forEach((id, i) => {
    received.set(id, /** @type {number} */ (receipts.us[i]));
  });
  const fromSend = [];
  const fromSchedule = [];
  let missing = 0;
  for (let k = 0; k < sendUs.length; k++) {
    const at = received.get(`${nonce}-${k}`);
    if (at === undefined) {
      missing++;
      continue;
    }
    fromSend.push(at - (sendUs[k] ?? 0));
    fromSchedule.push(at - (schedUs[k] ?? 0));
  }
  return {
    rate,
    load,
    latencyUs: percentiles(fromSend),
    fromScheduleUs: percentiles(fromSchedule),
    received: fromSend.length,
    // Sent and never received; the load's own counts say whether Herald had accepted them.
    missing,
    drainTimedOut: settled.timedOut,
    /** For pooling over rounds (not written to the JSON). */
    samples: fromSend,
  };
}

/**
 * Summary over rounds: each percentile's median and min-max over the rounds, and the percentiles
 * of all rounds' events pooled.
 * @param {Array<Awaited<ReturnType<typeof measureLatency>> & { maxRate: number }>} rounds
 */
export function summarizeLatency(rounds) {
  /** @type {Record<string, { median: number | undefined, min: number | undefined, max: number | undefined }>} */
  const perRound = {};
  for (const key of /** @type {const} */ (["p50", "p90", "p99", "p999", "max"])) {
    perRound[key] = spread(rounds.map((r) => r.latencyUs[key]));
  }
  return {
    maxRate: spread(rounds.map((r) => r.maxRate)),
    rate: spread(rounds.map((r) => r.rate)),
    achievedRate: spread(rounds.map((r) => r.load.achievedRate)),
    latencyUs: perRound,
    pooledUs: percentiles(rounds.flatMap((r) => r.samples)),
    lagP99Us: median(rounds.map((r) => r.load.lagUs?.p99)),
    totals: {
      sent: rounds.reduce((a, r) => a + r.load.sent, 0),
      non2xx: rounds.reduce((a, r) => a + r.load.status4xx + r.load.status5xx, 0),
      errors: rounds.reduce((a, r) => a + r.load.errors, 0),
      missing: rounds.reduce((a, r) => a + r.missing, 0),
    },
  };
}

/**
 * Warnings that make a round's latencies untrustworthy.
 * @param {Awaited<ReturnType<typeof measureLatency>>} r
 * @param {number} durationS
 */
export function latencyWarnings(r, durationS) {
  const w = [];
  const rejected = r.load.status4xx + r.load.status5xx;
  if (rejected > 0) w.push(`${rejected} requests answered with status >= 400`);
  if (r.load.errors > 0) w.push(`${r.load.errors} socket errors or timeouts`);
  if (r.missing > 0) w.push(`${r.missing} events sent never reached the sink`);
  if (r.drainTimedOut) w.push("deliveries still arriving when the wait gave up");
  // The generator must keep its schedule, or the rate was lower than claimed.
  if ((r.load.achievedRate ?? 0) < 0.95 * r.rate) {
    w.push(`the load reached only ${r.load.achievedRate}/s of the ${r.rate}/s scheduled`);
  }
  const lag = r.load.lagUs?.p99 ?? 0;
  if (lag > 5_000) {
    w.push(
      `sends were late against the schedule (p99 ${(lag / 1000).toFixed(1)} ms): the load core was busy; latency from the schedule is in the JSON`,
    );
  }
  if (r.load.elapsedS > durationS * 1.2 + 1) {
    w.push(
      `the constant-rate window took ${r.load.elapsedS.toFixed(1)} s instead of ${durationS} s`,
    );
  }
  return w;
}

/** @param {number | undefined} us */
export const fmtMs = (us) => (us === undefined ? "-" : `${(us / 1000).toFixed(2)} ms`);
