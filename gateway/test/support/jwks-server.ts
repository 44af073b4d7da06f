import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import type { JSONWebKeySet } from "jose";

/** A real JWKS endpoint on 127.0.0.1 whose answer tests change between requests. */
export interface JwksServer {
  /** The JWKS URL. */
  readonly url: string;
  /** How many requests it has answered. */
  readonly requests: number;
  /**
   * What it serves from now on: a key set, or an HTTP status with no set, with these response
   * headers (e.g. `cache-control`; none by default).
   */
  serve(answer: JSONWebKeySet | number, headers?: Record<string, string>): void;
  /** Resolves once the answer to its `count`th request is sent (at once if it was). */
  answered(count: number): Promise<void>;
  /** Stops listening (connections are refused from now on). */
  close(): Promise<void>;
}

export async function startJwksServer(
  initial: JSONWebKeySet | number,
  initialHeaders: Record<string, string> = {},
): Promise<JwksServer> {
  let answer = initial;
  let headers = initialHeaders;
  let requests = 0;
  let sent = 0;
  const waiting: { count: number; resolve: () => void }[] = [];
  const server = createServer((req, res) => {
    requests += 1;
    const count = requests;
    req.resume();
    // Waiters learn of a request once its answer is sent.
    res.on("finish", () => {
      sent = Math.max(sent, count);
      for (const wait of waiting.filter((w) => w.count <= count)) {
        waiting.splice(waiting.indexOf(wait), 1);
        wait.resolve();
      }
    });
    if (typeof answer === "number") {
      res.writeHead(answer, headers).end();
      return;
    }
    res
      .writeHead(200, { "content-type": "application/jwk-set+json", ...headers })
      .end(JSON.stringify(answer));
  });
  await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok));
  let closed: Promise<void> | undefined;
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/.well-known/jwks.json`,
    get requests() {
      return requests;
    },
    serve(next, nextHeaders = {}) {
      answer = next;
      headers = nextHeaders;
    },
    answered(count) {
      if (sent >= count) return Promise.resolve();
      return new Promise<void>((resolve) => waiting.push({ count, resolve }));
    },
    close() {
      closed ??= new Promise<void>((ok) => {
        server.closeAllConnections();
        server.close(() => ok());
      });
      return closed;
    },
  };
}
