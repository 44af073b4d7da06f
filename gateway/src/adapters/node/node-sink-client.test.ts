import { once } from "node:events";
import { createServer, type Server, type ServerResponse } from "node:http";
import { type AddressInfo, createServer as createTcpServer, type Socket } from "node:net";
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
async function startServer(
  handler: (res: ServerResponse) => void,
  configure: (server: Server) => void = () => {},
) {
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
  configure(server);
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

  it("refuses a maxSockets or idleTimeoutMs that makes no sense", () => {
    expect(() => createNodeSinkClient({ maxSockets: 0 })).toThrow(TypeError);
    expect(() => createNodeSinkClient({ maxSockets: 1.5 })).toThrow(TypeError);
    expect(() => createNodeSinkClient({ maxSockets: Number.NaN })).toThrow(TypeError);
    createNodeSinkClient({ maxSockets: Number.POSITIVE_INFINITY }).close();
    expect(() => createNodeSinkClient({ idleTimeoutMs: 0 })).toThrow(TypeError);
    expect(() => createNodeSinkClient({ idleTimeoutMs: Number.POSITIVE_INFINITY })).toThrow(
      TypeError,
    );
  });

  it("sends once more when the sink's keep-alive timeout closes the reused connection under it", async () => {
    const client = nodeClient({ idleTimeoutMs: 60_000 });
    let resent: Promise<{ status: number }> | undefined;
    const server = await startServer(
      (res) => {
        // Claim a long keep-alive so the client pools the connection, then close it much sooner.
        res.writeHead(204, { "keep-alive": "timeout=60" }).end();
      },
      (s) => {
        // Node closes an idle connection 1 s after `keepAliveTimeout`: the shortest it does.
        s.keepAliveTimeout = 1;
        // Replaces the server's own close at the keep-alive timeout with the same close, and
        // sends the next message in the same turn, before the client can see the connection end:
        // the race a sink's keep-alive timeout makes with a new message, made certain.
        s.on("timeout", (socket: Socket) => {
          socket.destroy();
          resent ??= client.send(message(server.url), 5_000);
        });
      },
    );
    expect((await client.send(message(server.url), 5_000)).status).toBe(204);
    await server.nextClose();
    expect((await resent)?.status).toBe(204);
    // The message went out on the dead connection, then on a new one.
    expect(server.connections()).toBe(2);
    expect(server.requests()).toBe(2);
  });

  it("does not send again when a fresh connection is reset", async () => {
    let attempts = 0;
    const server = await startServer(
      () => {},
      (s) =>
        s.on("request", (req: { socket: Socket }) => {
          attempts++;
          req.socket.destroy();
        }),
    );
    const client = nodeClient();
    const err = await client.send(message(server.url), 5_000).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: "sink_network_error" });
    expect(attempts).toBe(1);
  });

  it("fails at once, not at the timeout, on an answer whose lines end in a bare LF", async () => {
    // Such a head never ends in CRLF CRLF: the delivery used to wait for its whole timeout and
    // then report a timeout from a sink that had answered.
    const tcp = createTcpServer((socket) => {
      socket.once("data", () => socket.write("HTTP/1.1 503 Busy\nContent-Length: 0\n\n"));
      socket.on("error", () => {});
    });
    tcp.listen(0, "127.0.0.1");
    await once(tcp, "listening");
    try {
      const { port } = tcp.address() as AddressInfo;
      const client = nodeClient();
      const err = await client
        .send(message(`http://127.0.0.1:${port}/hook`), 600_000)
        .catch((e: unknown) => e);
      expect(err).toMatchObject({ code: "sink_network_error" });
      expect(String((err as Error).message)).toContain("bare LF");
    } finally {
      await new Promise((resolve) => tcp.close(resolve));
    }
  });

  it("closes idle pooled connections after idleTimeoutMs, but not one awaiting an answer", async () => {
    const server = await startServer(
      (res) => {
        setTimeout(() => res.writeHead(204).end(), 60);
      },
      (s) => {
        // Only the client may close the idle connection here.
        s.keepAliveTimeout = 60_000;
      },
    );
    const client = nodeClient({ idleTimeoutMs: 20 });
    // The answer comes after 60 ms of silence: the idle timeout does not apply to it.
    expect((await client.send(message(server.url), 5_000)).status).toBe(204);
    expect(server.closedConnections()).toBe(0);
    // Idle in the pool, the connection is closed by the client.
    await server.nextClose();
    expect(server.connections()).toBe(1);
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
