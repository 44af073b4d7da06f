import { once } from "node:events";
import { createServer, type Server, type Socket } from "node:net";
import * as v8 from "node:v8";
import * as vm from "node:vm";
import { afterEach, describe, expect, it } from "vitest";
import type { DeliveryMessage } from "../../deliver/build-delivery-message.js";
import { DRAIN_LIMIT } from "../../deliver/sink-client.js";
import { SinkNetworkError, SinkTimeout } from "../../deliver/sink-error.js";
import { createHttp1Client, Http1Exchange } from "./http1-client.js";
import { createNodeSinkClient, type NodeSinkClient } from "./node-sink-client.js";

// The HTTP/1.1 client behind createNodeSinkClient for http: sinks, against raw node:net servers
// on 127.0.0.1 that answer with exactly the bytes a test gives (hostile ones too).

interface RawRequest {
  readonly head: string;
  readonly body: Buffer;
  /** Which connection it came on (0 for the server's first) and its place on it. */
  readonly connection: number;
  readonly index: number;
}

type Respond = (req: RawRequest, socket: Socket) => void;

const servers: Server[] = [];
const clients: NodeSinkClient[] = [];

afterEach(async () => {
  for (const client of clients.splice(0)) client.close();
  await Promise.all(
    servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))),
  );
});

function client(options?: Parameters<typeof createNodeSinkClient>[0]): NodeSinkClient {
  const created = createNodeSinkClient(options);
  clients.push(created);
  return created;
}

/** A raw sink: splits what arrives into requests (Content-Length framing) and calls `respond`. */
async function rawSink(respond: Respond) {
  const requests: RawRequest[] = [];
  const sockets = new Set<Socket>();
  let connections = 0;
  let closed = 0;
  const closeWaiters: (() => void)[] = [];
  const server = createServer((socket) => {
    const connection = connections++;
    let index = 0;
    let buffered = Buffer.alloc(0);
    sockets.add(socket);
    socket.on("error", () => {});
    socket.on("close", () => {
      sockets.delete(socket);
      closed++;
      for (const resolve of closeWaiters.splice(0)) resolve();
    });
    socket.on("data", (data: Buffer) => {
      buffered = Buffer.concat([buffered, data]);
      for (;;) {
        const end = buffered.indexOf("\r\n\r\n");
        if (end < 0) return;
        const head = buffered.toString("latin1", 0, end);
        const length = Number(/\r\ncontent-length: (\d+)/i.exec(head)?.[1] ?? 0);
        if (buffered.length < end + 4 + length) return;
        const req = {
          head,
          body: buffered.subarray(end + 4, end + 4 + length),
          connection,
          index: index++,
        };
        buffered = buffered.subarray(end + 4 + length);
        requests.push(req);
        respond(req, socket);
      }
    });
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  servers.push(server);
  const close = server.close.bind(server);
  // Closing the server also drops the connections still open.
  server.close = (cb) => {
    for (const socket of sockets) socket.destroy();
    return close(cb);
  };
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}/hook`,
    port,
    requests,
    connections: () => connections,
    closed: () => closed,
    nextClose: () => new Promise<void>((resolve) => closeWaiters.push(resolve)),
  };
}

const message = (url: string, headers: Record<string, string> = {}): DeliveryMessage => ({
  url,
  method: "POST",
  headers,
  body: "x",
});

const OK = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    (value) => {
      throw new Error(`expected a rejection, got ${JSON.stringify(value)}`);
    },
    (err: unknown) => err,
  );
}

describe("Http1Client: requests on the wire", () => {
  it("writes the request line, Host first, the headers as given and Content-Length", async () => {
    const sink = await rawSink((_, socket) => socket.write(OK));
    await client().send(
      { ...message(`${sink.url}?q=1`, { "ce-id": "1", "x-v": "caf\xe9" }), body: "h\xe9" },
      5_000,
    );
    expect(sink.requests[0]?.head).toBe(
      `POST /hook?q=1 HTTP/1.1\r\nhost: 127.0.0.1:${sink.port}\r\nce-id: 1\r\nx-v: caf\xe9\r\n` +
        "content-length: 3",
    );
    expect(sink.requests[0]?.body.toString()).toBe("h\xe9");
  });

  it.each([
    [
      "a CRLF in a value",
      { "x-a": "1\r\nx-injected: 1" },
      'Invalid character in header content ["x-a"]',
    ],
    [
      "a bare LF in a value",
      { "x-a": "1\nx-injected: 1" },
      'Invalid character in header content ["x-a"]',
    ],
    ["NUL in a value", { "x-a": "1\u0000" }, 'Invalid character in header content ["x-a"]'],
    [
      "a CRLF in the Host",
      { host: "h\r\nx-injected: 1" },
      'Invalid character in header content ["host"]',
    ],
    ["a char past Latin-1", { "x-a": "\u2028" }, 'Invalid character in header content ["x-a"]'],
    ["a CRLF in a name", { "x-a\r\nx-injected": "1" }, "Header name must be a valid HTTP token"],
    ["a space in a name", { "x a": "1" }, "Header name must be a valid HTTP token"],
    ["a colon in a name", { "x-a:": "1" }, "Header name must be a valid HTTP token"],
  ])("refuses a header with %s before sending anything", async (_, headers, text) => {
    const sink = await rawSink((_, socket) => socket.write(OK));
    const err = await rejection(client().send(message(sink.url, headers), 5_000));
    expect(err).toBeInstanceOf(SinkNetworkError);
    expect((err as Error).message).toContain(`fetch failed: ${text}`);
    expect(sink.connections()).toBe(0);
  });

  it("leaves out a Content-Length and a Transfer-Encoding among the headers (it frames the body)", async () => {
    const sink = await rawSink((_, socket) => socket.write(OK));
    await client().send(
      message(sink.url, { "content-length": "99", "transfer-encoding": "chunked" }),
      5_000,
    );
    expect(sink.requests[0]?.head).toBe(
      `POST /hook HTTP/1.1\r\nhost: 127.0.0.1:${sink.port}\r\ncontent-length: 1`,
    );
  });
});

describe("Http1Client: framing on the wire", () => {
  it("reads chunked bodies with trailers and reuses the connection", async () => {
    const sink = await rawSink((_, socket) => {
      socket.write("HTTP/1.1 500 Oops\r\nTransfer-Encoding: chunked\r\n\r\n4;x=1\r\nfail");
      setImmediate(() => socket.write("\r\n3\r\ned!\r\n0\r\nX-T: 1\r\n\r\n"));
    });
    const sinkClient = client();
    for (let i = 0; i < 3; i++) {
      const answer = await sinkClient.send(message(sink.url), 5_000);
      expect(answer).toMatchObject({ status: 500, complete: true });
      expect(Buffer.from(answer.head).toString()).toBe("failed!");
    }
    expect(sink.connections()).toBe(1);
  });

  it("reads a body without a length until the close, and opens a new connection after", async () => {
    const sink = await rawSink((_, socket) => socket.end("HTTP/1.1 502 Bad\r\n\r\nupstream gone"));
    const sinkClient = client();
    for (let i = 0; i < 2; i++) {
      const answer = await sinkClient.send(message(sink.url), 5_000);
      expect(answer).toMatchObject({ status: 502, complete: true });
      expect(Buffer.from(answer.head).toString()).toBe("upstream gone");
    }
    expect(sink.connections()).toBe(2);
  });

  it("answers the final response after interim 1xx ones", async () => {
    const sink = await rawSink((_, socket) =>
      socket.write(
        `HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: <a>\r\n\r\n${OK}`,
      ),
    );
    const answer = await client().send(message(sink.url), 5_000);
    expect(answer).toMatchObject({ status: 200, complete: true });
    expect(answer.header("link")).toBeNull();
  });

  it.each([
    ["Connection: close", "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"],
    ["HTTP/1.0", "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 0\r\n\r\n"],
    [
      "Keep-Alive: timeout=1",
      "HTTP/1.1 200 OK\r\nKeep-Alive: timeout=1\r\nContent-Length: 0\r\n\r\n",
    ],
    ["bytes after the response", "HTTP/1.1 204 No Content\r\nContent-Length: 3\r\n\r\nabc"],
    // Its body may come in a later packet, after the next request went out on the connection.
    ["a 204 that declares a body", "HTTP/1.1 204 No Content\r\nContent-Length: 2\r\n\r\n"],
  ])("does not reuse a connection after %s", async (_, response) => {
    const sink = await rawSink((_, socket) => socket.write(response));
    const sinkClient = client();
    for (let i = 0; i < 3; i++) await sinkClient.send(message(sink.url), 5_000);
    expect(sink.connections()).toBe(3);
    expect(sink.requests.every((req) => req.index === 0)).toBe(true);
  });

  it("does not reuse a connection the request asked to close", async () => {
    const sink = await rawSink((_, socket) => socket.write(OK));
    const sinkClient = client();
    for (let i = 0; i < 2; i++) {
      await sinkClient.send(message(sink.url, { connection: "close" }), 5_000);
    }
    expect(sink.connections()).toBe(2);
  });

  it("closes a connection on which the server speaks out of turn", async () => {
    const sink = await rawSink((_, socket) => {
      socket.write(OK);
      setTimeout(() => socket.write("HTTP/1.1 200 OK\r\n\r\n"), 10);
    });
    const closed = sink.nextClose();
    expect((await client().send(message(sink.url), 5_000)).status).toBe(200);
    await closed;
  });
});

describe("Http1Client: hostile servers", () => {
  it.each([
    ["a garbage status line", "SSH-2.0-OpenSSH_9.6\r\n\r\n", "Parse Error: invalid status line"],
    ["an HTTP/2 status line", "HTTP/2 200\r\n\r\n", "Parse Error: invalid status line"],
    ["101 Switching Protocols", "HTTP/1.1 101 Switching Protocols\r\nUpgrade: h2c\r\n\r\n", "101"],
    [
      "a negative Content-Length",
      "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
      "content-length",
    ],
    ["a huge Content-Length", "HTTP/1.1 200 OK\r\nContent-Length: 1e999\r\n\r\n", "content-length"],
    [
      "Content-Length past 2^53",
      `HTTP/1.1 200 OK\r\nContent-Length: ${"9".repeat(20)}\r\n\r\n`,
      "content-length",
    ],
    [
      "differing Content-Lengths",
      "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab",
      "content-length",
    ],
    [
      "Content-Length and Transfer-Encoding",
      "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
      "both",
    ],
    [
      "obsolete line folding",
      "HTTP/1.1 200 OK\r\nX: a\r\n b\r\nContent-Length: 0\r\n\r\n",
      "invalid header field",
    ],
    [
      "a header of 20 KiB",
      `HTTP/1.1 200 OK\r\nX: ${"a".repeat(20_000)}\r\n\r\n`,
      "header overflow",
    ],
  ])("rejects %s with a SinkNetworkError and closes the connection", async (_, response, text) => {
    const sink = await rawSink((_, socket) => socket.write(response));
    const closed = sink.nextClose();
    const err = await rejection(client().send(message(sink.url), 5_000));
    expect(err).toBeInstanceOf(SinkNetworkError);
    expect((err as Error).message).toMatch(/^fetch failed: Parse Error: /);
    expect((err as Error).message).toContain(text);
    await closed;
  });

  it("answers a bad chunk size after the head with what arrived (the status said enough)", async () => {
    const sink = await rawSink((_, socket) =>
      socket.write("HTTP/1.1 503 Down\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nbusy\r\nzz\r\n"),
    );
    const answer = await client().send(message(sink.url), 5_000);
    expect(answer).toMatchObject({ status: 503, complete: false });
    expect(Buffer.from(answer.head).toString()).toBe("busy");
  });

  it("answers with what arrived when the connection closes mid-chunk", async () => {
    const sink = await rawSink((_, socket) =>
      socket.end("HTTP/1.1 500 Err\r\nTransfer-Encoding: chunked\r\n\r\n10\r\npart"),
    );
    const answer = await client().send(message(sink.url), 5_000);
    expect(answer).toMatchObject({ status: 500, complete: false });
    expect(Buffer.from(answer.head).toString()).toBe("part");
  });

  it("stops an endless chunked body at the drain limit and closes its connection", async () => {
    const sink = await rawSink((_, socket) => {
      socket.write("HTTP/1.1 500 Err\r\nTransfer-Encoding: chunked\r\n\r\n");
      const chunk = `400\r\n${"z".repeat(0x400)}\r\n`;
      const pump = () => {
        while (!socket.destroyed && socket.write(chunk));
        if (!socket.destroyed) socket.once("drain", pump);
      };
      pump();
    });
    const closed = sink.nextClose();
    const answer = await client().send(message(sink.url), 5_000);
    expect(answer).toMatchObject({ status: 500, complete: false });
    expect(answer.head.length).toBe(1024);
    await closed;
  });

  it("stops endless chunk extensions long before the drain limit's worth of data", async () => {
    let written = 0;
    const sink = await rawSink((_, socket) => {
      socket.write("HTTP/1.1 500 Err\r\nTransfer-Encoding: chunked\r\n\r\n");
      // One data byte per 16 KB line: the drain limit alone would let this run for a gigabyte.
      const chunk = `1;${"e".repeat(16_000)}\r\nz\r\n`;
      const pump = () => {
        while (!socket.destroyed && socket.write(chunk)) written += chunk.length;
        if (!socket.destroyed) socket.once("drain", pump);
      };
      pump();
    });
    const closed = sink.nextClose();
    const answer = await client().send(message(sink.url), 5_000);
    expect(answer).toMatchObject({ status: 500, complete: false });
    await closed;
    // Kernel buffers hold a few MB whatever the client does; unbounded, it was a gigabyte.
    expect(written).toBeLessThan(64 * 1024 * 1024);
  });

  it("times out a head that trickles in byte by byte (slowloris)", async () => {
    let timer: NodeJS.Timeout | undefined;
    const sink = await rawSink((_, socket) => {
      socket.write("HTTP/1.1 200 OK\r\n");
      timer = setInterval(() => socket.writable && socket.write("x"), 5);
    });
    const closed = sink.nextClose();
    const err = await rejection(client().send(message(sink.url), 150));
    clearInterval(timer);
    expect(err).toBeInstanceOf(SinkTimeout);
    await closed;
  });

  it("rejects a head that never ends once it passes 16 KiB, without waiting for the timeout", async () => {
    const sink = await rawSink((_, socket) => {
      socket.write("HTTP/1.1 200 OK\r\n");
      for (let i = 0; i < 2_000; i++) socket.write("x-filler: 0123456789\r\n");
    });
    const err = await rejection(client().send(message(sink.url), 5_000));
    expect((err as Error).message).toBe("fetch failed: Parse Error: header overflow");
  });

  it("reads a body longer than the drain limit no further than the limit", async () => {
    const sink = await rawSink((_, socket) =>
      socket.write(
        `HTTP/1.1 200 OK\r\nContent-Length: ${10 * DRAIN_LIMIT}\r\n\r\n${"b".repeat(10 * DRAIN_LIMIT)}`,
      ),
    );
    const closed = sink.nextClose();
    const answer = await client().send(message(sink.url), 5_000);
    expect(answer).toMatchObject({ status: 200, complete: false });
    await closed;
  });
});

describe("Http1Client: the pool", () => {
  it("carries many concurrent requests over at most maxSockets connections", async () => {
    const sink = await rawSink((req, socket) => {
      const id = /ce-id: (\d+)/.exec(req.head)?.[1] ?? "";
      setTimeout(
        () => socket.write(`HTTP/1.1 200 OK\r\nContent-Length: ${id.length}\r\n\r\n${id}`),
        1,
      );
    });
    const sinkClient = client({ maxSockets: 4 });
    const answers = await Promise.all(
      Array.from({ length: 200 }, (_, i) =>
        sinkClient.send(message(sink.url, { "ce-id": String(i) }), 10_000),
      ),
    );
    expect(answers.map((a) => Buffer.from(a.head).toString())).toEqual(
      answers.map((_, i) => String(i)),
    );
    expect(sink.connections()).toBe(4);
    expect(sink.closed()).toBe(0);
  });

  it("serves waiting requests first come, first served", async () => {
    const order: string[] = [];
    const sink = await rawSink((req, socket) => {
      order.push(/ce-id: (\w+)/.exec(req.head)?.[1] ?? "");
      setTimeout(() => socket.write(OK), 5);
    });
    const sinkClient = client({ maxSockets: 1 });
    const ids = ["a", "b", "c", "d", "e"];
    await Promise.all(ids.map((id) => sinkClient.send(message(sink.url, { "ce-id": id }), 5_000)));
    expect(order).toEqual(ids);
    expect(sink.connections()).toBe(1);
  });

  it("reuses the most recently freed connection first (LIFO)", async () => {
    const sink = await rawSink((req, socket) => {
      // The first request on connection 0 is answered last.
      const delay = req.connection === 0 && req.index === 0 ? 30 : 0;
      setTimeout(() => socket.write(OK), delay);
    });
    const sinkClient = client();
    await Promise.all([
      sinkClient.send(message(sink.url), 5_000),
      sinkClient.send(message(sink.url), 5_000),
    ]);
    await sinkClient.send(message(sink.url), 5_000);
    expect(sink.requests.map((r) => r.connection)).toEqual([0, 1, 0]);
  });

  it("times out a request waiting for a connection, and the pool goes on", async () => {
    let hold = true;
    const sink = await rawSink((_, socket) => {
      if (!hold) socket.write(OK);
    });
    const sinkClient = client({ maxSockets: 1 });
    const stuck = rejection(sinkClient.send(message(sink.url), 200));
    const waiting = await rejection(sinkClient.send(message(sink.url), 50));
    expect(waiting).toBeInstanceOf(SinkTimeout);
    expect(await stuck).toBeInstanceOf(SinkTimeout);
    hold = false;
    expect((await sinkClient.send(message(sink.url), 5_000)).status).toBe(200);
    // The one waiting never went out.
    expect(sink.requests).toHaveLength(2);
  });

  it("never sends on an idle connection past its deadline, even before the sweep closed it", async () => {
    const sink = await rawSink((_, socket) => socket.write(OK));
    const sinkClient = client({ idleTimeoutMs: 100 });
    await sinkClient.send(message(sink.url), 5_000);
    // Blocks the event loop past the deadline, so the idle sweep cannot run first.
    const until = performance.now() + 120;
    while (performance.now() < until);
    await sinkClient.send(message(sink.url), 5_000);
    await sinkClient.send(message(sink.url), 5_000);
    expect(sink.requests.map((r) => [r.connection, r.index])).toEqual([
      [0, 0],
      [1, 0],
      [1, 1],
    ]);
  });

  it("closes an idle connection by the sink's Keep-Alive hint (n - 1 s)", async () => {
    const sink = await rawSink((_, socket) =>
      socket.write("HTTP/1.1 204 No Content\r\nKeep-Alive: timeout=2\r\n\r\n"),
    );
    const sinkClient = client({ idleTimeoutMs: 60_000 });
    await sinkClient.send(message(sink.url), 5_000);
    const start = performance.now();
    await sink.nextClose();
    const idle = performance.now() - start;
    expect(idle).toBeGreaterThan(900);
    expect(idle).toBeLessThan(1_900);
  });

  it("drops idle connections the sink closes or resets, without an unhandled error", async () => {
    const sink = await rawSink((req, socket) => {
      socket.write(OK);
      if (req.connection === 0) setTimeout(() => socket.end(), 5);
      if (req.connection === 1) setTimeout(() => socket.resetAndDestroy(), 5);
    });
    const sinkClient = client();
    for (let i = 0; i < 3; i++) {
      const closed = sink.nextClose();
      expect((await sinkClient.send(message(sink.url), 5_000)).status).toBe(200);
      if (i < 2) await closed;
    }
    expect(sink.connections()).toBe(3);
  });

  it.each([
    ["closes", (socket: Socket) => socket.end()],
    ["resets", (socket: Socket) => socket.resetAndDestroy()],
  ])(
    "sends once more on a new connection when the sink %s a reused one as the request arrives",
    async (_, close) => {
      const sink = await rawSink((req, socket) => {
        if (req.connection === 0 && req.index === 1) close(socket);
        else socket.write(OK);
      });
      const sinkClient = client();
      await sinkClient.send(message(sink.url), 5_000);
      expect((await sinkClient.send(message(sink.url), 5_000)).status).toBe(200);
      expect(sink.connections()).toBe(2);
      expect(sink.requests.map((r) => [r.connection, r.index])).toEqual([
        [0, 0],
        [0, 1],
        [1, 0],
      ]);
    },
  );

  it("does not send again once a response byte arrived", async () => {
    const sink = await rawSink((req, socket) => {
      if (req.index === 0 && req.connection === 0) socket.write(OK);
      else if (req.connection === 0) socket.end("HTTP/1.1 2");
      else socket.end();
    });
    const sinkClient = client();
    await sinkClient.send(message(sink.url), 5_000);
    const err = await rejection(sinkClient.send(message(sink.url), 5_000));
    expect((err as Error).message).toBe("fetch failed: socket hang up");
    expect(sink.requests).toHaveLength(2);
  });

  it("lets go of the exchanges it served while its queue never empties", async () => {
    v8.setFlagsFromString("--expose-gc");
    const gc = vm.runInNewContext("gc") as () => void;
    const sink = await rawSink((_, socket) => setImmediate(() => socket.write(OK)));
    const http1 = createHttp1Client({ maxSockets: 1, idleTimeoutMs: 1_000 });
    const origin = { host: "127.0.0.1", port: sink.port, key: `127.0.0.1:${sink.port}` };
    const request = Buffer.from("POST /hook HTTP/1.1\r\nhost: x\r\ncontent-length: 0\r\n\r\n");
    const sent: WeakRef<Http1Exchange>[] = [];
    const served: number[] = [];
    await new Promise<void>((resolve, reject) => {
      class Probe extends Http1Exchange {
        readonly index = sent.length;
        onHead() {
          served.push(this.index);
        }
        onBody() {}
        onEnd() {
          // A sink slower than the load: one more waits behind those waiting, so the queue never
          // drains (a backlog for a slow sink with more deliveries in flight than maxSockets).
          if (sent.length < 2_200) http1.send(origin, probe());
          else resolve();
        }
        onError(err: Error) {
          reject(err);
        }
      }
      const probe = () => {
        const exchange = new Probe(request, false);
        sent.push(new WeakRef(exchange));
        return exchange;
      };
      for (let i = 0; i < 3; i++) http1.send(origin, probe());
    });
    await new Promise(setImmediate);
    gc();
    const kept = sent.slice(0, 2_150).filter((ref) => ref.deref() !== undefined);
    http1.close();
    expect(kept).toHaveLength(0);
    // First come, first served, across the queue's compactions.
    expect(served).toEqual(served.map((_, i) => i));
  });

  it("close() fails requests in flight and waiting with a SinkNetworkError", async () => {
    let arrived!: () => void;
    const received = new Promise<void>((resolve) => {
      arrived = resolve;
    });
    const sink = await rawSink(() => arrived());
    const sinkClient = client({ maxSockets: 1 });
    const inFlight = rejection(sinkClient.send(message(sink.url), 5_000));
    const waiting = rejection(sinkClient.send(message(sink.url), 5_000));
    await received;
    sinkClient.close();
    for (const err of [await inFlight, await waiting]) {
      expect(err).toBeInstanceOf(SinkNetworkError);
      expect((err as Error).message).toBe("fetch failed: socket hang up");
    }
  });
});
