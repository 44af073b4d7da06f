import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import {
  createProducer,
  InvalidEvent,
  NetworkFailed,
  RequestRejected,
  TimedOut,
} from "../src/index.js";
import { createNodeFetch, type NodeFetch } from "../src/node/index.js";
import { type Received, type SinkServer, startSink } from "./sink-server.js";

// @herald/sdk/node's transport against real node:http servers on 127.0.0.1.
let server: SinkServer | undefined;
let nodeFetch: NodeFetch | undefined;
afterEach(async () => {
  nodeFetch?.close();
  nodeFetch = undefined;
  // This test's server is taken before the first await: a hook that outlives its timeout must
  // not close the server the next test has started meanwhile.
  const held = server;
  server = undefined;
  await held?.close();
});

const fresh = (options?: Parameters<typeof createNodeFetch>[0]) => {
  nodeFetch = createNodeFetch(options);
  return nodeFetch;
};

// Headers undici's fetch adds on its own; the Node transport sends none of them.
const FETCH_DEFAULTS = [
  "accept",
  "accept-encoding",
  "accept-language",
  "sec-fetch-mode",
  "user-agent",
  "connection",
  "host",
];

/** What a sink saw, without what differs per event (id, time) or per client. */
function wire(r: Received) {
  const { "ce-id": _id, "ce-time": _time, ...rest } = r.headers;
  const headers = Object.fromEntries(
    Object.entries(rest).filter(([name]) => !FETCH_DEFAULTS.includes(name)),
  );
  return { method: r.method, path: r.path, headers, body: r.body.toString("utf8") };
}

describe("createNodeFetch", () => {
  it("sends the producer's messages exactly as the global fetch does", async () => {
    server = await startSink(() => ({ status: 202 }));
    const event = {
      type: "com.example.order",
      subject: "Euro € 5",
      data: { order: 1, note: "ünïcode" },
      xcount: 3,
    };
    for (const fetch of [undefined, fresh()]) {
      for (const mode of ["binary", "structured"] as const) {
        const producer = createProducer({
          endpoint: `${server.url}/events`,
          source: "/orders",
          mode,
          ...(fetch ? { fetch } : {}),
        });
        await producer.send(event);
        await producer.send([event, event]);
      }
    }
    const seen = server.received.map(wire);
    expect(seen).toHaveLength(8);
    // Global fetch first, then the Node transport: the same four messages.
    expect(
      seen.slice(4).map((m) => ({ ...m, body: m.body.replace(/"(id|time)":"[^"]*"/g, "") })),
    ).toEqual(
      seen.slice(0, 4).map((m) => ({ ...m, body: m.body.replace(/"(id|time)":"[^"]*"/g, "") })),
    );
    expect(server.received[4]?.headers["content-length"]).toBe(
      String(server.received[4]?.body.length),
    );
  });

  it("gives status, headers and body as a Response; no body for 204", async () => {
    server = await startSink((r) =>
      r.path === "/empty"
        ? { status: 204 }
        : {
            status: 400,
            headers: { "content-type": "application/problem+json", "x-a": "1" },
            body: '{"code":"invalid_event","status":400,"detail":"type: bad"}',
          },
    );
    const fetch = fresh();
    const res = await fetch(`${server.url}/p`, { method: "POST", body: "x" });
    expect(res.status).toBe(400);
    expect(res.headers.get("x-a")).toBe("1");
    expect(await res.json()).toMatchObject({ code: "invalid_event" });
    const empty = await fetch(`${server.url}/empty`);
    expect(empty.status).toBe(204);
    expect(empty.body).toBeNull();
    // Through a producer: the problem becomes the SDK's typed error.
    const producer = createProducer({ endpoint: `${server.url}/p`, source: "/s", fetch });
    await expect(producer.send({ type: "t" })).rejects.toBeInstanceOf(InvalidEvent);
  });

  it("keeps connections alive: sequential requests share one", async () => {
    server = await startSink(() => ({ status: 202 }));
    const producer = createProducer({ endpoint: server.url, source: "/s", fetch: fresh() });
    for (let i = 0; i < 5; i++) await producer.send({ type: "t" });
    expect(server.received).toHaveLength(5);
    expect(server.connections()).toBe(1);
  });

  it("never follows a redirect: the producer's RequestRejected", async () => {
    server = await startSink((r) =>
      r.path === "/moved" ? { status: 302, headers: { location: "/elsewhere" } } : { status: 202 },
    );
    const fetch = fresh();
    expect((await fetch(`${server.url}/moved`, { method: "POST", body: "x" })).status).toBe(302);
    const producer = createProducer({
      endpoint: `${server.url}/moved`,
      source: "/s",
      fetch,
      retry: false,
    });
    await expect(producer.send({ type: "t" })).rejects.toBeInstanceOf(RequestRejected);
    expect(server.at("/elsewhere")).toHaveLength(0);
  });

  it("rejects with the signal's reason when it aborts (a timeout is TimedOut for the producer)", async () => {
    const hang = createServer(() => {
      // Never answers.
    });
    await new Promise<void>((ok) => hang.listen(0, "127.0.0.1", ok));
    const url = `http://127.0.0.1:${(hang.address() as AddressInfo).port}/events`;
    try {
      const fetch = fresh();
      const err = await fetch(url, { method: "POST", signal: AbortSignal.timeout(50) }).catch(
        (e: unknown) => e,
      );
      expect((err as Error).name).toBe("TimeoutError");
      const producer = createProducer({
        endpoint: url,
        source: "/s",
        fetch,
        timeout: 80,
        retry: false,
      });
      await expect(producer.send({ type: "t" })).rejects.toBeInstanceOf(TimedOut);
      const aborted = new AbortController();
      aborted.abort(new Error("stop"));
      await expect(fetch(url, { signal: aborted.signal })).rejects.toThrow("stop");
    } finally {
      hang.closeAllConnections();
      await new Promise((ok) => hang.close(ok));
    }
  });

  it("fails like fetch when nothing listens: TypeError('fetch failed'), NetworkFailed", async () => {
    const probe = createServer();
    await new Promise<void>((ok) => probe.listen(0, "127.0.0.1", ok));
    const port = (probe.address() as AddressInfo).port;
    await new Promise((ok) => probe.close(ok));
    const fetch = fresh();
    const err = await fetch(`http://127.0.0.1:${port}/`).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TypeError);
    expect((err as Error).message).toBe("fetch failed");
    expect(((err as Error).cause as NodeJS.ErrnoException).code).toBe("ECONNREFUSED");
    const producer = createProducer({
      endpoint: `http://127.0.0.1:${port}/`,
      source: "/s",
      fetch,
      retry: false,
    });
    await expect(producer.send({ type: "t" })).rejects.toBeInstanceOf(NetworkFailed);
    await expect(fetch("ftp://127.0.0.1/")).rejects.toThrow(/unsupported protocol/);
  });

  it("rejects when the answer is cut off mid-body, instead of waiting for ever", async () => {
    const cut = createServer((_req, res) => {
      res.writeHead(200, { "content-length": "100" });
      res.write("partial");
      setTimeout(() => res.destroy(), 20);
    });
    await new Promise<void>((ok) => cut.listen(0, "127.0.0.1", ok));
    try {
      const port = (cut.address() as AddressInfo).port;
      const err = await fresh()(`http://127.0.0.1:${port}/`, { method: "POST", body: "x" }).catch(
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(TypeError);
      expect((err as Error).message).toMatch(/^fetch failed/);
    } finally {
      cut.closeAllConnections();
      await new Promise((ok) => cut.close(ok));
    }
  });

  it("keeps at most maxAnswerBytes of an answer", async () => {
    server = await startSink(() => ({ status: 500, body: "y".repeat(5000) }));
    const res = await fresh({ maxAnswerBytes: 100 })(server.url, { method: "POST" });
    expect(res.status).toBe(500);
    expect(await res.text()).toBe("y".repeat(100));
  });

  it("refuses bad options with a TypeError naming them", () => {
    expect(() => createNodeFetch({ maxSockets: 0 })).toThrow(/maxSockets/);
    expect(() => createNodeFetch({ idleTimeoutMs: 1.5 })).toThrow(/idleTimeoutMs/);
    expect(() => createNodeFetch({ maxAnswerBytes: -1 })).toThrow(/maxAnswerBytes/);
  });
});
