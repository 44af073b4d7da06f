// The NATS JetStream scenarios (issue 10), self-contained: they start their own nats-server,
// gateways and sink, and drive them with a fetch load generator in this process.
//
//   ingest-nats: one gateway on single-node JetStream vs one on SQLite, same load: accepted
//                events/s, and the ratio (target: NATS >= 0.5x SQLite).
//   scale-out:   one replica vs two on the same stream, the same offered load (a fixed rate,
//                `--rate`, default 1,500 events/s), delivering to one sink: delivered events
//                per CPU-second of the gateway processes (this machine has 2 cores, so raw
//                throughput cannot show the gain); target: two keep >= 0.9x.
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { positiveInt, seconds } from "./args.js";
import { processCpuSeconds, round1 } from "./cpu.js";

const BENCH = dirname(dirname(fileURLToPath(import.meta.url)));
const HERALD = join(BENCH, "..", "gateway", "bin", "herald.js");
export const NATS_SCENARIOS = ["ingest-nats", "scale-out"];

/** The scenario named by `--scenario` in `argv`, if it is one of these. */
export function natsScenarioOf(argv) {
  const i = argv.indexOf("--scenario");
  const name = i >= 0 ? argv[i + 1] : undefined;
  return NATS_SCENARIOS.includes(name) ? name : undefined;
}

const children = new Set();
process.once("exit", () => {
  for (const child of children) child.kill("SIGKILL");
});

function spawnReady(cmd, args, pattern, stream = "stdout") {
  const child = spawn(cmd, args, { stdio: ["ignore", "pipe", "pipe"] });
  children.add(child);
  child.once("exit", () => children.delete(child));
  return new Promise((resolve, reject) => {
    child.once("exit", (code) => reject(new Error(`${cmd} exited early with ${code}`)));
    createInterface({ input: child[stream] }).on("line", (line) => {
      const m = pattern.exec(line);
      if (m) resolve({ child, match: m });
    });
    child[stream === "stdout" ? "stderr" : "stdout"].resume();
  });
}

async function freePort() {
  const server = createServer();
  await new Promise((ok) => server.listen(0, "127.0.0.1", ok));
  const { port } = server.address();
  await new Promise((ok) => server.close(ok));
  return port;
}

async function startNats(dir) {
  const port = await freePort();
  const { child } = await spawnReady(
    "nats-server",
    ["-js", "-a", "127.0.0.1", "-p", String(port), "-sd", join(dir, "nats")],
    /Server is ready/,
    "stderr",
  );
  return { url: `nats://127.0.0.1:${port}`, child };
}

/** A sink that counts deliveries (in this process: its CPU is not the gateways'). */
async function startSink() {
  let count = 0;
  const server = createServer((req, res) => {
    req.resume();
    req.on("end", () => {
      count++;
      res.writeHead(204).end();
    });
  });
  await new Promise((ok) => server.listen(0, "127.0.0.1", ok));
  return { url: `http://127.0.0.1:${server.address().port}`, count: () => count, server };
}

async function startGateway(dir, name, store, sinkUrl) {
  const file = join(dir, `${name}.yaml`);
  writeFileSync(
    file,
    [`store: ${store}`, "subscriptions:", "  - id: all", `    sink: ${sinkUrl}/all`].join("\n"),
  );
  const { child, match } = await spawnReady(
    process.execPath,
    [HERALD, "serve", "--config", file, "--no-auth", "--port", "0"],
    /^herald listening on (http:\/\/\S+)$/,
  );
  return { child, url: match[1] };
}

/** Posts single binary-mode events from `connections` loops, round robin over `urls`. */
async function load(urls, durationMs, connections, prefix) {
  let accepted = 0;
  let refused = 0;
  let n = 0;
  const until = Date.now() + durationMs;
  await Promise.all(
    Array.from({ length: connections }, async () => {
      while (Date.now() < until) {
        const id = `${prefix}-${n}`;
        // Strict round robin: each request goes to the next gateway in turn.
        const url = urls[n++ % urls.length];
        const res = await fetch(`${url}/events`, {
          method: "POST",
          headers: {
            "ce-specversion": "1.0",
            "ce-id": id,
            "ce-source": "/bench",
            "ce-type": "com.example.bench",
            "content-type": "application/json",
          },
          body: '{"n":1}',
        }).catch(() => undefined);
        await res?.arrayBuffer();
        if (res?.status === 202) accepted++;
        else refused++;
      }
    }),
  );
  return { accepted, refused };
}

/**
 * Posts single binary-mode events at a fixed rate (open loop: a slow answer does not delay the
 * next send), round robin over `urls`, with at most `maxInFlight` unanswered.
 */
async function paced(urls, durationMs, ratePerSecond, prefix, maxInFlight = 512) {
  let accepted = 0;
  let refused = 0;
  let skipped = 0;
  let sent = 0;
  let inFlight = 0;
  const pending = new Set();
  const start = performance.now();
  const send = (n) => {
    inFlight++;
    const done = fetch(`${urls[n % urls.length]}/events`, {
      method: "POST",
      headers: {
        "ce-specversion": "1.0",
        "ce-id": `${prefix}-${n}`,
        "ce-source": "/bench",
        "ce-type": "com.example.bench",
        "content-type": "application/json",
      },
      body: '{"n":1}',
    })
      .then(async (res) => {
        await res.arrayBuffer();
        if (res.status === 202) accepted++;
        else refused++;
      })
      .catch(() => {
        refused++;
      })
      .finally(() => {
        inFlight--;
        pending.delete(done);
      });
    pending.add(done);
  };
  for (;;) {
    const elapsed = performance.now() - start;
    if (elapsed >= durationMs) break;
    const due = Math.floor((elapsed * ratePerSecond) / 1000);
    while (sent < due) {
      if (inFlight < maxInFlight) send(sent);
      else skipped++;
      sent++;
    }
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  await Promise.all(pending);
  return { accepted, refused, skipped };
}

const cpuOf = (gateways) =>
  gateways.reduce((sum, g) => sum + (processCpuSeconds(g.child.pid) ?? 0), 0);

async function settle(sink, target, timeoutMs) {
  const until = Date.now() + timeoutMs;
  while (sink.count() < target && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
}

/** The median of a non-empty list (the mean of the middle two for an even count). */
function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  const m = sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
  return Math.round(m * 100) / 100;
}

/**
 * One scale-out configuration: `replicas` gateways on a fresh stream, warmed up flat out for
 * `warmupMs` (every warm-up event delivered before the window opens), then `rate` events/s for
 * `durationMs`: delivered events per CPU-second of the gateway processes.
 */
async function measureReplicas(o) {
  const { replicas, stream, rate, warmupMs, durationMs, connections, dir, sink, natsStore } = o;
  const gateways = [];
  try {
    for (let i = 0; i < replicas; i++) {
      gateways.push(await startGateway(dir, `${stream}-${i}`, natsStore(stream), sink.url));
    }
    const urls = gateways.map((g) => g.url);
    const before = sink.count();
    const warm = await load(urls, warmupMs, connections, `${stream}-warm`);
    // Every warm-up event delivered before the window opens, so none is counted in it.
    await settle(sink, before + warm.accepted, 30_000);
    const cpu0 = cpuOf(gateways);
    const delivered0 = sink.count();
    const { accepted, refused, skipped } = await paced(urls, durationMs, rate, stream);
    await settle(sink, delivered0 + accepted, 30_000);
    const delivered = sink.count() - delivered0;
    const cpu = cpuOf(gateways) - cpu0;
    return {
      offeredPerSecond: rate,
      accepted,
      refused,
      skipped,
      delivered,
      cpuSeconds: round1(cpu),
      perCpuSecond: Math.round(delivered / cpu),
    };
  } finally {
    // Gone before the next configuration starts, so it has the machine to itself.
    await Promise.all(gateways.map((g) => stopped(g.child)));
  }
}

/** SIGTERM, then SIGKILL after 10 s; resolves once the process has exited. */
function stopped(child) {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const kill = setTimeout(() => child.kill("SIGKILL"), 10_000);
    child.once("exit", () => {
      clearTimeout(kill);
      resolve();
    });
    child.kill("SIGTERM");
  });
}

/**
 * Runs `ingest-nats` or `scale-out`; prints a table and writes bench/results/<scenario>.json.
 *
 * @param {string} scenario
 * @param {string[]} argv
 */
export async function runNatsScenario(scenario, argv) {
  const quick = argv.includes("--quick");
  const durationMs = quick ? 3_000 : 10_000;
  const connections = 32;
  const rateAt = argv.indexOf("--rate");
  const rate = rateAt >= 0 ? Number(argv[rateAt + 1]) : 1_500;
  const option = (name) => {
    const at = argv.indexOf(name);
    return at >= 0 ? (argv[at + 1] ?? "") : undefined;
  };
  // Long enough for V8 to optimise the hot paths: one replica at 250 events/s spent ~1,480 µs of
  // CPU per event after a 1 s warm-up and ~930 µs after 40 s; each replica of two sees half the
  // events, so a short warm-up charges the second one its JIT work again (see bench/README.md).
  const warmupMs = seconds("--warmup", option("--warmup") ?? (quick ? "2s" : "15s")) * 1000;
  const roundCount = positiveInt("--rounds", option("--rounds") ?? (quick ? "1" : "2"));
  const dir = mkdtempSync(join(tmpdir(), "herald-bench-nats-"));
  const nats = await startNats(dir);
  const sink = await startSink();
  const log = (line) => process.stderr.write(`${line}\n`);
  const natsStore = (stream) => `{ kind: nats, url: ${nats.url}, stream: ${stream} }`;
  let result;
  try {
    if (scenario === "ingest-nats") {
      const rows = {};
      for (const [system, store] of [
        ["sqlite", `{ kind: sqlite, path: ${join(dir, "sqlite", "h.db")} }`],
        ["nats", natsStore("ingest")],
      ]) {
        mkdirSync(join(dir, "sqlite"), { recursive: true });
        const gw = await startGateway(dir, system, store, sink.url);
        await load([gw.url], warmupMs, connections, `${system}-warm`);
        const { accepted, refused } = await load([gw.url], durationMs, connections, system);
        rows[system] = { eventsPerSecond: Math.round(accepted / (durationMs / 1000)), refused };
        log(`ingest-nats: ${system}: ${rows[system].eventsPerSecond} events/s accepted`);
        await stopped(gw.child);
      }
      const ratio =
        Math.round((rows.nats.eventsPerSecond / rows.sqlite.eventsPerSecond) * 100) / 100;
      result = { scenario, rows, ratio, target: 0.5, met: ratio >= 0.5 };
      log(`ingest-nats: NATS/SQLite = ${ratio} (target >= 0.5)`);
    } else {
      const rounds = [];
      for (let round = 0; round < roundCount; round++) {
        // Alternate which configuration runs first, so neither always meets the other's leftovers.
        const order = round % 2 === 0 ? [1, 2] : [2, 1];
        const rows = {};
        for (const replicas of order) {
          rows[replicas] = await measureReplicas({
            replicas,
            stream: `scale${replicas}r${round}`,
            rate,
            warmupMs,
            durationMs,
            connections,
            dir,
            sink,
            natsStore,
          });
          const row = rows[replicas];
          log(
            `scale-out: round ${round + 1}: ${replicas} replica(s) at ${rate}/s offered: ${row.accepted} accepted, ${row.delivered} delivered, ${row.cpuSeconds} CPU-s, ${row.perCpuSecond} per CPU-s`,
          );
        }
        const ratio = Math.round((rows[2].perCpuSecond / rows[1].perCpuSecond) * 100) / 100;
        log(`scale-out: round ${round + 1}: two/one = ${ratio}`);
        rounds.push({ order, rows, ratio });
      }
      const ratios = rounds.map((r) => r.ratio);
      const ratio = median(ratios);
      result = {
        scenario,
        settings: { rate, warmupS: warmupMs / 1000, durationS: durationMs / 1000, connections },
        // Medians over rounds of each configuration's efficiency (the ratio is the median of
        // the per-round ratios, which can differ slightly from the ratio of these).
        rows: {
          1: { perCpuSecond: median(rounds.map((r) => r.rows[1].perCpuSecond)) },
          2: { perCpuSecond: median(rounds.map((r) => r.rows[2].perCpuSecond)) },
        },
        ratio,
        range: [Math.min(...ratios), Math.max(...ratios)],
        target: 0.9,
        met: ratio >= 0.9,
        rounds,
      };
      log(
        `scale-out: two replicas keep ${ratio}x the per-CPU-second efficiency of one (rounds ${Math.min(...ratios)}-${Math.max(...ratios)}; target >= 0.9)`,
      );
    }
  } finally {
    sink.server.close();
    nats.child.kill("SIGTERM");
    for (const child of children) child.kill("SIGKILL");
    rmSync(dir, { recursive: true, force: true });
  }
  // A smoke run never replaces the recorded numbers of a full one (see writeResults in run.js).
  const out = join(BENCH, "results", `${scenario}${quick ? ".quick" : ""}.json`);
  writeFileSync(
    out,
    `${JSON.stringify({ ...result, quick, at: new Date().toISOString() }, null, 2)}\n`,
  );
  log(`bench: wrote ${out}`);
  return 0;
}
