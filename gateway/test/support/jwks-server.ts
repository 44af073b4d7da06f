import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import type { JSONWebKeySet } from "jose";

/** A real JWKS endpoint on 127.0.0.1 whose answer tests change between requests. */
export interface JwksServer {
  /** The JWKS URL. */
  readonly url: string;
  /** How many requests it has answered. */
  readonly requests: number;
  /** What it serves from now on: a key set, or an HTTP status with no set. */
  serve(answer: JSONWebKeySet | number): void;
  /** Stops listening (connections are refused from now on). */
  close(): Promise<void>;
}

export async function startJwksServer(initial: JSONWebKeySet | number): Promise<JwksServer> {
  let answer = initial;
  let requests = 0;
  const server = createServer((req, res) => {
    requests += 1;
    req.resume();
    if (typeof answer === "number") {
      res.writeHead(answer).end();
      return;
    }
    res.writeHead(200, { "content-type": "application/jwk-set+json" }).end(JSON.stringify(answer));
  });
  await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok));
  let closed: Promise<void> | undefined;
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/.well-known/jwks.json`,
    get requests() {
      return requests;
    },
    serve(next) {
      answer = next;
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
