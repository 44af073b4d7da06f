import type { ServerResponse } from "node:http";
import { connect } from "node:net";
import { afterEach, describe, expect, it, vi } from "vitest";
import { createNodeServer } from "./create-node-server.js";
import { MAX_PIPELINED_REQUESTS } from "./pipeline-limit.js";

let close: (() => void) | undefined;
afterEach(() => close?.());

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("pipelined requests on one connection", () => {
  it(`are handled ${MAX_PIPELINED_REQUESTS} at a time; the rest wait unread, and every one is answered`, async () => {
    // The handler answers nothing until told to, as an ingest answers nothing until it stored.
    const held: ServerResponse[] = [];
    const server = createNodeServer((req, res) => {
      req.resume();
      req.on("end", () => held.push(res));
    });
    await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok));
    close = () => server.close();
    const { port } = server.address() as { port: number };
    const socket = connect(port, "127.0.0.1");
    await new Promise((ok) => socket.once("connect", ok));
    let answers = "";
    socket.setEncoding("latin1");
    socket.on("data", (chunk: string) => {
      answers += chunk;
    });
    const total = 100;
    for (let i = 0; i < total; i++) {
      // One write each, sent once the one before was handled (or is clearly not being read): each
      // arrives in a read of its own, as a read carrying many requests is parsed whole.
      const before = held.length;
      socket.write(`POST /events HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n${i % 10}\n`);
      for (let waited = 0; held.length === before && waited < 30; waited += 2) await pause(2);
    }
    await pause(100);
    // Unlimited, all 100 would be in the handler by now; a read or two may carry two requests.
    expect(held.length).toBeGreaterThanOrEqual(MAX_PIPELINED_REQUESTS);
    expect(held.length).toBeLessThanOrEqual(MAX_PIPELINED_REQUESTS + 8);
    // Answer as they come: the connection is read again, and nothing is lost.
    let answered = 0;
    while (answered < total) {
      const res = held[answered];
      if (res === undefined) {
        await pause(5);
        continue;
      }
      res.writeHead(204).end();
      answered++;
    }
    const answered204 = () => answers.match(/HTTP\/1\.1 204/g)?.length ?? 0;
    await vi.waitFor(() => expect(answered204()).toBe(total), { timeout: 5_000 });
    socket.destroy();
  });
});
