// Scaling out, end to end: a nats-server with JetStream, two `herald serve` replicas of one
// herald.yaml sharing its stream, events posted to them in turn, each delivered once; then one
// replica is killed (kill -9) and the other goes on taking and delivering events.
// Needs nats-server on PATH (Debian: apt-get install nats-server).
// Run: npm start -w @herald/example-nats-replicas   (after `npm run build` at the repo root)
import { spawn, spawnSync } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { sendEvent } from "@herald/sdk";

const here = dirname(fileURLToPath(import.meta.url));
const herald = join(here, "..", "..", "gateway", "bin", "herald.js");

/** Whether `nats-server` is on PATH. */
export function hasNatsServer() {
  return spawnSync("nats-server", ["--version"], { stdio: "ignore" }).status === 0;
}

/** Resolves once `child` has exited (at once when it already has). */
function exited(child) {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((ok) => child.once("exit", ok));
}

/**
 * `nats-server -js` on a free loopback port (`-p -1`), its streams in `dir`, as README's
 * "Trying it on one machine"; resolves with its URL once it says it is ready.
 */
async function startNats(dir) {
  const nats = spawn("nats-server", ["-js", "-a", "127.0.0.1", "-p", "-1", "-sd", dir], {
    stdio: ["ignore", "ignore", "pipe"],
  });
  const url = await new Promise((resolve, reject) => {
    let port;
    nats.once("error", reject); // ENOENT: not installed
    nats.once("exit", (code) => reject(new Error(`nats-server exited with ${code}`)));
    createInterface({ input: nats.stderr }).on("line", (line) => {
      const m = /Listening for client connections on [\d.]+:(\d+)/.exec(line);
      if (m) port = m[1];
      if (line.includes("Server is ready")) resolve(`nats://127.0.0.1:${port}`);
    });
  });
  return { url, nats };
}

/** One replica: `herald serve` on herald.yaml; resolves with its URL and the child process. */
async function startReplica(env) {
  const gateway = spawn(
    process.execPath,
    [herald, "serve", "--config", "herald.yaml", "--no-auth"],
    {
      cwd: here,
      env: { ...process.env, ...env, HERALD_LOG_LEVEL: "error" },
      stdio: ["ignore", "pipe", "inherit"],
    },
  );
  const url = await new Promise((resolve, reject) => {
    gateway.once("exit", (code) => reject(new Error(`herald exited with ${code}`)));
    createInterface({ input: gateway.stdout }).on("line", (line) => {
      const m = /^herald listening on (\S+)$/.exec(line);
      if (m) resolve(m[1]);
    });
  });
  return { url, gateway };
}

/** The sink: counts each event id it is given; `delivered(n)` resolves once n distinct came. */
function startSink() {
  const counts = new Map();
  const waiters = [];
  const server = createServer((req, res) => {
    req.resume();
    req.on("end", () => {
      const id = req.headers["ce-id"];
      counts.set(id, (counts.get(id) ?? 0) + 1);
      res.writeHead(204).end();
      for (const w of waiters.splice(0)) w();
    });
  });
  const delivered = async (n) => {
    while (counts.size < n) await new Promise((ok) => waiters.push(ok));
  };
  return { server, counts, delivered };
}

const order = (n) => ({
  id: `order-${n}`,
  source: "/orders",
  type: "com.example.order.created",
  data: { orderId: n },
});

/**
 * Runs the example: 10 events posted to replicas a and b in turn, then a is killed and 4 more go
 * to b. Resolves with who accepted what and how often the sink got each event.
 */
export async function runExample() {
  if (!hasNatsServer()) {
    throw new Error("nats-server is not on PATH (Debian: apt-get install nats-server)");
  }
  const dir = await mkdtemp(join(tmpdir(), "herald-nats-replicas-"));
  const sink = startSink();
  await new Promise((ok) => sink.server.listen(0, "127.0.0.1", ok));
  const { url: natsUrl, nats } = await startNats(dir);
  const env = { NATS_URL: natsUrl, SINK_URL: `http://127.0.0.1:${sink.server.address().port}` };
  const children = [nats];
  try {
    const replicas = { a: await startReplica(env), b: await startReplica(env) };
    children.push(replicas.a.gateway, replicas.b.gateway);
    const accepted = { a: [], b: [] };

    // Round robin, as a load balancer in front of them would.
    for (let n = 1; n <= 10; n++) {
      const name = n % 2 === 1 ? "a" : "b";
      await sendEvent(`${replicas[name].url}/events`, order(n));
      accepted[name].push(`order-${n}`);
    }
    await sink.delivered(10);

    // Replica a dies (kill -9: no clean shutdown). b takes every event from now on.
    replicas.a.gateway.kill("SIGKILL");
    await exited(replicas.a.gateway);
    for (let n = 11; n <= 14; n++) {
      await sendEvent(`${replicas.b.url}/events`, order(n));
      accepted.b.push(`order-${n}`);
    }
    await sink.delivered(14);
    return { accepted, counts: Object.fromEntries(sink.counts) };
  } finally {
    for (const child of children.reverse()) {
      child.kill("SIGTERM");
      await exited(child);
    }
    sink.server.closeAllConnections();
    await new Promise((ok) => sink.server.close(ok));
    await rm(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { accepted, counts } = await runExample();
  console.log(`replica a accepted ${accepted.a.join(" ")}, then was killed (kill -9)`);
  console.log(`replica b accepted ${accepted.b.join(" ")}`);
  const times = Object.entries(counts).map(([id, n]) => `${id} x${n}`);
  console.log(`the sink got ${times.join(", ")}`);
}
