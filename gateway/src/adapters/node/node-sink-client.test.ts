import { once } from "node:events";
import { createServer, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import type { DeliveryMessage } from "../../deliver/build-delivery-message.js";
import { describeSinkClient } from "../../deliver/sink-client.case.js";
import { createNodeSinkClient, type NodeSinkClient } from "./node-sink-client.js";

const shared = createNodeSinkClient();
describeSinkClient(
  "node",
  () => shared,
  () => shared.close(),
);

const servers: ReturnType<typeof createServer>[] = [];
const clients: NodeSinkClient[] = [];
function nodeClient(options?: Parameters<typeof createNodeSinkClient>[0]): NodeSinkClient {
  const client = createNodeSinkClient(options);
  clients.push(client);
  return client;
}

afterEach(async () => {
  for (const client of clients.splice(0)) client.close();
  await Promise.all(
    servers.splice(0).map((server) => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(resolve));
    }),
  );
});

/** A real server on 127.0.0.1 counting requests, connections and closes. */
async function startServer(handler: (res: ServerResponse) => void) {
  let requests = 0;
  let connections = 0;
  let closed = 0;
  const closeWaiters: (() => void)[] = [];
  const server = createServer((req, res) => {
    req.resume();
    req.on("end", () => {
      requests++;
      handler(res);
    });
  });
  server.on("connection", (socket) => {
    connections++;
    socket.on("close", () => {
      closed++;
      for (const resolve of closeWaiters.splice(0)) resolve();
    });
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  servers.push(server);
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hook`,
    requests: () => requests,
    connections: () => connections,
    closedConnections: () => closed,
    nextClose: () => new Promise<void>((resolve) => closeWaiters.push(resolve)),
  };
}

const message = (url: string): DeliveryMessage => ({
  url,
  method: "POST",
  headers: {},
  body: "x",
});

describe("createNodeSinkClient", () => {
  it("reuses one keep-alive connection for sequential messages", async () => {
    const server = await startServer((res) => res.writeHead(204).end());
    const client = nodeClient();
    for (let i = 0; i < 5; i++) await client.send(message(server.url), 5_000);
    expect(server.requests()).toBe(5);
    expect(server.connections()).toBe(1);
  });

  it("opens no more than maxSockets connections per origin", async () => {
    const waiting: ServerResponse[] = [];
    let answering = false;
    let twoArrived!: () => void;
    const arrived = new Promise<void>((resolve) => {
      twoArrived = resolve;
    });
    const server = await startServer((res) => {
      if (answering) res.end("ok");
      else waiting.push(res);
      if (waiting.length === 2) twoArrived();
    });
    const client = nodeClient({ maxSockets: 2 });
    const answers = Array.from({ length: 6 }, () => client.send(message(server.url), 5_000));
    await arrived;
    expect(server.requests()).toBe(2);
    // Now answer everything; the four waiting messages reuse the two connections.
    answering = true;
    for (const res of waiting.splice(0)) res.end("ok");
    expect((await Promise.all(answers)).map((a) => a.status)).toEqual(Array(6).fill(200));
    expect(server.requests()).toBe(6);
    expect(server.connections()).toBe(2);
  });

  it("refuses a maxSockets that is not a positive integer", () => {
    expect(() => createNodeSinkClient({ maxSockets: 0 })).toThrow(TypeError);
    expect(() => createNodeSinkClient({ maxSockets: 1.5 })).toThrow(TypeError);
  });

  it("close() ends the pooled keep-alive connections", async () => {
    const server = await startServer((res) => res.end("ok"));
    const client = createNodeSinkClient();
    await client.send(message(server.url), 5_000);
    expect(server.closedConnections()).toBe(0);
    const closed = server.nextClose();
    client.close();
    await closed;
    expect(server.connections()).toBe(1);
  });
});
