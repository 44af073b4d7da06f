// Client CPU per delivery of the Node sink client: the HTTP/1.1 client over node:net that
// createNodeSinkClient uses for http: sinks, against the node:http path it keeps for https:.
// The sink runs in a child process; 32 deliveries in flight over keep-alive connections, a POST
// with 6 headers and a 79-byte body, answered 200 with Content-Length: 0. Run briefly (a few
// seconds): `npm run build -w gateway && node bench/sink-client-cpu.js [requests per round]`.
import { fork } from "node:child_process";
import { once } from "node:events";
import { Agent, createServer } from "node:http";
import { nodeHttpExchange } from "../gateway/dist/adapters/node/node-http-exchange.js";
import { createNodeSinkClient } from "../gateway/dist/adapters/node/node-sink-client.js";
import { parseSinkTarget } from "../gateway/dist/adapters/node/sink-target.js";

if (process.argv[2] === "--sink") {
  const server = createServer((req, res) => {
    req.resume();
    req.on("end", () => res.writeHead(200, { "content-length": "0" }).end());
  });
  server.keepAliveTimeout = 60_000;
  server.listen(0, "127.0.0.1", () => process.send?.(server.address().port));
} else {
  const n = Number(process.argv[2] ?? 20_000);
  const sink = fork(new URL(import.meta.url).pathname, ["--sink"]);
  const [port] = await once(sink, "message");
  const url = `http://127.0.0.1:${port}/hook`;
  const message = {
    url,
    method: "POST",
    headers: {
      "ce-specversion": "1.0",
      "ce-id": "x",
      "ce-source": "/s",
      "ce-type": "com.example.bench.42",
      "content-type": "application/json",
      traceparent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
    },
    body: Buffer.from('{"hello":"world","n":42,"padding":"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"}'),
  };
  const http1 = createNodeSinkClient();
  const agent = new Agent({ keepAlive: true, maxSockets: 128, scheduling: "lifo", timeout: 4_000 });
  const target = parseSinkTarget(url);
  const clients = {
    "node:http": () =>
      new Promise((resolve, reject) =>
        nodeHttpExchange(agent, target, message, 5_000, 1024, resolve, reject),
      ),
    http1: () => http1.send(message, 5_000),
  };
  for (let round = 0; round < 3; round++) {
    for (const [name, send] of Object.entries(clients)) {
      const cpu = process.cpuUsage();
      let sent = 0;
      await Promise.all(
        Array.from({ length: 32 }, async () => {
          while (sent++ < n) if ((await send()).status !== 200) throw new Error("not 200");
        }),
      );
      const { user, system } = process.cpuUsage(cpu);
      console.log(
        `round ${round + 1} ${name.padEnd(9)} ${((user + system) / n).toFixed(1)} µs CPU/request`,
      );
    }
  }
  http1.close();
  agent.destroy();
  sink.kill();
}
