// Load generator for the scenarios wrk cannot drive: a constant rate (e2e-latency; wrk2 is not a
// Debian package) and a fixed number of events in batches (backlog). Runs as its own process, pinned
// next to the sink like wrk, over keep-alive connections to 127.0.0.1.
//
//   node bench/load.js --url U --nonce N --type T --mode paced --rate R --duration S
//                      [--connections 32] --out FILE
//   node bench/load.js --url U --nonce N --type T --mode batch --events 100000 --batch 100
//                      [--connections 4]
//
// paced: a fixed schedule, event k due at start + k / rate (open loop: a slow answer does not delay
//   the next send; requests beyond --connections in flight wait in the agent's queue, and that wait
//   counts as latency). Each event is the wrk script's binary-mode request with ce-id <nonce>-<k>.
//   Its send time (when the request is issued) and its scheduled time, in µs on CLOCK_MONOTONIC
//   (process.hrtime, the sink's clock), go to --out as {"sendUs": [...], "schedUs": [...]}.
// batch: --events structured events in `application/cloudevents-batch+json` requests of --batch
//   events, --connections requests in flight (closed loop); ids <nonce>-<i>. A 503 (store busy or
//   full) is retried after its Retry-After (at most 1 s) up to 20 times and counted.
//
// Prints one line `LOAD_JSON {...}` with the counts: sent, answered by status class, errors,
// unanswered, elapsed time and, for paced, how late the sends were against the schedule.
import { writeFileSync } from "node:fs";
import { Agent, request } from "node:http";

const args = process.argv.slice(2);
/**
 * @param {string} name
 * @param {string} [fallback]
 */
const option = (name, fallback) => {
  const i = args.indexOf(name);
  const value = i >= 0 ? args[i + 1] : fallback;
  if (value === undefined) throw new Error(`load.js: ${name} is required`);
  return value;
};

const url = new URL(option("--url"));
const nonce = option("--nonce");
const type = option("--type", "com.example.bench.42");
const source = option("--source", "/bench/load");
const mode = option("--mode");
const connections = Number(option("--connections", mode === "batch" ? "4" : "32"));
/** Per request; well above any latency we expect, as with wrk. */
const TIMEOUT_MS = 10_000;
const DATA = { orderId: "A-1001", customer: "c-42", amount: 42.5, currency: "EUR", items: 3 };
const BODY = JSON.stringify(DATA);

const agent = new Agent({ keepAlive: true, maxSockets: connections });
const nowUs = () => Number(process.hrtime.bigint() / 1000n);
const sleep = (/** @type {number} */ ms) => new Promise((r) => setTimeout(r, ms));

const counts = { sent: 0, ok: 0, status4xx: 0, status5xx: 0, errors: 0, retried503: 0 };
/** @type {Record<string, number>} */
const statuses = {};

/**
 * One POST; resolves with the status (0 on a socket error or timeout).
 * @param {Record<string, string>} headers
 * @param {string} body
 * @returns {Promise<{ status: number, retryAfter: string | undefined }>}
 */
function post(headers, body) {
  return new Promise((resolve) => {
    const req = request(
      {
        host: url.hostname,
        port: url.port,
        path: url.pathname,
        method: "POST",
        agent,
        headers: { ...headers, "content-length": Buffer.byteLength(body) },
      },
      (res) => {
        res.resume();
        res.on("end", () => {
          const status = res.statusCode ?? 0;
          const retryAfter = res.headers["retry-after"];
          resolve({ status, retryAfter: typeof retryAfter === "string" ? retryAfter : undefined });
        });
      },
    );
    req.setTimeout(TIMEOUT_MS, () => req.destroy(new Error("timeout")));
    req.on("error", () => resolve({ status: 0, retryAfter: undefined }));
    req.end(body);
  });
}

/** @param {number} status */
function count(status) {
  statuses[status] = (statuses[status] ?? 0) + 1;
  if (status >= 200 && status < 300) counts.ok++;
  else if (status >= 500) counts.status5xx++;
  else if (status >= 400) counts.status4xx++;
  else counts.errors++;
}

async function paced() {
  const rate = Number(option("--rate"));
  const durationS = Number(option("--duration"));
  const out = option("--out");
  const total = Math.round(rate * durationS);
  const intervalUs = 1e6 / rate;
  const sendUs = new Array(total).fill(0);
  const schedUs = new Array(total).fill(0);
  /** @type {Promise<unknown>[]} */
  const pending = [];
  const start = nowUs() + 20_000;
  let k = 0;
  let maxLagUs = 0;
  while (k < total) {
    const now = nowUs();
    // Everything due by now goes out in this tick (a late timer sends a small burst, never skips).
    while (k < total && start + k * intervalUs <= now) {
      const i = k++;
      schedUs[i] = Math.round(start + i * intervalUs);
      const headers = {
        "ce-specversion": "1.0",
        "ce-id": `${nonce}-${i}`,
        "ce-source": source,
        "ce-type": type,
        "content-type": "application/json",
      };
      counts.sent++;
      sendUs[i] = nowUs();
      maxLagUs = Math.max(maxLagUs, sendUs[i] - schedUs[i]);
      pending.push(post(headers, BODY).then((r) => count(r.status)));
    }
    if (k < total) {
      const waitMs = Math.floor((start + k * intervalUs - nowUs()) / 1000);
      await sleep(Math.max(0, waitMs));
    }
  }
  const elapsedUs = nowUs() - start;
  await Promise.race([Promise.all(pending), sleep(TIMEOUT_MS + 1_000)]);
  writeFileSync(out, JSON.stringify({ sendUs, schedUs }));
  const lags = sendUs.map((s, i) => s - (schedUs[i] ?? 0)).sort((a, b) => a - b);
  return {
    rate,
    total,
    elapsedS: elapsedUs / 1e6,
    achievedRate: Math.round(total / (elapsedUs / 1e6)),
    lagUs: {
      p50: lags[Math.floor(lags.length * 0.5)] ?? 0,
      p99: lags[Math.floor(lags.length * 0.99)] ?? 0,
      max: maxLagUs,
    },
  };
}

async function batch() {
  const events = Number(option("--events"));
  const size = Number(option("--batch"));
  const batches = Math.ceil(events / size);
  let next = 0;
  const start = nowUs();
  const worker = async () => {
    for (;;) {
      const b = next++;
      if (b >= batches) return;
      const from = b * size;
      const body = JSON.stringify(
        Array.from({ length: Math.min(size, events - from) }, (_, j) => ({
          specversion: "1.0",
          id: `${nonce}-${from + j}`,
          source,
          type,
          datacontenttype: "application/json",
          data: DATA,
        })),
      );
      const headers = { "content-type": "application/cloudevents-batch+json" };
      for (let attempt = 0; ; attempt++) {
        counts.sent++;
        const r = await post(headers, body);
        if (r.status !== 503 || attempt >= 20) {
          count(r.status);
          break;
        }
        counts.retried503++;
        await sleep(Math.min(1_000, 1_000 * (Number(r.retryAfter) || 0.1)));
      }
    }
  };
  await Promise.all(Array.from({ length: connections }, worker));
  const elapsedS = (nowUs() - start) / 1e6;
  return {
    events,
    batchEvents: size,
    batches,
    elapsedS,
    eventsPerSec: Math.round(events / elapsedS),
  };
}

const result = mode === "paced" ? await paced() : mode === "batch" ? await batch() : undefined;
if (result === undefined) throw new Error(`load.js: --mode paced | batch, got "${mode}"`);
agent.destroy();
const answered = counts.ok + counts.status4xx + counts.status5xx;
process.stdout.write(
  `LOAD_JSON ${JSON.stringify({
    mode,
    connections,
    ...result,
    ...counts,
    statuses,
    unanswered: counts.sent - answered - counts.retried503,
  })}\n`,
);
