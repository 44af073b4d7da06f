import type { Server } from "node:http";
import { connect } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { rawExchange, statusOf } from "../../../test/support/raw-exchange.js";
import {
  CLIENT_TIMEOUTS,
  closeAnswersInFlight,
  createNodeServer,
  type NodeServerOptions,
} from "./create-node-server.js";

let server: Server | undefined;
afterEach(async () => {
  // This test's resources are taken before the first await: a hook that outlives its timeout
  // must not stop or close what the next test has started meanwhile.
  const held = server;
  server = undefined;
  held?.closeAllConnections();
  await new Promise<void>((done) => (held ? held.close(() => done()) : done()));
});

/** Sends `bytes` and then nothing; resolves with the status line's code and the time it took. */
async function stall(port: number, bytes: string): Promise<{ status: number; ms: number }> {
  const started = performance.now();
  const text = await rawExchange(port, bytes);
  return { status: statusOf(text), ms: performance.now() - started };
}

async function listen(timeouts: NodeServerOptions["timeouts"]): Promise<number> {
  // The handler waits for the whole body, as the gateway does.
  server = createNodeServer(
    (req, res) => {
      req.resume();
      req.on("end", () => res.end());
    },
    timeouts === undefined ? {} : { timeouts },
  );
  await new Promise<void>((ok) => server?.listen(0, "127.0.0.1", ok));
  return (server.address() as { port: number }).port;
}

describe("the herald serve HTTP server", () => {
  it("has the documented limits: headers 20 s, the whole request 60 s, checked every second", async () => {
    expect(CLIENT_TIMEOUTS).toEqual({ headers: 20_000, request: 60_000, checkEvery: 1_000 });
    await listen({});
    expect(server?.headersTimeout).toBe(20_000);
    expect(server?.requestTimeout).toBe(60_000);
    expect(server?.listenerCount("clientError")).toBe(1);
  });

  // Shorter limits, the real checking interval: Node's default (30 s) made a limit fire up to
  // 30 s late, so a 60 s request limit answered after about 81 s.
  // A client may close its sending side once the request is out (shutdown(SHUT_WR): `nc -N`,
  // some HTTP/1.0 clients and proxies). Node then ended the connection at once, so an answer
  // that took a moment (a token to verify, a body to store) was never sent.
  it("still answers a request whose client half-closed after sending it", async () => {
    server = createNodeServer((req, res) => {
      req.resume();
      req.on("end", () => setTimeout(() => res.end("late"), 100));
    });
    await new Promise<void>((ok) => server?.listen(0, "127.0.0.1", ok));
    const port = (server.address() as { port: number }).port;
    const text = await rawExchange(
      port,
      "POST /events HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nhi",
      { halfClose: true },
    );
    expect(statusOf(text)).toBe(200);
    expect(text.endsWith("late")).toBe(true);
  });

  it("answers 408 for a body that stops arriving within about a second of the request limit", async () => {
    const port = await listen({ headers: 300, request: 500 });
    const answer = await stall(
      port,
      "POST /events HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nhello",
    );
    expect(answer.status).toBe(408);
    expect(answer.ms).toBeGreaterThanOrEqual(450);
    expect(answer.ms).toBeLessThan(500 + CLIENT_TIMEOUTS.checkEvery + 500);
  });

  it("answers 408 for headers that stop arriving within about a second of the headers limit", async () => {
    const port = await listen({ headers: 300, request: 5_000 });
    const answer = await stall(port, "POST /events HTTP/1.1\r\nHost: x\r\n");
    expect(answer.status).toBe(408);
    expect(answer.ms).toBeLessThan(300 + CLIENT_TIMEOUTS.checkEvery + 500);
  });
});

/** Sends `bytes` and reads until the server closes; resolves with the status and the body. */
async function exchange(port: number, bytes: string): Promise<{ status: number; body: string }> {
  const [head = "", body = ""] = (await rawExchange(port, bytes)).split("\r\n\r\n", 2);
  return { status: statusOf(head), body };
}

describe("the Host header (RFC 9112 3.2)", () => {
  const request = (lines: string) =>
    `POST /events HTTP/1.1\r\n${lines}Content-Length: 0\r\nConnection: close\r\n\r\n`;

  it.each([
    ["an HTTP/1.1 request without one", request("")],
    ["two Host lines", request("Host: a\r\nHost: b\r\n")],
    ["an invalid value", request("Host: a b\r\n")],
  ])("refuses %s with a 400 problem document", async (_, bytes) => {
    const port = await listen({});
    const res = await exchange(port, bytes);
    expect(res.status).toBe(400);
    expect(JSON.parse(res.body)).toMatchObject({ code: "malformed_request" });
    expect(JSON.parse(res.body).detail).toContain("Host");
  });

  it.each([
    ["a name and a port", request("Host: gw.example:8080\r\n")],
    ["an IPv6 literal", request("Host: [::1]:8080\r\n")],
    ["an empty value", request("Host:\r\n")],
    ["HTTP/1.0 without one", "GET /healthz HTTP/1.0\r\n\r\n"],
  ])("serves %s", async (_, bytes) => {
    const port = await listen({});
    const res = await exchange(port, bytes);
    expect(res.status).toBe(200);
  });
});

// Node's parser lets a request line ending HTTP/2.0 through (HTTP/3.7 it refuses itself); no
// HTTP/2 request looks like that, so it is refused too, not served as if it were HTTP/1.1.
it.each([
  ["HTTP/2.0", "POST /events HTTP/2.0\r\nHost: gw\r\nContent-Length: 0\r\n\r\n"],
  ["HTTP/3.7", "GET /healthz HTTP/3.7\r\nHost: gw\r\n\r\n"],
  ["HTTP/1.2", "POST /events HTTP/1.2\r\nHost: gw\r\nContent-Length: 0\r\n\r\n"],
])("refuses a %s request line with a 400 problem document naming it", async (version, bytes) => {
  const port = await listen({});
  const res = await exchange(port, bytes);
  expect(res.status).toBe(400);
  const problem = JSON.parse(res.body);
  expect(problem).toMatchObject({ code: "malformed_request" });
  expect(problem.detail).toContain(`${version} is not spoken here`);
  expect(problem.detail).toContain("send HTTP/1.1");
});

// RFC 9110 10.1.1: a server MAY answer 417 to an expectation other than 100-continue; Node did,
// with a bare status line. It is ignored instead, as the request is complete without it.
it("serves a request with an Expect other than 100-continue rather than a bare 417", async () => {
  const port = await listen({});
  const res = await exchange(
    port,
    "POST /events HTTP/1.1\r\nHost: gw\r\nExpect: something-else\r\nContent-Length: 2\r\nConnection: close\r\n\r\nhi",
  );
  expect(res.status).toBe(200);
});

// Node keeps the first 2000 header lines by default and silently drops the rest: a binary-mode
// event lost the attributes (and Content-Type) sent after them, and was accepted all the same.
it("hands the listener every header line, not only the first 2000", async () => {
  server = createNodeServer((req, res) => {
    res.end(
      `${req.rawHeaders.length / 2} ${req.headers["ce-important"]} ${req.headers["content-type"]}`,
    );
  });
  await new Promise<void>((ok) => server?.listen(0, "127.0.0.1", ok));
  const { port } = server.address() as { port: number };
  const res = await exchange(
    port,
    `POST /events HTTP/1.1\r\nHost: gw\r\n${"x:\r\n".repeat(2000)}ce-important: yes\r\n` +
      "Content-Type: text/plain\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
  );
  expect(res.status).toBe(200);
  expect(res.body).toBe("2005 yes text/plain");
});

// RFC 9110 9.3.6: CONNECT asks for a tunnel. With no `connect` listener node:http dropped the
// connection without an answer.
it("answers a CONNECT with a 405 problem document and closes", async () => {
  const port = await listen({});
  const res = await exchange(port, "CONNECT 127.0.0.1:9 HTTP/1.1\r\nHost: 127.0.0.1:9\r\n\r\n");
  expect(res.status).toBe(405);
  expect(JSON.parse(res.body)).toMatchObject({ code: "method_not_allowed", status: 405 });
});

// RFC 9112 6.1: an HTTP/1.0 message with Transfer-Encoding has faulty framing; the connection
// closes after its answer. Node kept it for the next request when the client said keep-alive.
it("closes the connection after an HTTP/1.0 request with Transfer-Encoding", async () => {
  // With a Content-Length, as the gateway's answers have: without one, an HTTP/1.0 answer closes.
  server = createNodeServer((req, res) => {
    req.resume();
    req.on("end", () => res.writeHead(200, { "content-length": "0" }).end());
  });
  await new Promise<void>((ok) => server?.listen(0, "127.0.0.1", ok));
  const { port } = server.address() as { port: number };
  const text = await rawExchange(
    port,
    "POST /events HTTP/1.0\r\nConnection: keep-alive\r\nTransfer-Encoding: chunked\r\n\r\n" +
      "2\r\nhi\r\n0\r\n\r\nGET /healthz HTTP/1.1\r\nHost: gw\r\n\r\n",
  );
  expect(text.match(/^HTTP\/1\.1 \d{3}/gm)).toEqual(["HTTP/1.1 200"]);
  expect(text.toLowerCase()).toContain("connection: close");
});

// RFC 9110 7.8: a server may ignore Upgrade. node:http's parser stops at a request asking for one
// and dropped the rest of that read when no `upgrade` listener took the socket: a request
// pipelined behind it got no answer, and the connection idled until the keep-alive timeout.
it("closes the connection after a request asking for an Upgrade (h2c, websocket) it ignores", async () => {
  const handled: string[] = [];
  server = createNodeServer((req, res) => {
    handled.push(`${req.method} ${req.url}`);
    req.resume();
    req.on("end", () => res.writeHead(200, { "content-length": "0" }).end());
  });
  await new Promise<void>((ok) => server?.listen(0, "127.0.0.1", ok));
  const { port } = server.address() as { port: number };
  for (const upgrade of ["websocket", "h2c"]) {
    handled.length = 0;
    const text = await rawExchange(
      port,
      `GET /a HTTP/1.1\r\nHost: gw\r\nConnection: keep-alive, Upgrade\r\nUpgrade: ${upgrade}\r\n\r\n` +
        "POST /events HTTP/1.1\r\nHost: gw\r\nContent-Length: 2\r\n\r\n{}",
    );
    expect(text.match(/^HTTP\/1\.1 \d{3}/gm)).toEqual(["HTTP/1.1 200"]);
    expect(text.toLowerCase()).toContain("connection: close");
    expect(handled).toEqual(["GET /a"]);
  }
});

describe("answers during a shutdown", () => {
  it("closes the connection of a request taken before the shutdown and answered during it", async () => {
    let shuttingDown = false;
    let answer: () => void = () => {};
    const taken = new Promise<void>((ok) => {
      server = createNodeServer(
        (req, res) => {
          req.resume();
          req.on("end", () => {
            answer = () => res.writeHead(202, { "content-length": "0" }).end();
            ok();
          });
        },
        { closing: () => shuttingDown },
      );
    });
    await new Promise<void>((ok) => server?.listen(0, "127.0.0.1", ok));
    const port = ((server as Server).address() as { port: number }).port;
    // Keep-alive: the server closes the connection only if its answer says so.
    const text = rawExchange(port, "POST /events HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n");
    await taken;
    shuttingDown = true;
    closeAnswersInFlight(server as Server);
    answer();
    const head = (await text).toLowerCase();
    expect(statusOf(head)).toBe(202);
    expect(head).toContain("connection: close");
    expect(head).not.toContain("keep-alive");
  });

  it("keeps the connection of a request answered while no shutdown is under way", async () => {
    server = createNodeServer((_req, res) => res.writeHead(204).end(), { closing: () => false });
    await new Promise<void>((ok) => server?.listen(0, "127.0.0.1", ok));
    const port = ((server as Server).address() as { port: number }).port;
    const socket = connect(port, "127.0.0.1");
    const head = await new Promise<string>((ok) => {
      socket.once("data", (chunk) => ok(chunk.toString("latin1").toLowerCase()));
      socket.write("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
    });
    socket.destroy();
    expect(head).toContain("connection: keep-alive");
  });
});
