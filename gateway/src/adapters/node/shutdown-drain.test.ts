import type { ChildProcess } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:http";
import { type AddressInfo, connect, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RecordingSink, startRecordingSink } from "../../../test/support/recording-sink.js";
import { serveQuietly } from "../../../test/support/serve-in-temp-dir.js";
import { spawnHerald } from "../../../test/support/spawn-herald.js";
import { waitUntil } from "../../../test/support/wait-until.js";
import { silentLogger } from "../../ports/logger.js";

// DESIGN.md: SIGTERM/SIGINT stop accepting, finish or persist in-flight work, exit 0. A request
// whose body is still arriving when shutdown starts is let finish within the drain deadline
// (202 once stored), or answered 503 with Retry-After when it cannot finish in time.

let dir: string;
let sink: RecordingSink;
const children: ChildProcess[] = [];
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "herald-drain-"));
  sink = await startRecordingSink();
});
afterAll(async () => {
  for (const child of children) child.kill("SIGKILL");
  await sink.close();
  await rm(dir, { recursive: true, force: true });
});

/** What a raw HTTP/1.1 client got: the final answer (after any 100 Continue). */
interface Answer {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: string;
}

/**
 * A `POST path` whose body (`first` now, the rest on `finish`) comes slowly. `Expect:
 * 100-continue` tells when the server has taken the request in: Herald answers 100 as it starts
 * reading the body.
 */
function slowPost(base: string, path: string, id: string, first: string, rest: string) {
  const socket: Socket = connect(Number(new URL(base).port), "127.0.0.1");
  let text = "";
  let continued: () => void = () => {};
  const inside = new Promise<void>((ok) => {
    continued = ok;
  });
  socket.setEncoding("latin1");
  const answer = new Promise<Answer>((resolve, reject) => {
    socket.on("data", (chunk: string) => {
      text += chunk;
      if (text.startsWith("HTTP/1.1 100")) continued();
    });
    socket.on("error", reject);
    socket.on("close", () => {
      const final = text.replace(/^HTTP\/1\.1 100 Continue\r\n\r\n/, "");
      const [head = "", body = ""] = final.split("\r\n\r\n", 2);
      const [statusLine = "", ...lines] = head.split("\r\n");
      const headers: Record<string, string> = {};
      for (const line of lines) {
        const colon = line.indexOf(":");
        headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
      }
      resolve({ status: Number(statusLine.split(" ")[1]), headers, body });
    });
  });
  socket.write(
    [
      `POST ${path} HTTP/1.1`,
      "Host: 127.0.0.1",
      "ce-specversion: 1.0",
      `ce-id: ${id}`,
      "ce-source: /drain",
      "ce-type: t",
      "Content-Type: text/plain",
      `Content-Length: ${first.length + rest.length}`,
      "Expect: 100-continue",
      "Connection: close",
      "",
      "",
    ].join("\r\n"),
  );
  return {
    inside: inside.then(() => {
      socket.write(first);
    }),
    finish: () => socket.write(rest),
    answer,
  };
}

/** Resolves once `GET /readyz` answers 503 (shutting down), or nothing answers any more. */
async function stopping(base: string): Promise<void> {
  await waitUntil(
    async () => {
      const res = await fetch(`${base}/readyz`).catch(() => undefined);
      return res === undefined || res.status === 503;
    },
    { timeoutMs: 15_000, everyMs: 10, what: "/readyz to answer 503 after SIGTERM" },
  );
}

describe("shutdown with a request body still arriving", () => {
  it("herald serve lets it finish after SIGTERM, answers 202, delivers it, exits 0", async () => {
    await writeFile(
      join(dir, "memory.yaml"),
      `store: { kind: memory }\nsubscriptions:\n  - id: all\n    sink: ${sink.url}/all\n`,
    );
    const gw = await spawnHerald({ config: "memory.yaml", cwd: dir, children });
    const exited = new Promise<number | null>((ok) => gw.child.once("exit", (code) => ok(code)));
    const post = slowPost(gw.url, "/events", "slow-1", "hello ", "world");
    await post.inside;
    gw.child.kill("SIGTERM");
    await stopping(gw.url);
    post.finish();
    const answer = await post.answer;
    expect(answer.status).toBe(202);
    expect(await exited).toBe(0);
    const delivered = sink.received.filter((r) => r.headers["ce-id"] === "slow-1");
    expect(delivered.map((r) => r.body.toString())).toEqual(["hello world"]);
  });

  it("herald serve exits 1 at a second SIGTERM during the drain, and logs why", async () => {
    await writeFile(join(dir, "forced.yaml"), "store: { kind: memory }\n");
    let stderr = "";
    const gw = await spawnHerald({
      config: "forced.yaml",
      cwd: dir,
      children,
      env: { HERALD_LOG_LEVEL: "warn" },
      stderr: (text) => {
        stderr += text;
      },
    });
    const exited = new Promise<number | null>((ok) => gw.child.once("exit", (code) => ok(code)));
    // A body still arriving holds the drain open.
    const post = slowPost(gw.url, "/events", "forced-1", "never ", "finished");
    await post.inside;
    gw.child.kill("SIGTERM");
    await stopping(gw.url);
    gw.child.kill("SIGTERM");
    expect(await exited).toBe(1);
    const lines = stderr
      .split("\n")
      .filter((line) => line.startsWith("{"))
      .map((line) => JSON.parse(line) as { level: string; msg: string; signal?: string });
    expect(lines).toContainEqual(
      expect.objectContaining({
        level: "warn",
        msg: expect.stringMatching(/^second signal while draining: exiting at once/),
        signal: "SIGTERM",
      }),
    );
    await post.answer.catch(() => undefined);
  });

  it("herald serve on SQLite stores it before the store closes: it reaches the sink, at the latest after a restart", async () => {
    await writeFile(
      join(dir, "sqlite.yaml"),
      `store: { kind: sqlite, path: drain.db }\nsubscriptions:\n  - id: all\n    sink: ${sink.url}/durable\n`,
    );
    const gw = await spawnHerald({ config: "sqlite.yaml", cwd: dir, children });
    const exited = new Promise<number | null>((ok) => gw.child.once("exit", (code) => ok(code)));
    const post = slowPost(gw.url, "/", "slow-2", "still ", "arriving");
    await post.inside;
    gw.child.kill("SIGTERM");
    await stopping(gw.url);
    post.finish();
    expect((await post.answer).status).toBe(202);
    expect(await exited).toBe(0);
    const delivered = () => sink.received.filter((r) => r.headers["ce-id"] === "slow-2");
    if (delivered().length === 0) {
      const again = await spawnHerald({ config: "sqlite.yaml", cwd: dir, children });
      while (delivered().length === 0) await sink.waitFor(sink.received.length + 1);
      await again.kill();
    }
    expect(delivered()[0]?.body.toString()).toBe("still arriving");
  });

  it.each([
    ["the fast path", "/events"],
    ["the Hono path", "/%65vents"],
  ])(
    "answers 503 with Retry-After on %s when the body does not arrive within the drain deadline, storing nothing",
    async (_, path) => {
      const name = `cut-${path.length}.yaml`;
      await writeFile(
        join(dir, name),
        `store: { kind: memory }\nsubscriptions:\n  - id: all\n    sink: ${sink.url}/cut\n`,
      );
      const server = await serveQuietly(dir, name, { note: () => {}, drainMs: 300 });
      const id = `cut-${path}`;
      const post = slowPost(server.url, path, id, "hel", "lo");
      await post.inside;
      const closed = server.close();
      const answer = await post.answer;
      expect(answer.status).toBe(503);
      expect(answer.headers["retry-after"]).toBe("1");
      expect(JSON.parse(answer.body)).toMatchObject({ code: "unavailable" });
      await closed;
      post.finish();
      expect(sink.received.filter((r) => r.headers["ce-id"] === id)).toEqual([]);
    },
  );
});

describe("herald serve on SQLite, stopped while a dead-letter send hangs", () => {
  it("leaves the job leased, not dead: after the restart it goes to the dead-letter sink", async () => {
    // The sink fails (500, no retries): the job goes to a dead-letter sink that never answers.
    let hang = true;
    let arrive: (id: string) => void = () => {};
    const arrived = new Promise<string>((ok) => {
      arrive = ok;
    });
    let dlqReached: () => void = () => {};
    const reached = new Promise<void>((ok) => {
      dlqReached = ok;
    });
    const sinks = createServer((req, res) => {
      req.resume();
      req.on("end", () => {
        if (req.url === "/fail") return void res.writeHead(500).end();
        if (hang) return dlqReached();
        res.writeHead(204).end();
        arrive(String(req.headers["ce-id"]));
      });
    });
    await new Promise<void>((ok) => sinks.listen(0, "127.0.0.1", ok));
    const base = `http://127.0.0.1:${(sinks.address() as AddressInfo).port}`;
    await writeFile(
      join(dir, "dead-letter.yaml"),
      [
        "store: { kind: sqlite, path: dead-letter.db }",
        "subscriptions:",
        "  - id: dl",
        `    sink: ${base}/fail`,
        `    delivery: { retry: 0, timeout: 60s, deadLetterSink: ${base}/dlq }`,
      ].join("\n"),
    );
    // Resolves with the first line logged about the job's end: cut short, or kept as dead.
    let ended: (line: string) => void = () => {};
    const ending = new Promise<string>((ok) => {
      ended = ok;
    });
    const watch = (message: string) => {
      if (/cut a dead-letter send short|kept as dead/.test(message)) ended(message);
    };
    const logger = { ...silentLogger, warn: watch, error: watch };
    const server = await serveQuietly(dir, "dead-letter.yaml", { logger, drainMs: 200 });
    const res = await fetch(`${server.url}/events`, {
      method: "POST",
      headers: { "ce-specversion": "1.0", "ce-id": "dl-1", "ce-source": "/dl", "ce-type": "t" },
      body: "x",
    });
    expect(res.status).toBe(202);
    await reached;
    await server.close();
    expect(await ending).toMatch(/cut a dead-letter send short/);

    hang = false;
    const again = await serveQuietly(dir, "dead-letter.yaml");
    try {
      const dead = await fetch(`${again.url}/subscriptions/dl/dead`);
      expect((await dead.json()).items).toEqual([]);
      expect(await arrived).toBe("dl-1");
    } finally {
      await again.close();
      sinks.closeAllConnections();
      await new Promise((ok) => sinks.close(ok));
    }
  }, 20_000);
});
