// The delivery sink every system under test forwards to. Its only jobs are to be cheap (it shares
// the load generator's core) and to count what arrives, so it answers 204 as soon as a request's
// body has been read and keeps nothing but counters.
//
//   node bench/sink.js [--port N] [--host H]
//
// POST <any path>   a delivery: counted, answered 204
// GET  /_count      {"deliveries": n, "invalid": n} where invalid counts deliveries that carried
//                   neither a ce-specversion header (binary mode) nor a CloudEvents content type
//                   (structured/batch mode)
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

let deliveries = 0;
let invalid = 0;

/** @param {import("node:http").IncomingMessage} req */
function isCloudEvent(req) {
  if (req.headers["ce-specversion"] !== undefined) return true;
  const type = req.headers["content-type"];
  return type?.toLowerCase().startsWith("application/cloudevents") === true;
}

const server = createServer((req, res) => {
  if (req.method === "POST") {
    // Drain the body without buffering it; count and answer once it is fully read so the
    // keep-alive connection is clean for the next delivery.
    req.resume();
    req.on("end", () => {
      deliveries++;
      if (!isCloudEvent(req)) invalid++;
      res.writeHead(204);
      res.end();
    });
    return;
  }
  if (req.method === "GET" && req.url === "/_count") {
    const body = JSON.stringify({ deliveries, invalid });
    res.writeHead(200, { "content-type": "application/json", "content-length": body.length });
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
