// Baseline (a): the least work a relay can do. A node:http server that forwards each request's
// headers and body to the sink over a keep-alive Agent and answers 202 once the sink has answered.
// No parsing, no validation, no routing: the ceiling that Herald's per-event work is measured against.
//
//   node bench/baselines/bare-relay.js --sink http://127.0.0.1:9000/bare [--port 0] [--host 127.0.0.1]
//
// Prints exactly one line `bare listening on http://H:N` on stdout when ready.
import { Agent, createServer, request } from "node:http";

const args = process.argv.slice(2);
const option = (name, fallback) => {
  const i = args.indexOf(name);
  return i >= 0 && args[i + 1] !== undefined ? args[i + 1] : fallback;
};
const sink = new URL(option("--sink", ""));
const host = option("--host", "127.0.0.1");
const port = Number(option("--port", "0"));

const agent = new Agent({ keepAlive: true, maxSockets: 256 });
// Hop-by-hop headers (RFC 9110 section 7.6.1) and the ones node:http recomputes are not forwarded.
const skip = new Set(["host", "connection", "keep-alive", "transfer-encoding", "content-length"]);

const server = createServer((req, res) => {
  if (req.method !== "POST") {
    res.writeHead(405);
    res.end();
    return;
  }
  /** @type {Buffer[]} */
  const chunks = [];
  req.on("data", (chunk) => chunks.push(chunk));
  req.on("end", () => {
    const body = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks);
    /** @type {Record<string, string | string[]>} */
    const headers = { "content-length": String(body.length) };
    for (const [name, value] of Object.entries(req.headers)) {
      if (value !== undefined && !skip.has(name)) headers[name] = value;
    }
    const out = request(
      { host: sink.hostname, port: sink.port, path: sink.pathname, method: "POST", headers, agent },
      (answer) => {
        answer.resume();
        answer.on("end", () => {
          const ok = answer.statusCode !== undefined && answer.statusCode < 300;
          res.writeHead(ok ? 202 : 502);
          res.end();
        });
      },
    );
    out.on("error", () => {
      if (!res.headersSent) res.writeHead(502);
      res.end();
    });
    out.end(body);
  });
});

server.keepAliveTimeout = 60_000;
server.headersTimeout = 65_000;
server.requestTimeout = 0;

server.listen(port, host, () => {
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("unexpected address");
  process.stdout.write(`bare listening on http://${host}:${address.port}\n`);
});

const stop = () => {
  server.close(() => process.exit(0));
  server.closeAllConnections();
  agent.destroy();
};
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
