// The backlog scenario, one round: Herald on SQLite with its sink down (nothing listening on the
// sink's port: connection refused, as when a sink's host is down), `events` accepted in batches,
// Herald's RSS sampled all along, then the sink started on that port: how fast the backlog drains
// and whether every event arrives (distinct ids counted at the sink).
import { readFileSync } from "node:fs";
import { createServer } from "node:net";
import { processCpuSeconds, round1 } from "./cpu.js";
import { runLoad } from "./load.js";
import { assertStopped, startServer } from "./processes.js";
import { median, spread } from "./report.js";
import { readCount } from "./sink-client.js";

/** Issue 5, "Performance": backlog peak RSS <= 200 MB. */
export const RSS_TARGET_MB = 200;
/** Events per ingest request: Herald's default `limits.maxBatchEvents`, written out in the config. */
export const BATCH_EVENTS = 100;
/** Ingest requests in flight (closed loop): enough to keep Herald's group commit fed. */
export const BATCH_CONNECTIONS = 4;
/**
 * Every subscription's delivery settings. Connection refused is retried (DESIGN.md "Delivery
 * semantics"): 100 retries (the most Herald allows) so no event runs out of attempts while the
 * sink is down, and backoff capped at 1 s so a job's next attempt is at most ~1 s away when the
 * sink returns: the drain then starts promptly and measures delivery, not the backoff.
 */
export const BACKLOG_DELIVERY = { retry: 100, backoffDelay: "100ms", backoffMax: "1s" };
export const BACKLOG_LIMITS = { maxBatchEvents: BATCH_EVENTS };
/** How often Herald's VmRSS is read. */
const SAMPLE_MS = 100;
/** The drain gives up after this long without a new event at the sink. */
const STALL_MS = 15_000;

const sleep = (/** @type {number} */ ms) => new Promise((r) => setTimeout(r, ms));
const nowUs = () => Number(process.hrtime.bigint() / 1000n);

/** A port nothing listens on right now (bound to 127.0.0.1:0, then closed), for the sink. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/**
 * VmRSS and VmHWM (peak RSS, kept by the kernel) of a process, in MB; undefined once it is gone.
 * @param {number} pid
 */
export function memoryMb(pid) {
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const kb = (/** @type {string} */ field) =>
      Number(new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? Number.NaN);
    return { rss: round1(kb("VmRSS") / 1024), hwm: round1(kb("VmHWM") / 1024) };
  } catch {
    return undefined;
  }
}

/**
 * Samples a process's RSS every SAMPLE_MS, labelled with the current phase.
 * @param {number} pid
 * @param {number} t0Us  when the round started (monotonic µs)
 */
function rssSampler(pid, t0Us) {
  let phase = "start";
  /** @type {Record<string, number>} */
  const peak = {};
  /** @type {Array<[number, number]>} */
  const timeline = [];
  const sample = () => {
    const m = memoryMb(pid);
    if (m === undefined || Number.isNaN(m.rss)) return;
    peak[phase] = Math.max(peak[phase] ?? 0, m.rss);
    const t = round1((nowUs() - t0Us) / 1e6);
    // The JSON keeps one sample per half second (the peaks above use every sample).
    const last = timeline[timeline.length - 1];
    if (last === undefined || t - last[0] >= 0.5) timeline.push([t, m.rss]);
  };
  sample();
  const timer = setInterval(sample, SAMPLE_MS);
  return {
    /** @param {string} next */
    phase(next) {
      sample();
      phase = next;
    },
    stop() {
      sample();
      clearInterval(timer);
      return { peakMb: peak, timeline };
    },
  };
}

/**
 * One round.
 * @param {object} o
 * @param {(sinkUrl: string) => { command: string, args: string[], env?: NodeJS.ProcessEnv, cwd?: string, ready: RegExp }} o.herald
 *   Herald's start spec for a sink URL (writes its config)
 * @param {string} o.sinkScript   bench/sink.js
 * @param {number | undefined} o.sutCore
 * @param {number | undefined} o.loadCore
 * @param {number} o.events
 * @param {number} o.holdS
 * @param {string} o.type
 * @param {string} o.nonce
 * @param {(line: string) => void} o.log
 */
export async function runBacklogRound(o) {
  const t0Us = nowUs();
  const port = await freePort();
  const sinkUrl = `http://127.0.0.1:${port}`;
  const sut = await startServer({ name: "herald", core: o.sutCore, ...o.herald(sinkUrl) });
  const rss = rssSampler(sut.pid, t0Us);
  /** @type {import("./processes.js").Server | undefined} */
  let sink;
  /** @type {string[]} */
  const notes = [];
  try {
    // 1. Ingest with the sink down: every accepted event waits in the store.
    rss.phase("ingest");
    const load = await runLoad({
      url: `${sut.url}/events`,
      mode: "batch",
      nonce: o.nonce,
      type: o.type,
      core: o.loadCore,
      connections: BATCH_CONNECTIONS,
      events: o.events,
      batch: BATCH_EVENTS,
    });
    if (!sut.alive()) throw new Error(`herald exited during ingest\n${sut.output()}`);
    const batchesOk = load.ok;
    const accepted = Math.min(o.events, batchesOk * BATCH_EVENTS);
    o.log(
      `bench: backlog: ${accepted.toLocaleString("en-US")} events accepted in ${load.elapsedS.toFixed(1)} s ` +
        `(${load.eventsPerSec}/s), sink down; holding ${o.holdS} s`,
    );

    // 2. Hold: the sink stays down; Herald keeps retrying (connection refused) with backoff.
    rss.phase("hold");
    const cpu0 = processCpuSeconds(sut.pid);
    const hold0 = performance.now();
    await sleep(o.holdS * 1000);
    const holdCpuPct = pct(cpu0, processCpuSeconds(sut.pid), (performance.now() - hold0) / 1000);
    if (!sut.alive()) throw new Error(`herald exited while the sink was down\n${sut.output()}`);

    // 3. The sink comes up on its port; the backlog drains.
    rss.phase("drain");
    sink = await startServer({
      name: "sink",
      command: process.execPath,
      args: [o.sinkScript, "--port", String(port), "--record"],
      core: o.loadCore,
      ready: /^sink listening on (http:\/\/[^\s/]+)/,
    });
    const upUs = nowUs();
    const drainMaxMs = Math.max(60_000, o.events * 2);
    const cpuDrain0 = processCpuSeconds(sut.pid);
    let count = await readCount(sinkUrl);
    let lastUnique = 0;
    let lastProgress = performance.now();
    let timedOut = false;
    const drainStart = performance.now();
    while ((count.unique ?? 0) < accepted) {
      const now = performance.now();
      if (now - drainStart > drainMaxMs || now - lastProgress > STALL_MS) {
        timedOut = true;
        break;
      }
      await sleep(200);
      count = await readCount(sinkUrl);
      if ((count.unique ?? 0) > lastUnique) {
        lastUnique = count.unique ?? 0;
        lastProgress = performance.now();
      }
    }
    const drainCpuPct = pct(
      cpuDrain0,
      processCpuSeconds(sut.pid),
      (performance.now() - drainStart) / 1000,
    );
    const memory = memoryMb(sut.pid);
    const { peakMb, timeline } = rss.stop();
    if (!sut.alive()) throw new Error(`herald exited during the drain\n${sut.output()}`);
    const unique = count.unique ?? 0;
    const drainS = ((count.lastNewUs ?? upUs) - upUs) / 1e6;
    const firstS = count.firstUs ? (count.firstUs - upUs) / 1e6 : undefined;
    const sampledPeakMb = Math.max(...Object.values(peakMb));
    const peak = Math.max(sampledPeakMb, memory?.hwm ?? 0);
    if (load.status4xx + load.status5xx + load.errors > 0) {
      notes.push(
        `ingest: ${load.status4xx + load.status5xx} batches rejected, ${load.errors} socket errors (statuses ${JSON.stringify(load.statuses)})`,
      );
    }
    if (load.retried503 > 0)
      notes.push(`ingest: ${load.retried503} batches answered 503 and retried`);
    if (timedOut) {
      notes.push(
        `drain gave up after ${round1((performance.now() - drainStart) / 1000)} s with ${unique} of ${accepted} events at the sink`,
      );
    }
    if (unique < accepted)
      notes.push(`${accepted - unique} accepted events never reached the sink`);
    return {
      ingest: {
        events: o.events,
        accepted,
        elapsedS: round1(load.elapsedS),
        eventsPerSec: load.eventsPerSec,
        batches: load.batches,
        retried503: load.retried503,
        statuses: load.statuses,
      },
      hold: { seconds: o.holdS, heraldCpuPct: holdCpuPct },
      rssMb: {
        peak,
        sampledPeak: sampledPeakMb,
        vmHWM: memory?.hwm,
        byPhase: peakMb,
        atEnd: memory?.rss,
        timeline,
      },
      drain: {
        eventsPerSec: drainS > 0 ? Math.round(unique / drainS) : undefined,
        // From the first delivery on: the rate without the wait for the first retry.
        fromFirstPerSec:
          firstS !== undefined && drainS > firstS
            ? Math.round(unique / (drainS - firstS))
            : undefined,
        seconds: round1(drainS),
        firstDeliveryS: firstS === undefined ? undefined : Math.round(firstS * 1000) / 1000,
        heraldCpuPct: drainCpuPct,
        timedOut,
      },
      sink: {
        unique,
        deliveries: count.deliveries,
        events: count.events,
        duplicates: count.duplicates,
        lost: accepted - unique,
      },
      notes,
    };
  } finally {
    rss.stop();
    const code = await sut.stop();
    if (code !== 0) notes.push(`herald exited with code ${code} on SIGTERM`);
    if (sink !== undefined) await sink.stop();
    await assertStopped(sut);
    if (sink !== undefined) await assertStopped(sink);
  }
}

/**
 * @param {number | undefined} before
 * @param {number | undefined} after
 * @param {number} seconds
 */
function pct(before, after, seconds) {
  return before === undefined || after === undefined
    ? undefined
    : round1((100 * (after - before)) / seconds);
}

/**
 * Summary over rounds, and the RSS target checked against the highest peak of any round (memory is
 * a bound, not a rate: the worst round is the one that counts).
 * @param {Array<Awaited<ReturnType<typeof runBacklogRound>>>} rounds
 */
export function summarizeBacklog(rounds) {
  const peaks = rounds.map((r) => r.rssMb.peak);
  const worst = Math.max(...peaks);
  return {
    rssPeakMb: spread(peaks, 1),
    ingestPerSec: spread(rounds.map((r) => r.ingest.eventsPerSec)),
    drainPerSec: spread(rounds.map((r) => r.drain.eventsPerSec)),
    drainFromFirstPerSec: spread(rounds.map((r) => r.drain.fromFirstPerSec)),
    drainS: spread(
      rounds.map((r) => r.drain.seconds),
      1,
    ),
    firstDeliveryS: median(rounds.map((r) => r.drain.firstDeliveryS)),
    holdCpuPct: median(rounds.map((r) => r.hold.heraldCpuPct)),
    totals: {
      accepted: rounds.reduce((a, r) => a + r.ingest.accepted, 0),
      unique: rounds.reduce((a, r) => a + r.sink.unique, 0),
      lost: rounds.reduce((a, r) => a + r.sink.lost, 0),
      duplicates: rounds.reduce((a, r) => a + (r.sink.duplicates ?? 0), 0),
    },
    target: {
      metric: "peak RSS MB (highest round)",
      max: RSS_TARGET_MB,
      actual: worst,
      met: worst <= RSS_TARGET_MB,
      roundsMet: peaks.filter((x) => x <= RSS_TARGET_MB).length,
      rounds: peaks.length,
    },
  };
}
