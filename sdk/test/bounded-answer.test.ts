import { createServer, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { createProducer, InvalidEvent, Unavailable } from "../src/index.js";

// The producer on the platform `fetch` (undici here) against a real server on 127.0.0.1 whose
// answer body does not end: the SDK reads at most 1 MiB of it and cancels the rest.

const CHUNK = Buffer.alloc(64 * 1024, "x");
/** Where the stand-in stops on its own: far past the SDK's 1 MiB cap. */
const HARD_STOP = 256 * 1024 * 1024;

interface Endless {
  readonly url: string;
  /** Resolves with the bytes written when the response closed, and whether the client cut it. */
  readonly closed: Promise<{ written: number; cut: boolean }>;
}

let server: Server | undefined;
afterEach(async () => {
  // This test's server is taken before the first await: a hook that outlives its timeout must
  // not close the server the next test has started meanwhile.
  const held = server;
  server = undefined;
  held?.closeAllConnections();
  await new Promise((resolve) => held?.close(resolve) ?? resolve(undefined));
});

/** Answers `status` with a body that starts like JSON and goes on (up to HARD_STOP), at the client's pace. */
async function endless(status: number): Promise<Endless> {
  let settle!: (value: { written: number; cut: boolean }) => void;
  const closed = new Promise<{ written: number; cut: boolean }>((resolve) => {
    settle = resolve;
  });
  server = createServer((req, res: ServerResponse) => {
    req.resume();
    res.writeHead(status, { "content-type": "application/problem+json" });
    let written = 0;
    res.on("close", () => settle({ written, cut: !res.writableFinished }));
    res.write('{"code":"');
    const pump = () => {
      while (written < HARD_STOP && !res.destroyed) {
        written += CHUNK.length;
        if (!res.write(CHUNK)) return void res.once("drain", pump);
      }
      if (!res.destroyed) res.end('"}');
    };
    pump();
  });
  await new Promise<void>((resolve) => server?.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/events`, closed };
}

const producerFor = (endpoint: string) =>
  // A timeout far beyond the test's: only the cap can end the read in time.
  createProducer({ endpoint, source: "/bounded", retry: false, timeout: 600_000 });

describe("a gateway answer that does not end (platform fetch)", () => {
  it("an error's endless body: rejects with the usual error, the rest cancelled after about 1 MiB", async () => {
    const stand = await endless(502);
    const sent = producerFor(stand.url).send({ type: "com.example.bounded" });
    await expect(sent).rejects.toThrow(Unavailable);
    await expect(sent).rejects.toMatchObject({
      message: "the gateway answered 502",
      status: 502,
      problem: undefined,
    });
    const { written, cut } = await stand.closed;
    // The client closed the connection: the stand-in never reached its own end. What it wrote is
    // the SDK's 1 MiB plus what the sockets' buffers held, nowhere near HARD_STOP.
    expect(cut).toBe(true);
    expect(written).toBeLessThan(64 * 1024 * 1024);
  });

  it("a 400's endless body is an InvalidEvent without a problem, as any body that is not one", async () => {
    const stand = await endless(400);
    await expect(producerFor(stand.url).send({ type: "com.example.bounded" })).rejects.toThrow(
      InvalidEvent,
    );
    expect((await stand.closed).cut).toBe(true);
  });

  it("a 2xx with an endless body: the event counts as sent, the rest is cancelled", async () => {
    const stand = await endless(202);
    const sent = await producerFor(stand.url).send({ type: "com.example.bounded" });
    expect(sent.source).toBe("/bounded");
    const { written, cut } = await stand.closed;
    expect(cut).toBe(true);
    expect(written).toBeLessThan(64 * 1024 * 1024);
  });

  it("a problem under the cap is read whole, however it is chunked", async () => {
    const detail = "é".repeat(300 * 1024); // 600 KiB of two-byte characters, split across chunks
    server = createServer((req, res) => {
      req.resume();
      res.writeHead(400, { "content-type": "application/problem+json" });
      res.end(JSON.stringify({ code: "invalid_attribute", detail }));
    });
    await new Promise<void>((resolve) => server?.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as AddressInfo;
    const sent = producerFor(`http://127.0.0.1:${port}/events`).send({ type: "com.example.x" });
    await expect(sent).rejects.toMatchObject({
      message: `the gateway answered 400 invalid_attribute: ${detail}`,
      problem: { code: "invalid_attribute", detail },
    });
  });
});
