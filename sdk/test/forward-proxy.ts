import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import type { Received } from "./sink-server.js";

/** What the proxy does with one request: pass it on, or pass it on and then lie about the answer. */
export type ProxyAction =
  | { readonly kind: "forward" }
  | {
      readonly kind: "forward-then";
      readonly status: number;
      readonly headers?: Record<string, string>;
    }
  | { readonly kind: "answer"; readonly status: number; readonly headers?: Record<string, string> }
  /** Pass it on, then reset the client's connection without an answer. */
  | { readonly kind: "forward-then-reset" };

/** A recording HTTP proxy on 127.0.0.1 in front of a real gateway. */
export interface ForwardProxy {
  /** The proxy's URL with the target's path, e.g. `http://127.0.0.1:P/events`. */
  readonly url: string;
  readonly requests: Received[];
  /** What the gateway answered to each forwarded request, in order. */
  readonly upstreamStatuses: number[];
  readonly connections: () => number;
  close(): Promise<void>;
}

/**
 * Forwards every request to `target` (same path) and records it; `action` can make it answer
 * differently to the client after forwarding (a lost 202: the gateway stored the event but the
 * producer never heard) or without forwarding at all.
 */
export async function startProxy(
  target: string,
  action: (index: number) => ProxyAction = () => ({ kind: "forward" }),
): Promise<ForwardProxy> {
  const targetUrl = new URL(target);
  const requests: Received[] = [];
  const upstreamStatuses: number[] = [];
  let connections = 0;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", async () => {
      const r = {
        method: req.method ?? "",
        path: req.url ?? "",
        headers: req.headers,
        body: Buffer.concat(chunks),
      };
      const index = requests.push(r) - 1;
      const act = action(index);
      if (act.kind === "answer") {
        res.writeHead(act.status, act.headers).end();
        return;
      }
      const headers = new Headers();
      for (const [name, value] of Object.entries(req.headers)) {
        if (typeof value === "string" && name !== "host" && name !== "connection") {
          headers.set(name, value);
        }
      }
      const upstream = await fetch(new URL(r.path, targetUrl), {
        method: r.method,
        headers,
        body: r.body.length > 0 ? r.body : null,
      });
      const text = await upstream.text();
      upstreamStatuses.push(upstream.status);
      if (act.kind === "forward-then-reset") {
        res.socket?.resetAndDestroy();
        return;
      }
      if (act.kind === "forward-then") {
        res.writeHead(act.status, act.headers).end();
        return;
      }
      const out: Record<string, string> = {};
      upstream.headers.forEach((value, name) => {
        if (name !== "content-length" && name !== "transfer-encoding" && name !== "connection") {
          out[name] = value;
        }
      });
      res.writeHead(upstream.status, out).end(text);
    });
  });
  server.on("connection", () => {
    connections++;
  });
  await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}${targetUrl.pathname}`,
    requests,
    upstreamStatuses,
    connections: () => connections,
    close: () =>
      new Promise<void>((ok) => {
        server.closeAllConnections();
        server.close(() => ok());
      }),
  };
}
