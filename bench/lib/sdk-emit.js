// The sdk-emit scenario (issue 7): events per second a producer gets into Herald with @herald/sdk,
// against the cloudevents package's emitter over fetch, in one run: interleaved rounds, each client
// once per round (the first one rotated), each run against a fresh Herald on core 0 with the client
// process (bench/sdk-emit-client.js) on core 1. Herald runs --no-auth with no subscriptions, so
// what it does per event (parse, validate, store) is the same for both clients and the difference
// is the client's.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { assertStopped, liveChildren, pinned, startServer } from "./processes.js";
import { median } from "./report.js";

/** Issue 7: the SDK gets at least 1.5x the events per second of the cloudevents emitter. */
export const SDK_EMIT_TARGET = 1.5;
/** The denominator of every ratio. */
export const BASELINE = "cloudevents";

/**
 * Runs the client once to its end; resolves with its EMIT_JSON record.
 * @param {object} o
 * @param {string} o.script
 * @param {string} o.client
 * @param {string} o.url
 * @param {number} o.warmupS
 * @param {number} o.durationS
 * @param {number} o.concurrency
 * @param {number | undefined} o.core
 * @param {string} o.cwd
 */
function runClient(o) {
  const [command, args] = pinned(o.core, process.execPath, [
    o.script,
    "--client",
    o.client,
    "--url",
    o.url,
    "--warmup",
    String(o.warmupS),
    "--duration",
    String(o.durationS),
    "--concurrency",
    String(o.concurrency),
  ]);
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: o.cwd, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stdout.on("data", (c) => {
      out += c;
    });
    child.stderr.on("data", (c) => {
      err += c;
    });
    child.on("exit", (code) => {
      const line = out.split("\n").find((l) => l.startsWith("EMIT_JSON "));
      if (code !== 0 || line === undefined) {
        reject(new Error(`sdk-emit client ${o.client} exited with ${code}\n${out}\n${err}`));
      } else {
        resolve(JSON.parse(line.slice("EMIT_JSON ".length)));
      }
    });
  });
}

/**
 * @param {object} ctx
 * @param {import("./args.js").Options} ctx.opts
 * @param {string} ctx.heraldBin
 * @param {string} ctx.bench     the bench/ folder
 * @param {string} ctx.root      the repository root
 * @param {number | undefined} ctx.sutCore
 * @param {number | undefined} ctx.loadCore
 * @param {(s: string) => void} ctx.log
 * @returns {Promise<{ rounds: object[], summary: object, notes: string[] }>}
 */
export async function runSdkEmit(ctx) {
  const { opts, log } = ctx;
  const clients = opts.systems;
  const rounds = [];
  /** @type {string[]} */
  const notes = [];
  for (let i = 0; i < opts.rounds; i++) {
    const k = i % clients.length;
    const order = [...clients.slice(k), ...clients.slice(0, k)];
    /** @type {Record<string, any>} */
    const ran = {};
    for (const client of order) {
      if (liveChildren() !== 0) throw new Error("a process of the previous run is still running");
      const dir = mkdtempSync(join(tmpdir(), "herald-bench-emit-"));
      const config = join(dir, "herald.json");
      writeFileSync(
        config,
        JSON.stringify({
          store: {
            kind: opts.store === "sqlite" ? "sqlite" : "memory",
            ...(opts.store === "sqlite" ? { path: join(dir, "herald.db") } : {}),
          },
        }),
      );
      const herald = await startServer({
        name: "herald",
        command: process.execPath,
        args: [
          ctx.heraldBin,
          "serve",
          "--config",
          config,
          "--no-auth",
          "--host",
          "127.0.0.1",
          "--port",
          "0",
        ],
        core: ctx.sutCore,
        cwd: dir,
        env: { ...process.env, NODE_ENV: "production", HERALD_LOG_LEVEL: "warn" },
        ready: /^herald listening on (http:\/\/[^\s/]+)/,
      });
      try {
        ran[client] = await runClient({
          script: join(ctx.bench, "sdk-emit-client.js"),
          client,
          url: `${herald.url}/events`,
          warmupS: opts.warmupS,
          durationS: opts.durationS,
          concurrency: opts.connections,
          core: ctx.loadCore,
          cwd: ctx.root,
        });
      } finally {
        const code = await herald.stop();
        if (code !== 0) notes.push(`round ${i + 1} ${client}: herald exited with ${code}`);
        await assertStopped(herald);
        rmSync(dir, { recursive: true, force: true });
      }
      const r = ran[client];
      if (r.errors > 0)
        notes.push(`round ${i + 1} ${client}: ${r.errors} errors (${r.firstError})`);
      log(
        `bench: round ${i + 1} ${client}: ${r.perSec} events/s, ` +
          `${Math.round((r.cpuS * 1e6) / Math.max(1, r.events))} µs client CPU per event`,
      );
    }
    /** @type {Record<string, { perSec: number, cpu: number }>} */
    const ratios = {};
    const base = ran[BASELINE];
    for (const [client, r] of Object.entries(ran)) {
      if (client === BASELINE || base === undefined || base.perSec === 0 || r.events === 0)
        continue;
      ratios[client] = {
        perSec: r.perSec / base.perSec,
        cpu: base.cpuS / Math.max(1, base.events) / (r.cpuS / r.events),
      };
      log(
        `bench: round ${i + 1}: ${client}/${BASELINE} ${ratios[client].perSec.toFixed(2)}x events/s, ` +
          `${ratios[client].cpu.toFixed(2)}x less client CPU per event`,
      );
    }
    rounds.push({ round: i + 1, order, clients: ran, ratios });
  }
  const of = (/** @type {string} */ c) => rounds.map((r) => r.clients[c]).filter(Boolean);
  /** @type {Record<string, object>} */
  const perClient = {};
  for (const c of clients) {
    const runs = of(c);
    perClient[c] = {
      perSec: median(runs.map((r) => r.perSec)),
      cpuUsPerEvent: median(runs.map((r) => Math.round((r.cpuS * 1e6) / Math.max(1, r.events)))),
      errors: runs.reduce((n, r) => n + r.errors, 0),
    };
  }
  /** @type {Record<string, object>} */
  const ratios = {};
  for (const c of clients) {
    const perRound = rounds.map((r) => r.ratios[c]).filter((x) => x !== undefined);
    if (perRound.length === 0) continue;
    const perSec = perRound.map((x) => x.perSec);
    const m = median(perSec);
    ratios[`${c}/${BASELINE}`] = {
      median: round2(m),
      min: round2(Math.min(...perSec)),
      max: round2(Math.max(...perSec)),
      cpuPerEvent: round2(median(perRound.map((x) => x.cpu))),
      target: SDK_EMIT_TARGET,
      met: m >= SDK_EMIT_TARGET,
    };
  }
  const summary = { clients: perClient, ratios };
  return { rounds, summary, notes };
}

const round2 = (/** @type {number} */ x) => Math.round(x * 100) / 100;
