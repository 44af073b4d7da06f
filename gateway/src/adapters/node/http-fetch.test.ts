import { once } from "node:events";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { createNodeFetch, type NodeFetch } from "./http-fetch.js";

interface Received {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingMessage["headers"];
  readonly body: Buffer;
}

/** A real server on 127.0.0.1 that records requests and counts connections. */
async function startServer(
  handler: (req: IncomingMessage, res: ServerResponse, body: Buffer) => void,
) {
  const received: Received[] = [];
  let connections = 0;
  let closedConnections = 0;
  const onClose: (() => void)[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const body = Buffer.concat(chunks);
      received.push({ method: req.method ?? "", url: req.url ?? "", headers: req.headers, body });
      handler(req, res, body);
    });
  });
  server.on("connection", (socket) => {
    connections++;
    socket.on("close", () => {
      closedConnections++;
      for (const resolve of onClose.splice(0)) resolve();
    });
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as AddressInfo;
  servers.push(server);
  return {
    url: `http://127.0.0.1:${port}`,
    received,
    connections: () => connections,
    closedConnections: () => closedConnections,
    /** Resolves when the server next sees a connection close. */
    nextClose: () => new Promise<void>((resolve) => onClose.push(resolve)),
  };
}

const servers: ReturnType<typeof createServer>[] = [];
const fetches: NodeFetch[] = [];
function nodeFetch(options?: Parameters<typeof createNodeFetch>[0]): NodeFetch {
  const f = createNodeFetch(options);
  fetches.push(f);
  return f;
}

afterEach(async () => {
  for (const f of fetches.splice(0)) f.close();
  await Promise.all(
    servers.splice(0).map((server) => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(resolve));
    }),
  );
});

/** Resolves with the next request the server sees, before it answers. */
function deferred<T>() {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

describe("createNodeFetch", () => {
  it("sends method, path, query, headers and body, and returns status, headers and body", async () => {
    const server = await startServer((_req, res, body) => {
      res.writeHead(201, "Made", { "x-echo": "yes", "set-cookie": ["a=1", "b=2"] });
      res.end(`got ${body.toString()}`);
    });
    const fetch = nodeFetch();
    const response = await fetch(
      new Request(`${server.url}/hook?x=1&y=%20`, {
        method: "POST",
        headers: { "x-team": "media", "ce-id": "1", "content-type": "text/plain" },
        body: "hello",
      }),
    );
    expect(response.status).toBe(201);
    expect(response.statusText).toBe("Made");
    expect(response.headers.get("x-echo")).toBe("yes");
    expect(response.headers.getSetCookie()).toEqual(["a=1", "b=2"]);
    expect(await response.text()).toBe("got hello");
    const [request] = server.received;
    expect(request?.method).toBe("POST");
    expect(request?.url).toBe("/hook?x=1&y=%20");
    expect(request?.headers).toMatchObject({
      "x-team": "media",
      "ce-id": "1",
      "content-type": "text/plain",
      "content-length": "5",
    });
    expect(request?.headers["transfer-encoding"]).toBeUndefined();
    expect(request?.body.toString()).toBe("hello");
  });

  it("sends a DeliveryMessage directly with sendMessage, leaving the message untouched", async () => {
    const server = await startServer((_req, res, body) => res.end(`got ${body.toString()}`));
    const fetch = nodeFetch();
    const message = {
      url: `${server.url}/hook?x=1`,
      method: "POST",
      headers: { "content-type": "application/cloudevents+json; charset=utf-8", "x-team": "media" },
      body: '{"data":"héllo €"}',
    } as const;
    const response = await fetch.sendMessage(message, new AbortController().signal);
    expect(response.status).toBe(200);
    expect(await response.text()).toBe('got {"data":"héllo €"}');
    const [request] = server.received;
    expect(request?.url).toBe("/hook?x=1");
    expect(request?.headers).toMatchObject({
      "content-type": "application/cloudevents+json; charset=utf-8",
      "x-team": "media",
      "content-length": String(Buffer.byteLength('{"data":"héllo €"}')),
    });
    expect(message.headers).toEqual({
      "content-type": "application/cloudevents+json; charset=utf-8",
      "x-team": "media",
    });
  });

  it("sendMessage rejects with the signal's reason when aborted", async () => {
    const arrived = deferred<void>();
    const server = await startServer(() => arrived.resolve());
    const fetch = nodeFetch();
    const controller = new AbortController();
    const message = { url: server.url, method: "POST", headers: {}, body: undefined } as const;
    const pending = fetch.sendMessage(message, controller.signal);
    await arrived.promise;
    const reason = new Error("stop");
    controller.abort(reason);
    await expect(pending).rejects.toBe(reason);
  });

  it("sends binary bodies byte for byte and streams large responses", async () => {
    const big = Buffer.alloc(1024 * 1024, 7);
    const server = await startServer((_req, res) => res.end(big));
    const fetch = nodeFetch();
    const sent = new Uint8Array([0, 1, 128, 255]);
    const response = await fetch(new Request(server.url, { method: "POST", body: sent }));
    expect(Buffer.from(await response.arrayBuffer()).equals(big)).toBe(true);
    expect(new Uint8Array(server.received[0]?.body ?? [])).toEqual(sent);
  });

  it("sends Content-Length 0 for a POST without body, and none for a GET", async () => {
    const server = await startServer((_req, res) => res.end());
    const fetch = nodeFetch();
    await (await fetch(new Request(server.url, { method: "POST" }))).text();
    await (await fetch(new Request(server.url))).text();
    expect(server.received.map((r) => r.headers["content-length"])).toEqual(["0", undefined]);
  });

  it("returns a null body for 204 and 304", async () => {
    const server = await startServer((req, res) =>
      res.writeHead(req.url === "/a" ? 204 : 304).end(),
    );
    const fetch = nodeFetch();
    const a = await fetch(new Request(`${server.url}/a`, { method: "POST", body: "x" }));
    const b = await fetch(new Request(`${server.url}/b`));
    expect([a.status, a.body, b.status, b.body]).toEqual([204, null, 304, null]);
  });

  it("never follows redirects", async () => {
    const server = await startServer((_req, res) =>
      res.writeHead(302, { location: "/else" }).end(),
    );
    const fetch = nodeFetch();
    const response = await fetch(new Request(server.url, { method: "POST", body: "x" }));
    expect(response.status).toBe(302);
    expect(response.headers.get("location")).toBe("/else");
    await response.body?.cancel();
    expect(server.received).toHaveLength(1);
  });

  it("reuses one keep-alive connection for sequential requests", async () => {
    const server = await startServer((_req, res) => res.end("ok"));
    const fetch = nodeFetch();
    for (let i = 0; i < 5; i++) {
      const response = await fetch(new Request(server.url, { method: "POST", body: String(i) }));
      expect(await response.text()).toBe("ok");
    }
    const empty = await fetch(new Request(server.url, { method: "POST" }));
    await empty.text();
    expect(server.received).toHaveLength(6);
    expect(server.connections()).toBe(1);
  });

  it("opens no more than maxSockets connections per origin", async () => {
    const waiting: ServerResponse[] = [];
    let answering = false;
    const twoArrived = deferred<void>();
    const server = await startServer((_req, res) => {
      if (answering) res.end("ok");
      else waiting.push(res);
      if (waiting.length === 2) twoArrived.resolve();
    });
    const fetch = nodeFetch({ maxSockets: 2 });
    const responses = Array.from({ length: 6 }, (_, i) =>
      fetch(new Request(server.url, { method: "POST", body: String(i) })).then((r) => r.text()),
    );
    await twoArrived.promise;
    expect(server.received).toHaveLength(2);
    // Now answer everything; the four queued requests reuse the two connections.
    answering = true;
    for (const res of waiting.splice(0)) res.end("ok");
    expect(await Promise.all(responses)).toEqual(Array(6).fill("ok"));
    expect(server.received).toHaveLength(6);
    expect(server.connections()).toBe(2);
  });

  it("rejects with the signal's reason when aborted before sending", async () => {
    const server = await startServer((_req, res) => res.end());
    const fetch = nodeFetch();
    const reason = new Error("stop");
    const request = new Request(server.url, { method: "POST", signal: AbortSignal.abort(reason) });
    await expect(fetch(request)).rejects.toBe(reason);
    expect(server.received).toHaveLength(0);
  });

  it("rejects with the signal's reason when aborted while waiting for the response", async () => {
    const arrived = deferred<void>();
    const server = await startServer(() => arrived.resolve());
    const fetch = nodeFetch();
    const controller = new AbortController();
    const pending = fetch(new Request(server.url, { method: "POST", signal: controller.signal }));
    await arrived.promise;
    const reason = new DOMException("timeout after 5ms", "TimeoutError");
    controller.abort(reason);
    await expect(pending).rejects.toBe(reason);
  });

  it("errors the body with the signal's reason when aborted while reading it", async () => {
    const server = await startServer((_req, res) => {
      res.writeHead(200);
      res.write("part");
    });
    const fetch = nodeFetch();
    const controller = new AbortController();
    const response = await fetch(new Request(server.url, { signal: controller.signal }));
    const reader = response.body!.getReader();
    expect(new TextDecoder().decode((await reader.read()).value)).toBe("part");
    const reason = new Error("stop");
    controller.abort(reason);
    await expect(reader.read()).rejects.toBe(reason);
  });

  it("errors the body when the connection drops mid-body", async () => {
    const server = await startServer((req, res) => {
      res.writeHead(200, { "content-length": "100" });
      res.write("part", () => req.socket.destroy());
    });
    const fetch = nodeFetch();
    const response = await fetch(new Request(server.url));
    await expect(response.text()).rejects.toThrow();
  });

  it("closes the connection when the body is cancelled", async () => {
    const server = await startServer((_req, res) => {
      res.writeHead(200);
      res.write("endless");
    });
    const fetch = nodeFetch();
    const response = await fetch(new Request(server.url));
    const closed = server.nextClose();
    await response.body?.cancel();
    await closed;
    expect(server.closedConnections()).toBe(1);
  });

  it("rejects like fetch, with TypeError and the cause, when the connection is refused", async () => {
    const server = createServer();
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    const { port } = server.address() as AddressInfo;
    await new Promise((resolve) => server.close(resolve));
    const fetch = nodeFetch();
    const error = await fetch(new Request(`http://127.0.0.1:${port}/`, { method: "POST" })).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(error).toBeInstanceOf(TypeError);
    expect((error as TypeError).message).toBe("fetch failed");
    expect(((error as TypeError).cause as NodeJS.ErrnoException).code).toBe("ECONNREFUSED");
  });

  it("rejects a status the Fetch standard has no Response for as a network error", async () => {
    const server = await startServer((_req, res) => res.writeHead(600).end("odd"));
    const fetch = nodeFetch();
    const error = await fetch(new Request(server.url)).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(error).toBeInstanceOf(TypeError);
    expect((error as TypeError).cause).toBeInstanceOf(RangeError);
  });

  it("rejects unsupported protocols as a network error", async () => {
    const fetch = nodeFetch();
    await expect(fetch(new Request("ftp://127.0.0.1/x"))).rejects.toThrow("fetch failed");
  });

  it("refuses a maxSockets that is not a positive integer", () => {
    expect(() => createNodeFetch({ maxSockets: 0 })).toThrow(TypeError);
    expect(() => createNodeFetch({ maxSockets: 1.5 })).toThrow(TypeError);
  });

  it("close() ends the pooled keep-alive connections", async () => {
    const server = await startServer((_req, res) => res.end("ok"));
    const fetch = createNodeFetch();
    await (await fetch(new Request(server.url))).text();
    expect(server.closedConnections()).toBe(0);
    const closed = server.nextClose();
    fetch.close();
    await closed;
    expect(server.connections()).toBe(1);
  });
});
