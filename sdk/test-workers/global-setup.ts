import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import type { TestProject } from "vitest/node";
import { startHerald } from "../test/herald-process.js";

declare module "vitest" {
  export interface ProvidedContext {
    heraldEvents: string;
    sinkUrl: string;
  }
}

/**
 * Starts a sink and `herald serve` delivering every event to it in structured mode. The sink's
 * `GET /events/{id}` waits (up to 10 s) until that event has been delivered and answers it, so a
 * test inside workerd can check delivery without sleeping.
 */
export default async function setup(project: TestProject) {
  const delivered = new Map<string, string>();
  const waiting = new Map<string, (() => void)[]>();
  // POST /endless answers 502 with a body that does not end (up to 256 MiB, at the client's
  // pace); GET /endless answers, once that response closed, how much was written and whether the
  // client cut it.
  let endlessClosed: Promise<{ written: number; cut: boolean }> | undefined;
  const sink = createServer((req, res) => {
    if (req.url === "/endless") {
      if (req.method === "POST") {
        req.resume();
        endlessClosed = new Promise((settle) => {
          let written = 0;
          res.on("close", () => settle({ written, cut: !res.writableFinished }));
          res.writeHead(502, { "content-type": "application/problem+json" }).write('{"code":"');
          const chunk = Buffer.alloc(64 * 1024, "x");
          const pump = () => {
            while (written < 256 * 1024 * 1024 && !res.destroyed) {
              written += chunk.length;
              if (!res.write(chunk)) return void res.once("drain", pump);
            }
            if (!res.destroyed) res.end('"}');
          };
          pump();
        });
      } else {
        void endlessClosed?.then((result) => res.end(JSON.stringify(result)));
      }
      return;
    }
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      if (req.method === "POST") {
        const body = Buffer.concat(chunks).toString();
        const id = (JSON.parse(body) as { id: string }).id;
        delivered.set(id, body);
        for (const wake of waiting.get(id) ?? []) wake();
        waiting.delete(id);
        res.writeHead(204).end();
        return;
      }
      const id = decodeURIComponent((req.url ?? "").replace(/^\/events\//, ""));
      const answer = () =>
        delivered.has(id)
          ? res.writeHead(200, { "content-type": "application/json" }).end(delivered.get(id))
          : res.writeHead(404).end();
      if (delivered.has(id)) return answer();
      const timer = setTimeout(answer, 10_000);
      const list = waiting.get(id) ?? [];
      list.push(() => {
        clearTimeout(timer);
        answer();
      });
      waiting.set(id, list);
    });
  });
  await new Promise<void>((ok) => sink.listen(0, "127.0.0.1", ok));
  const sinkUrl = `http://127.0.0.1:${(sink.address() as AddressInfo).port}`;
  const herald = await startHerald({
    limits: { maxEventBytes: 4096 },
    subscriptions: [{ id: "all", sink: `${sinkUrl}/all`, delivery: { mode: "structured" } }],
  });
  project.provide("heraldEvents", herald.events);
  project.provide("sinkUrl", sinkUrl);
  return async () => {
    await herald.stop();
    sink.closeAllConnections();
    await new Promise<void>((ok) => sink.close(() => ok()));
  };
}
