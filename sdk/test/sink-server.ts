import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";

/** One request a sink received, as it came off the wire. */
export interface Received {
  readonly method: string;
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
}

/** How the sink answers a request: status, headers, body (default 204). */
export type Answer = (
  r: Received,
  index: number,
) => {
  status: number;
  headers?: Record<string, string>;
  body?: string;
};

/** A node:http server on 127.0.0.1 that records every request. */
export interface SinkServer {
  readonly url: string;
  readonly received: Received[];
  /** Resolves once `count` requests (in total) have arrived. */
  waitFor(count: number): Promise<Received[]>;
  /** Resolves once `done(received)` holds (checked on every arrival). */
  until(done: (received: readonly Received[]) => boolean): Promise<Received[]>;
  /** Requests at `path`. */
  at(path: string): Received[];
  /** The distinct TCP connections seen so far. */
  readonly connections: () => number;
  close(): Promise<void>;
}

export async function startSink(answer: Answer = () => ({ status: 204 })): Promise<SinkServer> {
  const received: Received[] = [];
  const waiters: { done: (r: readonly Received[]) => boolean; resolve: (r: Received[]) => void }[] =
    [];
  let connections = 0;
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const r = {
        method: req.method ?? "",
        path: req.url ?? "",
        headers: req.headers,
        body: Buffer.concat(chunks),
      };
      received.push(r);
      const a = answer(r, received.length - 1);
      res.writeHead(a.status, a.headers).end(a.body);
      for (const w of waiters.filter((w) => w.done(received))) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(received);
      }
    });
  });
  server.on("connection", () => {
    connections++;
  });
  function until(done: (r: readonly Received[]) => boolean): Promise<Received[]> {
    return done(received)
      ? Promise.resolve(received)
      : new Promise((resolve) => waiters.push({ done, resolve }));
  }
  await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    received,
    waitFor: (count) => until((r) => r.length >= count),
    until,
    at: (path) => received.filter((r) => r.path === path),
    connections: () => connections,
    close: () =>
      new Promise<void>((ok) => {
        server.closeAllConnections();
        server.close(() => ok());
      }),
  };
}

/** The Web `Request` a sink handler would see for a received delivery. */
export function toRequest(r: Received, base = "http://sink.test"): Request {
  const headers = new Headers();
  for (const [name, value] of Object.entries(r.headers)) {
    if (typeof value === "string") headers.set(name, value);
  }
  return new Request(new URL(r.path, base), {
    method: r.method,
    headers,
    body: new Uint8Array(r.body),
  });
}
