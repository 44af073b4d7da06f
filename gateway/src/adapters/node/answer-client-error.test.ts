import { createServer, type Server } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { rawExchange, statusOf } from "../../../test/support/raw-exchange.js";
import { type ServedInTempDir, serveInTempDir } from "../../../test/support/serve-in-temp-dir.js";
import { answerClientError } from "./answer-client-error.js";
import type { RunningServer } from "./serve.js";

/** Sends raw bytes on a fresh connection and reads until the server closes it. */
async function raw(url: string, bytes: string) {
  const [head = "", body = ""] = (await rawExchange(Number(new URL(url).port), bytes)).split(
    "\r\n\r\n",
  );
  return { status: statusOf(head), head: head.toLowerCase(), body };
}

const expectProblem = (answer: { head: string; body: string }, code: string) => {
  expect(answer.head).toContain("content-type: application/problem+json");
  expect(answer.head).toContain("connection: close");
  expect(JSON.parse(answer.body)).toMatchObject({ code, status: expect.any(Number) });
};

let served: ServedInTempDir;
let server: RunningServer;
beforeAll(async () => {
  served = await serveInTempDir(
    "store: { kind: memory }\nsubscriptions: []\n",
    "herald-client-error-",
  );
  server = served.server;
});
afterAll(() => served?.close());

describe("requests node:http refuses before the gateway sees them (herald serve)", () => {
  it("431 headers_too_large as problem+json for a header section over the limit", async () => {
    const answer = await raw(
      server.url,
      `POST /events HTTP/1.1\r\nHost: x\r\nce-huge: ${"a".repeat(20_000)}\r\n\r\n`,
    );
    expect(answer.status).toBe(431);
    expectProblem(answer, "headers_too_large");
  });

  it("400 malformed_request as problem+json for bytes that are not HTTP", async () => {
    const answer = await raw(server.url, "HELLO THERE\r\n\r\n");
    expect(answer.status).toBe(400);
    expectProblem(answer, "malformed_request");
  });

  // A refusal written at once took the place of the answers still owed on the connection: the
  // publisher read 400 for an event that was stored and delivered.
  describe("after requests of the same connection still being answered", () => {
    const event = (id: string, extra = "") =>
      `POST /events HTTP/1.1\r\nHost: x\r\nce-specversion: 1.0\r\nce-id: ${id}\r\n` +
      `ce-source: /t\r\nce-type: t.t\r\n${extra}Content-Length: 2\r\n\r\n{}`;
    /** The status of every answer on one connection, until the server closes it. */
    const statuses = async (bytes: string): Promise<string[]> => {
      const text = await rawExchange(Number(new URL(server.url).port), bytes);
      return [...text.matchAll(/HTTP\/1\.1 (\d{3})/g)].map((m) => m[1] ?? "");
    };

    it("answers them first, then 400 for the bytes that are not HTTP", async () => {
      expect(await statuses(`${event("a")}${event("b")}HELLO THERE\r\n\r\n`)).toEqual([
        "202",
        "202",
        "400",
      ]);
    });

    it("answers them first, then 400 for a malformed chunked body", async () => {
      const chunked =
        "POST /events HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n";
      expect(await statuses(`${event("c")}${chunked}`)).toEqual(["202", "400"]);
    });

    it("ignores what follows a request that asked to close (RFC 9112 9.6)", async () => {
      const close = "Connection: close\r\n";
      expect(await statuses(`${event("d")}${event("e", close)}${event("f")}`)).toEqual([
        "202",
        "202",
      ]);
      expect(await statuses(`${event("g", close)}HELLO THERE\r\n\r\n`)).toEqual(["202"]);
    });
  });

  it("keeps serving afterwards", async () => {
    const res = await fetch(`${server.url}/healthz`);
    expect(res.status).toBe(200);
  });
});

describe("answerClientError on a request that never completes", () => {
  let slow: Server;
  afterAll(() => new Promise<void>((done) => slow.close(() => done())));

  it("408 request_timeout as problem+json", async () => {
    // The handler waits for the whole body, as the gateway does. Node checks the timeouts every
    // `connectionsCheckingInterval`; short here for the test.
    slow = createServer({ connectionsCheckingInterval: 100 }, (req, res) => {
      req.resume();
      req.on("end", () => res.end());
    });
    slow.requestTimeout = 500;
    slow.headersTimeout = 400;
    slow.on("clientError", answerClientError);
    await new Promise<void>((ok) => slow.listen(0, "127.0.0.1", ok));
    const { port } = slow.address() as { port: number };
    // Headers promise 100 bytes; 5 come, then nothing.
    const answer = await raw(
      `http://127.0.0.1:${port}`,
      "POST /events HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nhello",
    );
    expect(answer.status).toBe(408);
    expectProblem(answer, "request_timeout");
  });
});
