// The OTLP collector of the ingest-traced scenario. Like the sink it shares the load generator's
// core, so its only jobs are to be cheap and to count: it answers 200 (an empty export response,
// i.e. everything accepted) as soon as a request's body has been read.
//
//   node bench/otlp-stub.js [--port N] [--host H]
//
// POST /v1/traces    counted: requests, bytes, and spans (a shallow walk of the OTLP/protobuf
//                    message that counts Span fields without decoding them; 0 for OTLP/JSON)
// POST /v1/metrics   counted: requests, bytes
// GET  /_count       {"traces": {"requests", "bytes", "spans"}, "metrics": {"requests", "bytes"}}
//
// Prints exactly one line `otlp-stub listening on http://H:N` on stdout when ready, and exits when
// its stdin closes (the process that started it is gone), so it never outlives a run.
import { createServer } from "node:http";

const args = process.argv.slice(2);
const option = (name, fallback) => {
  const i = args.indexOf(name);
  return i >= 0 && args[i + 1] !== undefined ? args[i + 1] : fallback;
};
const host = option("--host", "127.0.0.1");
const port = Number(option("--port", "0"));

const traces = { requests: 0, bytes: 0, spans: 0 };
const metrics = { requests: 0, bytes: 0 };

/**
 * The length-delimited fields numbered `no` of a protobuf message (other wire types skipped).
 * @param {Buffer} buf
 * @param {number} no
 * @returns {Buffer[]}
 */
function fields(buf, no) {
  const out = [];
  let at = 0;
  const varint = () => {
    let value = 0;
    let shift = 0;
    for (;;) {
      const byte = buf[at++];
      if (byte === undefined) throw new Error("truncated");
      value += (byte & 0x7f) * 2 ** shift;
      if ((byte & 0x80) === 0) return value;
      shift += 7;
    }
  };
  while (at < buf.length) {
    const key = varint();
    const wire = key & 7;
    if (wire === 0) varint();
    else if (wire === 1) at += 8;
    else if (wire === 5) at += 4;
    else if (wire === 2) {
      const length = varint();
      if (key >>> 3 === no) out.push(buf.subarray(at, at + length));
      at += length;
    } else throw new Error(`wire type ${wire}`);
  }
  return out;
}

/**
 * Spans in an ExportTraceServiceRequest: resource_spans = 1 -> scope_spans = 2 -> spans = 2.
 * @param {Buffer} body
 */
function countSpans(body) {
  let spans = 0;
  try {
    for (const rs of fields(body, 1)) for (const ss of fields(rs, 2)) spans += fields(ss, 2).length;
  } catch {
    // Not protobuf (OTLP/JSON) or cut short: counted as requests and bytes only.
  }
  return spans;
}

const server = createServer((req, res) => {
  if (req.method === "GET" && req.url === "/_count") {
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify({ traces, metrics }));
    return;
  }
  const chunks = [];
  req.on("data", (chunk) => chunks.push(chunk));
  req.on("end", () => {
    const body = Buffer.concat(chunks);
    if (req.url === "/v1/traces") {
      traces.requests++;
      traces.bytes += body.length;
      if (req.headers["content-type"]?.startsWith("application/x-protobuf")) {
        traces.spans += countSpans(body);
      }
    } else if (req.url === "/v1/metrics") {
      metrics.requests++;
      metrics.bytes += body.length;
    }
    // An empty protobuf message is a valid Export*ServiceResponse: nothing rejected.
    res.writeHead(200, { "content-type": "application/x-protobuf", "content-length": "0" });
    res.end();
  });
});
server.keepAliveTimeout = 60_000;

server.listen(port, host, () => {
  const address = /** @type {import("node:net").AddressInfo} */ (server.address());
  process.stdout.write(`otlp-stub listening on http://${host}:${address.port}\n`);
});

const stop = () => {
  server.closeAllConnections();
  server.close(() => process.exit(0));
};
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
process.stdin.on("end", stop);
process.stdin.resume();
