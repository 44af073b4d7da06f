// The delivery sink every system under test forwards to. Its only jobs are to be cheap (it shares
// the load generator's core) and to count what arrives, so it answers 204 as soon as a request's
// body has been read and keeps nothing but counters.
//
//   node bench/sink.js [--port N] [--host H] [--record]
//
// POST <any path>   a delivery: counted, answered 204
// GET  /_count      {"deliveries": n, "invalid": n} where invalid counts deliveries that carried
//                   neither a ce-specversion header (binary mode) nor a CloudEvents content type
//                   (structured/batch mode); with --record also "events", "unique", "duplicates",
//                   "firstUs" and "lastNewUs" (receipt times of the first event and of the last
//                   event not seen before)
// GET  /_receipts?prefix=P   with --record: {"ids": [...], "us": [...]}, every recorded event id
//                   starting with P and the time it first arrived
//
// --record (e2e-latency and backlog scenarios) keeps, per event id, the time it first arrived:
// `process.hrtime`, i.e. CLOCK_MONOTONIC in microseconds, the clock bench/load.js stamps its sends
// with (same machine, so the difference is the event's ingest -> sink latency). Binary mode reads
// the id from `ce-id`; structured and batch mode parse the body for it.
//
// Prints exactly one line `sink listening on http://H:N` on stdout when ready.
import { createServer } from "node:http";

const args = process.argv.slice(2);
const option = (name, fallback) => {
  const i = args.indexOf(name);
  return i >= 0 && args[i + 1] !== undefined ? args[i + 1] : fallback;
};
const host = option("--host", "127.0.0.1");
const port = Number(option("--port", "0"));
const record = args.includes("--record");

let deliveries = 0;
let invalid = 0;
/** --record: event id -> first receipt, µs on the monotonic clock. */
const firstSeen = new Map();
let events = 0;
let firstUs = 0;
let lastNewUs = 0;

const nowUs = () => Number(process.hrtime.bigint() / 1000n);

/** @param {import("node:http").IncomingMessage} req */
function isCloudEvent(req) {
  if (req.headers["ce-specversion"] !== undefined) return true;
  const type = req.headers["content-type"];
  return type?.toLowerCase().startsWith("application/cloudevents") === true;
}

/**
 * @param {string | undefined} id
 * @param {number} at
 */
function seen(id, at) {
  if (typeof id !== "string") return;
  events++;
  if (firstUs === 0) firstUs = at;
  if (firstSeen.has(id)) return;
  firstSeen.set(id, at);
  lastNewUs = at;
}

/**
 * --record: the ids a delivery carries (binary: ce-id; structured: the body's id; batch: each).
 * @param {import("node:http").IncomingMessage} req
 * @param {Buffer[]} chunks
 * @param {number} at  when the request arrived
 */
function recordIds(req, chunks, at) {
  const ceId = req.headers["ce-id"];
  if (typeof ceId === "string") {
    seen(ceId, at);
    return;
  }
  try {
    const body = JSON.parse(Buffer.concat(chunks).toString("utf8"));
    for (const e of Array.isArray(body) ? body : [body]) seen(e?.id, at);
  } catch {
    // Not JSON: counted as a delivery, carries no id.
  }
}

const server = createServer((req, res) => {
  if (req.method === "POST") {
    // Drain the body (buffered only with --record in structured or batch mode); count and answer
    // once it is fully read so the keep-alive connection is clean for the next delivery.
    const at = record ? nowUs() : 0;
    /** @type {Buffer[]} */
    const chunks = [];
    if (record && req.headers["ce-id"] === undefined) req.on("data", (c) => chunks.push(c));
    else req.resume();
    req.on("end", () => {
      deliveries++;
      if (!isCloudEvent(req)) invalid++;
      if (record) recordIds(req, chunks, at);
      res.writeHead(204);
      res.end();
    });
    return;
  }
  if (req.method === "GET" && req.url === "/_count") {
    const counts = record
      ? {
          deliveries,
          invalid,
          events,
          unique: firstSeen.size,
          duplicates: events - firstSeen.size,
          firstUs,
          lastNewUs,
        }
      : { deliveries, invalid };
    const body = JSON.stringify(counts);
    res.writeHead(200, { "content-type": "application/json", "content-length": body.length });
    res.end(body);
    return;
  }
  if (record && req.method === "GET" && req.url?.startsWith("/_receipts")) {
    const prefix = new URL(req.url, "http://sink").searchParams.get("prefix") ?? "";
    const ids = [];
    const us = [];
    for (const [id, at] of firstSeen) {
      if (!id.startsWith(prefix)) continue;
      ids.push(id);
      us.push(at);
    }
    const body = JSON.stringify({ ids, us });
    res.writeHead(200, {
      "content-type": "application/json",
      "content-length": Buffer.byteLength(body),
    });
    res.end(body);
    return;
  }
  res.writeHead(405);
  res.end();
});

// Relays hold many keep-alive connections to the sink; do not let Node's defaults close them
// under load (headersTimeout/keepAliveTimeout would show up as socket errors in the relays).
server.keepAliveTimeout = 60_000;
server.headersTimeout = 65_000;
server.requestTimeout = 0;

server.listen(port, host, () => {
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("unexpected address");
  process.stdout.write(`sink listening on http://${host}:${address.port}\n`);
});

const stop = () => {
  server.close(() => process.exit(0));
  server.closeAllConnections();
};
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
