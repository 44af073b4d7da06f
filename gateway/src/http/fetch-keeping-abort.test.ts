import { createServer, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fetchKeepingAbort } from "./fetch-keeping-abort.js";

// A real server on 127.0.0.1 that takes each request and never finishes its answer: with `head`
// it sends the status line and part of the body, else nothing at all.
const hanging: ServerResponse[] = [];
const server = createServer((req, res) => {
  req.resume();
  req.on("end", () => {
    if (req.url === "/head") res.writeHead(200, { "content-length": "100" }).write("abc");
    hanging.push(res);
  });
});
let base = "";
beforeAll(async () => {
  await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  for (const res of hanging.splice(0)) res.destroy();
  server.closeAllConnections();
  await new Promise<void>((ok) => server.close(() => ok()));
});

setFlagsFromString("--expose-gc");
const gc = runInNewContext("gc") as () => void;
const sleep = (ms: number) => new Promise<void>((ok) => setTimeout(ok, ms));

/** Aborts `controller` after collecting garbage; settles with what `exchange` came to. */
async function abortAfterGc(
  exchange: Promise<unknown>,
  controller: AbortController,
): Promise<string> {
  const outcome = exchange.then(
    () => "settled",
    (err: unknown) => (err === controller.signal.reason ? "aborted" : `failed: ${String(err)}`),
  );
  await sleep(50);
  gc();
  await sleep(10);
  gc();
  controller.abort(new Error("timed out"));
  return Promise.race([outcome, sleep(1_000).then(() => "hung")]);
}

const post = (path: string, signal: AbortSignal) =>
  new Request(`${base}${path}`, { method: "POST", body: '{"a":1}', signal });

describe("fetchKeepingAbort", () => {
  it("shows the defect it works around: fetch(new Request(...)) loses the abort after a GC", async () => {
    // If this starts failing, the runtime's fetch holds the Request itself and the helper is
    // no longer needed (it still does no harm).
    const outcomes: string[] = [];
    for (let i = 0; i < 3 && !outcomes.includes("hung"); i++) {
      const controller = new AbortController();
      outcomes.push(await abortAfterGc(fetch(post("/", controller.signal)), controller));
    }
    expect(outcomes).toContain("hung");
  });

  it("aborts a request waiting for its answer, after garbage collections", async () => {
    for (let i = 0; i < 5; i++) {
      const controller = new AbortController();
      const exchange = fetchKeepingAbort((r) => fetch(r), post("/", controller.signal));
      expect(await abortAfterGc(exchange, controller)).toBe("aborted");
    }
  });

  it("aborts the reading of a body that stopped half-way, after garbage collections", async () => {
    for (let i = 0; i < 5; i++) {
      const controller = new AbortController();
      const read = fetchKeepingAbort((r) => fetch(r), post("/head", controller.signal)).then(
        async (response) => {
          expect(response.status).toBe(200);
          return response.text();
        },
      );
      expect(await abortAfterGc(read, controller)).toBe("aborted");
    }
  });

  it("hands back the fetch's answer and its failures unchanged", async () => {
    const answer = new Response("ok", { status: 201 });
    const request = new Request("http://example.test/");
    expect(await fetchKeepingAbort(async () => answer, request)).toBe(answer);
    const refusal = new TypeError("fetch failed");
    await expect(fetchKeepingAbort(async () => Promise.reject(refusal), request)).rejects.toBe(
      refusal,
    );
  });
});
