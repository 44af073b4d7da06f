import type { ChildProcess } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { Agent, createServer, request, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { spawnHerald } from "../../../test/support/spawn-herald.js";

// DESIGN.md: SIGTERM stops accepting (503 with Retry-After) while in-flight work finishes. A
// publisher on a keep-alive connection must never be left to send its next request on a
// connection the server is about to close (a reset: it cannot tell whether the event was taken).

let dir: string;
let sink: Server;
let sinkUrl: string;
/** Deliveries the sink holds unanswered until the test lets them go. */
const held: (() => void)[] = [];
let firstHeld: () => void = () => {};
const deliveryHeld = new Promise<void>((resolve) => {
  firstHeld = resolve;
});
const children: ChildProcess[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "herald-drain-ka-"));
  sink = createServer((req, res) => {
    req.resume();
    req.on("end", () => {
      held.push(() => res.writeHead(204).end());
      firstHeld();
    });
  });
  sink.listen(0, "127.0.0.1");
  await new Promise((ok) => sink.once("listening", ok));
  sinkUrl = `http://127.0.0.1:${(sink.address() as AddressInfo).port}`;
});
afterAll(async () => {
  for (const child of children) child.kill("SIGKILL");
  for (const answer of held.splice(0)) answer();
  sink.closeAllConnections();
  sink.close();
  await rm(dir, { recursive: true, force: true });
});

interface Answer {
  readonly status: number;
  readonly connection: string | undefined;
  readonly retryAfter: string | undefined;
  readonly socketId: number;
}

/** A binary-mode publish over `agent`; which of the agent's sockets carried it is told too. */
function publish(url: string, agent: Agent, id: string, sockets: WeakMap<object, number>) {
  return exchange(url, "/events", agent, sockets, id);
}

function get(url: string, path: string, agent: Agent, sockets: WeakMap<object, number>) {
  return exchange(url, path, agent, sockets);
}

function exchange(
  url: string,
  path: string,
  agent: Agent,
  sockets: WeakMap<object, number>,
  id?: string,
) {
  return new Promise<Answer>((resolve, reject) => {
    let socketId = -1;
    const publish = id !== undefined;
    const req = request(
      `${url}${path}`,
      {
        method: publish ? "POST" : "GET",
        agent,
        headers: publish
          ? {
              "ce-specversion": "1.0",
              "ce-id": id,
              "ce-source": "/drain-keep-alive",
              "ce-type": "t",
              "content-type": "application/json",
            }
          : {},
      },
      (res) => {
        res.resume();
        res.on("end", () =>
          resolve({
            status: res.statusCode ?? 0,
            connection: res.headers.connection,
            retryAfter: res.headers["retry-after"],
            socketId,
          }),
        );
      },
    );
    req.on("socket", (socket) => {
      let known = sockets.get(socket);
      if (known === undefined) {
        known = nextId++;
        sockets.set(socket, known);
      }
      socketId = known;
    });
    req.on("error", reject);
    req.end(publish ? "{}" : undefined);
  });
}
let nextId = 1;

describe("shutdown with publishers on keep-alive connections", () => {
  it("answers every request during the drain with Connection: close, so none meets a reset", async () => {
    await writeFile(
      join(dir, "memory.yaml"),
      `store: { kind: memory }\nsubscriptions:\n  - id: all\n    sink: ${sinkUrl}/all\n`,
    );
    const gw = await spawnHerald({ config: "memory.yaml", cwd: dir, children });
    const exited = new Promise<number | null>((ok) => gw.child.once("exit", (code) => ok(code)));
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const sockets = new WeakMap<object, number>();

    const first = await publish(gw.url, agent, "before", sockets);
    expect(first.status).toBe(202);
    expect(first.connection).toBe("keep-alive");
    const ready = await get(gw.url, "/readyz", agent, sockets);
    expect(ready).toMatchObject({
      status: 200,
      connection: "keep-alive",
      socketId: first.socketId,
    });
    // Its delivery is held at the sink, so the drain lasts until the test lets it go.
    await deliveryHeld;

    gw.child.kill("SIGTERM");
    // A probe on the kept-alive connection: 503 once the drain has begun, and that connection
    // is closed after the answer, like every other during the drain.
    let probe: Answer;
    do probe = await get(gw.url, "/readyz", agent, sockets);
    while (probe.status !== 503);
    expect(probe.connection).toBe("close");
    expect(probe.socketId).toBe(first.socketId);
    // A publish: refused, on a new connection, which is closed after it too.
    const during = await publish(gw.url, agent, "during-1", sockets);
    expect(during.status).toBe(503);
    expect(during.retryAfter).toBeDefined();
    expect(during.connection).toBe("close");
    expect(during.socketId).not.toBe(probe.socketId);
    // An API read likewise.
    const api = await get(gw.url, "/subscriptions", agent, sockets);
    expect(api.connection).toBe("close");
    expect(api.socketId).not.toBe(during.socketId);

    for (const answer of held.splice(0)) answer();
    expect(await exited).toBe(0);
    agent.destroy();
  });
});
