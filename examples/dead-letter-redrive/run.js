// On failure, end to end: a sink that answers 503, Herald's retries with backoff, the event at the
// dead-letter sink with why it failed; then a subscription without a dead-letter sink, whose event
// is kept as dead, listed and redriven through the admin API once its sink is back.
// Run: npm start -w @herald/example-dead-letter-redrive   (after `npm run build` at the root)
import { execFile, spawn } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { sendEvent } from "@herald/sdk";
import { receive } from "@herald/sdk/receive";

const here = dirname(fileURLToPath(import.meta.url));
const herald = join(here, "..", "..", "gateway", "bin", "herald.js");

/** Starts `herald serve` with `args` in `cwd`; resolves with its URL and the child process. */
async function startHerald(args, { cwd, env = {}, stderr = "inherit" }) {
  const gateway = spawn(process.execPath, [herald, "serve", ...args], {
    cwd,
    env: { ...process.env, ...env, HERALD_LOG_LEVEL: "error" },
    stdio: ["ignore", "pipe", stderr],
  });
  const url = await new Promise((resolve, reject) => {
    gateway.once("exit", (code) => reject(new Error(`herald exited with ${code}`)));
    createInterface({ input: gateway.stdout }).on("line", (line) => {
      const m = /^herald listening on (\S+)$/.exec(line);
      if (m) resolve(m[1]);
    });
  });
  return { url, gateway };
}

async function stop(gateway) {
  gateway.kill("SIGTERM");
  await new Promise((ok) => gateway.once("exit", ok));
}

/** `herald token ARGS...` in `cwd` (where `.herald/` holds the dev issuer); resolves with stdout. */
async function heraldToken(args, cwd) {
  const { stdout } = await promisify(execFile)(process.execPath, [herald, "token", ...args], {
    cwd,
  });
  return stdout.trim();
}

/**
 * The dev issuer, as the README's Quickstart and "Subscriptions API" make it: `herald serve` once
 * without a config creates it in `./.herald/`, `herald token --jwks` prints its public keys (for
 * herald.yaml's `auth.issuers`), `herald token` mints a publisher and an admin token.
 */
async function devIssuer(dir) {
  // The embedded demo (its token and curl hint on stderr are not needed here).
  const { gateway } = await startHerald(["--port", "0"], { cwd: dir, stderr: "ignore" });
  await stop(gateway);
  const jwksFile = join(dir, "dev-jwks.json");
  await writeFile(jwksFile, await heraldToken(["--jwks"], dir));
  return {
    jwksFile,
    publisherToken: await heraldToken(["--sub", "orders"], dir),
    adminToken: await heraldToken(["--sub", "ops", "--scope", "herald:admin"], dir),
  };
}

/**
 * The sink: `/billing` always answers 503; `/shipping` answers 503 until `shipping.up` is set;
 * `/dead-letters` takes what Herald gives up on. Every request is recorded with when it came.
 */
function startSink() {
  const started = performance.now();
  const requests = [];
  const shipping = { up: false };
  const waiters = [];
  const server = createServer((req, res) => {
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", async () => {
      const event = await receive(
        new Request(`http://sink${req.url}`, {
          method: req.method,
          headers: Object.entries(req.headers).filter(([, v]) => typeof v === "string"),
          body: Buffer.concat(chunks),
        }),
      );
      const down = req.url === "/billing" || (req.url === "/shipping" && !shipping.up);
      const status = down ? 503 : 204;
      requests.push({ path: req.url, at: Math.round(performance.now() - started), status, event });
      if (down) res.writeHead(503, { "content-type": "text/plain" }).end("down for maintenance");
      else res.writeHead(204).end();
      for (const w of waiters.splice(0)) w();
    });
  });
  /** Resolves once `count` requests to `path` have come. */
  const requestsTo = async (path, count) => {
    for (;;) {
      const got = requests.filter((r) => r.path === path);
      if (got.length >= count) return got;
      await new Promise((ok) => waiters.push(ok));
    }
  };
  return { server, requests, shipping, requestsTo };
}

/** Runs the example; resolves with what the sink saw and what the admin API answered. */
export async function runExample() {
  const dir = await mkdtemp(join(tmpdir(), "herald-dead-letter-"));
  const sink = startSink();
  await new Promise((ok) => sink.server.listen(0, "127.0.0.1", ok));
  const sinkUrl = `http://127.0.0.1:${sink.server.address().port}`;
  const { jwksFile, publisherToken, adminToken } = await devIssuer(dir);
  const { url, gateway } = await startHerald(["--config", join(here, "herald.yaml")], {
    cwd: here,
    env: { DEV_JWKS: jwksFile, SINK_URL: sinkUrl },
  });
  const admin = async (method, path) => {
    const res = await fetch(`${url}${path}`, {
      method,
      headers: { authorization: `Bearer ${adminToken}` },
    });
    if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
    return res.json();
  };
  try {
    // 1. billing: 4 attempts, each answered 503, then the dead-letter sink.
    await sendEvent(
      `${url}/events`,
      { id: "order-1", source: "/orders", type: "com.example.order.created", data: { total: 42 } },
      { token: publisherToken },
    );
    const [deadLetter] = await sink.requestsTo("/dead-letters", 1);

    // 2. shipping: 3 attempts, each answered 503, and no dead-letter sink: kept as dead.
    await sendEvent(
      `${url}/events`,
      { id: "order-2", source: "/orders", type: "com.example.order.paid", data: { total: 42 } },
      { token: publisherToken },
    );
    await sink.requestsTo("/shipping", 3);
    // The job is marked dead just after its last answer: look until the admin API lists it.
    let dead = await admin("GET", "/subscriptions/shipping/dead");
    while (dead.items.length === 0) {
      await new Promise((ok) => setTimeout(ok, 50));
      dead = await admin("GET", "/subscriptions/shipping/dead");
    }

    // 3. The shipping service is back: redrive the dead delivery, which is sent once more.
    sink.shipping.up = true;
    const redrive = await admin("POST", "/subscriptions/shipping/redrive");
    const shipped = (await sink.requestsTo("/shipping", 4))[3];
    const deadAfter = await admin("GET", "/subscriptions/shipping/dead");

    return {
      billing: sink.requests.filter((r) => r.path === "/billing"),
      deadLetter,
      dead,
      redrive,
      shipped,
      deadAfter,
    };
  } finally {
    await stop(gateway);
    sink.server.closeAllConnections();
    await new Promise((ok) => sink.server.close(ok));
    await rm(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { billing, deadLetter, dead, redrive, shipped, deadAfter } = await runExample();
  console.log("billing (retry: 3, backoffDelay: 100ms, backoffMax: 400ms):");
  for (const [i, r] of billing.entries()) {
    const wait = i === 0 ? "" : `  (waited ${r.at - billing[i - 1].at} ms)`;
    console.log(`  attempt ${i + 1} at +${r.at - billing[0].at} ms -> ${r.status}${wait}`);
  }
  const e = deadLetter.event;
  console.log(`dead-letter sink got ${e.id} (${e.type}):`);
  for (const name of ["heralderrordest", "heralderrorcode", "heralderrordata", "heraldattempts"]) {
    console.log(`  ${name}: ${e[name]}`);
  }
  const [item] = dead.items;
  console.log("shipping has no deadLetterSink; GET /subscriptions/shipping/dead:");
  console.log(
    `  ${item.jobId}: ${item.event.id}, ${item.attempts} attempts, ` +
      `last ${item.failure.status} "${item.failure.error}"`,
  );
  console.log(
    `shipping is back; POST /subscriptions/shipping/redrive -> ${JSON.stringify(redrive)}`,
  );
  console.log(
    `  shipping got ${shipped.event.id} -> ${shipped.status}; dead now: ${deadAfter.items.length}`,
  );
}
