import type { ChildProcess } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type SpawnedHerald, spawnHerald } from "../../../test/support/spawn-herald.js";

// herald serve in its own process: in one process the client's writes and the server's close
// take turns on one event loop, and the reset that lost the answer does not happen.
const children: ChildProcess[] = [];
let dir: string;
let herald: SpawnedHerald;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "herald-linger-"));
  await writeFile(join(dir, "herald.json"), JSON.stringify({ store: { kind: "memory" } }));
  herald = await spawnHerald({ config: join(dir, "herald.json"), cwd: dir, children });
});
afterAll(async () => {
  for (const child of children) child.kill("SIGKILL");
  await rm(dir, { recursive: true, force: true });
});

describe("a request answered before its body is read (413 on Content-Length)", () => {
  it("gets its answer: the connection lingers after it instead of resetting the upload", async () => {
    // Destroyed once the 413 was written, the socket reset the client's further writes and
    // fetch failed with "write EPIPE" (or ECONNRESET) before it read the answer, about one
    // request in two; a producer then retried the whole body.
    const body = new Uint8Array(8 * 1024 * 1024);
    const headers = {
      "ce-specversion": "1.0",
      "ce-source": "/big",
      "ce-type": "com.example.big",
      "content-type": "application/octet-stream",
    };
    const outcomes: string[] = [];
    for (let i = 0; i < 8; i++) {
      const res = await fetch(`${herald.url}/events`, {
        method: "POST",
        headers: { ...headers, "ce-id": `big-${i}` },
        body,
      }).then(
        async (r) => `${r.status} ${r.headers.get("connection")} ${(await r.json()).code}`,
        (err: Error & { cause?: { code?: string } }) => `${err.message}: ${err.cause?.code}`,
      );
      outcomes.push(res);
    }
    expect(outcomes).toEqual(Array(8).fill("413 close payload_too_large"));
  });
});

describe("a Hono route that answers before reading the body (404, 413 on the API, webhooks)", () => {
  /**
   * Sends `head` and a 3 MB body over about a second without reading, as a client that reads the
   * answer once its body is out, then `after`, then reads: the first answer, or the socket error.
   */
  function uploadThenRead(head: string, after = ""): Promise<string> {
    return new Promise((resolve) => {
      const socket = connect(Number(new URL(herald.url).port), "127.0.0.1");
      socket.pause();
      let text = "";
      let error = "";
      socket.on("data", (chunk: Buffer) => {
        text += chunk.toString("latin1");
      });
      socket.on("error", (err: NodeJS.ErrnoException) => {
        error = err.code ?? err.message;
      });
      socket.on("close", () => {
        const status = /^HTTP\/1\.1 (\d+)/.exec(text)?.[1];
        const code = /"code":"([a-z_]+)"/.exec(text)?.[1];
        resolve(status === undefined ? `no answer: ${error}` : `${status} ${code}${error}`);
      });
      socket.on("connect", async () => {
        socket.write(head);
        for (let i = 0; i < 20 && !socket.destroyed; i++) {
          socket.write(Buffer.alloc(150_000, 0x20));
          await new Promise((ok) => setTimeout(ok, 50));
        }
        if (after !== "") socket.write(after);
        socket.resume();
        socket.end();
      });
    });
  }

  it("gets its answer: the close lingers instead of resetting the upload (EPIPE, no answer)", async () => {
    // Hono's adapter reads on for 0.5 s, then closes the socket: under the upload, a reset.
    const head = (path: string) =>
      `POST ${path} HTTP/1.1\r\nHost: x\r\ncontent-type: application/json\r\ncontent-length: 3000000\r\n\r\n`;
    const outcomes = await Promise.all([
      uploadThenRead(head("/nothing")),
      uploadThenRead(head("/subscriptions")),
      uploadThenRead(head("/webhooks/unknown")),
    ]);
    expect(outcomes).toEqual(["404 not_found", "413 payload_too_large", "404 not_found"]);
  });

  it("gets the refusal of a head node:http cannot parse (clientError), not a reset", async () => {
    // Found by test/http-hostile-fuzz.test.ts: a NUL in a header value (400) or an unknown
    // method, with a body on its way: the refusal was written straight to the socket, which was
    // then destroyed with the body unread, and the reset took the answer with it.
    const outcomes = await Promise.all([
      uploadThenRead(
        "POST /events HTTP/1.1\r\nHost: x\r\ncontent-type: application/json\u0000\r\ncontent-length: 3000000\r\n\r\n",
      ),
      uploadThenRead("BREW /events HTTP/1.1\r\nHost: x\r\ncontent-length: 3000000\r\n\r\n"),
    ]);
    expect(outcomes).toEqual(["400 malformed_request", "400 malformed_request"]);
  });

  it("processes no request sent after the body once the connection is closing", async () => {
    // The close came while the body arrived: a request after it was parsed, its event stored,
    // and its answer written to a closed connection.
    const accepted = async () => {
      const text = await (await fetch(`${herald.url}/metrics`)).text();
      return /^herald_events_accepted_total (\d+)/m.exec(text)?.[1];
    };
    const before = await accepted();
    const event =
      "POST /events HTTP/1.1\r\nHost: x\r\nce-specversion: 1.0\r\nce-id: late-1\r\n" +
      "ce-source: /late\r\nce-type: com.example.late\r\ncontent-length: 0\r\n\r\n";
    const outcome = await uploadThenRead(
      "POST /nothing HTTP/1.1\r\nHost: x\r\ncontent-length: 3000000\r\n\r\n",
      event,
    );
    expect(outcome).toBe("404 not_found");
    expect(await accepted()).toBe(before);
  });

  it("keeps the connection when the body was read, and for a request without one", async () => {
    const socket = connect(Number(new URL(herald.url).port), "127.0.0.1");
    let text = "";
    socket.on("data", (chunk: Buffer) => {
      text += chunk.toString("latin1");
    });
    const both = new Promise<void>((ok) => {
      socket.on("data", () => {
        if ((text.match(/HTTP\/1\.1 /g) ?? []).length === 2) ok();
      });
    });
    socket.write(
      "POST /nothing HTTP/1.1\r\nHost: x\r\ncontent-length: 2\r\n\r\n{}" +
        "GET /nothing HTTP/1.1\r\nHost: x\r\n\r\n",
    );
    await both;
    socket.destroy();
    expect(text).not.toMatch(/connection: close/i);
    expect(text.match(/HTTP\/1\.1 404 /g)).toHaveLength(2);
  });
});
