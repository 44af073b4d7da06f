import { once } from "node:events";
import * as http from "node:http";
import { createServer, type Server } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import type { SinkAnswer, SinkMessage } from "../../deliver/sink-client.js";
import { nodeHttpExchange } from "./node-http-exchange.js";
import { parseSinkTarget } from "./sink-target.js";

// The node:http(s) exchange behind createNodeSinkClient for https: sinks. The agent and the
// framing are node:http's whether TLS is on or not, so a plain http: agent and a raw node:net
// sink on 127.0.0.1 show what it does with the connection.

const servers: Server[] = [];
const agents: http.Agent[] = [];

afterEach(async () => {
  for (const agent of agents.splice(0)) agent.destroy();
  await Promise.all(
    servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))),
  );
});

/** A raw sink answering every request (Content-Length framed) with `response`. */
async function rawSink(response: string) {
  let connections = 0;
  const server = createServer((socket) => {
    connections++;
    let buffered = "";
    socket.on("error", () => {});
    socket.on("data", (data: Buffer) => {
      buffered += data.toString("latin1");
      for (;;) {
        const end = buffered.indexOf("\r\n\r\n");
        if (end < 0) return;
        const length = Number(/\r\ncontent-length: (\d+)/i.exec(buffered)?.[1] ?? 0);
        if (buffered.length < end + 4 + length) return;
        buffered = buffered.slice(end + 4 + length);
        socket.write(response);
      }
    });
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  servers.push(server);
  const { port } = server.address() as { port: number };
  return { url: `http://127.0.0.1:${port}/hook`, connections: () => connections };
}

function send(agent: http.Agent, url: string): Promise<SinkAnswer> {
  const message: SinkMessage = { url, method: "POST", headers: {}, body: "x" };
  return new Promise((resolve, reject) =>
    nodeHttpExchange(agent, parseSinkTarget(url), message, 5_000, 1024, resolve, reject),
  );
}

describe("nodeHttpExchange", () => {
  it.each([
    ["a 204 that declares a body", "HTTP/1.1 204 No Content\r\nContent-Length: 2\r\n\r\n", 3],
    ["a 204 without one", "HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n", 1],
  ])(
    "after %s reuses the connection only when the body is sure to be empty",
    async (_, response, connections) => {
      // The body a 204 declares may follow in a later packet, on the next request's connection.
      const sink = await rawSink(response);
      const agent = new http.Agent({ keepAlive: true });
      agents.push(agent);
      for (let i = 0; i < 3; i++) expect((await send(agent, sink.url)).status).toBe(204);
      expect(sink.connections()).toBe(connections);
    },
  );
});
