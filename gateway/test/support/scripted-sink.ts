import { createServer, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { Received } from "./recording-sink.js";

/** One programmed answer of a scripted sink. */
export interface Reply {
  readonly status: number;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string | Uint8Array;
  /** Never answer (until the sink closes): a sink past the delivery timeout. */
  readonly hang?: boolean;
}

/** A real HTTP sink on 127.0.0.1 that answers a programmed sequence and records each request. */
export interface ScriptedSink {
  /** The sink's URL, path `/hook`. */
  readonly url: string;
  readonly received: Received[];
  /** Resolves once `count` requests have arrived in total. */
  waitFor(count: number): Promise<Received[]>;
  close(): Promise<void>;
}

/**
 * Starts a sink that answers the n-th request with `script[n]`, and every request past the end
 * with the last reply (so `[{ status: 500 }]` always fails). For retry and timeout tests. A step
 * may be a function of the request (and its index) that makes the reply, e.g. a reply event.
 *
 * @example
 * const sink = await startScriptedSink([{ status: 503 }, { status: 503 }, { status: 200 }]);
 */
export async function startScriptedSink(
  script: readonly (Reply | ((request: Received, n: number) => Reply))[],
): Promise<ScriptedSink> {
  if (script.length === 0) throw new TypeError("startScriptedSink: the script needs a reply");
  const received: Received[] = [];
  const waiters: { count: number; resolve: (r: Received[]) => void }[] = [];
  const hanging: ServerResponse[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const step = script[Math.min(received.length, script.length - 1)] as
        | Reply
        | ((request: Received, n: number) => Reply);
      const request = { path: req.url ?? "", headers: req.headers, body: Buffer.concat(chunks) };
      const reply = typeof step === "function" ? step(request, received.length) : step;
      received.push(request);
      if (reply.hang === true) hanging.push(res);
      else res.writeHead(reply.status, reply.headers).end(reply.body);
      for (const w of waiters.filter((w) => received.length >= w.count)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(received);
      }
    });
  });
  await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`,
    received,
    waitFor(count) {
      if (received.length >= count) return Promise.resolve(received);
      return new Promise((resolve) => waiters.push({ count, resolve }));
    },
    close: () =>
      new Promise<void>((ok) => {
        for (const res of hanging) res.destroy();
        server.closeAllConnections();
        server.close(() => ok());
      }),
  };
}
