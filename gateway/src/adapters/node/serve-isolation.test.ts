import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RecordingSink, startRecordingSink } from "../../../test/support/recording-sink.js";
import { type ScriptedSink, startScriptedSink } from "../../../test/support/scripted-sink.js";
import { serveQuietly } from "../../../test/support/serve-in-temp-dir.js";
import type { RunningServer } from "./serve.js";

// README "Isolation": a slow or dead sink fills its own lane; deliveries to other sinks go on at
// full speed. With the defaults (16 per sink, maxDeliveriesInFlight 32), two sinks that never
// answer hold 32 attempts between them for as long as their timeout.

let dir: string;
let server: RunningServer | undefined;
let healthy: RecordingSink;
const dead: ScriptedSink[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "herald-isolation-"));
  healthy = await startRecordingSink(204);
  for (let i = 0; i < 3; i++) dead.push(await startScriptedSink([{ status: 200, hang: true }]));
});
afterAll(async () => {
  // The dead sinks first: closed, they end the attempts the gateway would wait for at close.
  for (const sink of dead) await sink.close();
  await server?.close();
  await healthy.close();
  await rm(dir, { recursive: true, force: true });
});

describe("herald serve: sinks that never answer do not hold up a healthy one", () => {
  it("delivers to the healthy sink while three dead sinks hold every slot they may", async () => {
    await writeFile(
      join(dir, "herald.json"),
      JSON.stringify({
        store: { kind: "sqlite", path: "h.db" },
        subscriptions: [
          ...dead.map((sink, i) => ({
            id: `dead-${i}`,
            sink: sink.url,
            delivery: { timeout: "5m" },
          })),
          { id: "healthy", sink: `${healthy.url}/ok` },
        ],
      }),
    );
    server = await serveQuietly(dir, "herald.json");
    const publish = async (id: string) => {
      const res = await fetch(`${server?.url}/events`, {
        method: "POST",
        headers: { "ce-specversion": "1.0", "ce-id": id, "ce-source": "/iso", "ce-type": "t" },
      });
      expect(res.status).toBe(202);
    };
    // Fill the dead sinks' lanes (16 each: 48 > maxDeliveriesInFlight) before the test proper.
    for (let i = 0; i < 20; i++) await publish(`fill-${i}`);
    for (const sink of dead) await sink.waitFor(16);
    await healthy.waitFor(20);

    // Their attempts wait for a 5-minute timeout; the healthy sink's events must not.
    const started = Date.now();
    for (let i = 0; i < 50; i++) await publish(`after-${i}`);
    await healthy.waitFor(70);
    expect(Date.now() - started).toBeLessThan(5_000);
    for (const sink of dead) expect(sink.received).toHaveLength(16);
  });
});

describe("herald serve: a sink that never answers does not hold the connections to its host", () => {
  let server: RunningServer | undefined;
  let sink: Server | undefined;
  let originDir: string | undefined;
  const hanging: ServerResponse[] = [];
  afterAll(async () => {
    for (const res of hanging) res.destroy();
    await server?.close();
    await new Promise((resolve) => sink?.close(resolve));
    if (originDir !== undefined) await rm(originDir, { recursive: true, force: true });
  });

  it("delivers to a healthy path of the same host and port while a dead one holds 128 requests", async () => {
    // One server, two sinks: /dead never answers, /ok does. Every connection to the host and
    // port was one pool of 128, shared by both subscriptions: with 128 requests hanging at /dead
    // (a sink that slows down with maxDeliveriesInFlight: 100), the delivery to /ok waited for a
    // connection until its timeout and was never sent.
    let ok = 0;
    let arrived!: () => void;
    const filled = new Promise<void>((resolve) => {
      arrived = resolve;
    });
    sink = createServer((req, res) => {
      req.resume();
      if (req.url === "/ok") {
        ok++;
        res.writeHead(204).end();
        return;
      }
      hanging.push(res);
      if (hanging.length === 128) arrived();
    });
    await new Promise<void>((resolve) => sink?.listen(0, "127.0.0.1", resolve));
    const base = `http://127.0.0.1:${(sink.address() as AddressInfo).port}`;
    originDir = await mkdtemp(join(tmpdir(), "herald-origin-"));
    await writeFile(
      join(originDir, "herald.json"),
      JSON.stringify({
        limits: { maxDeliveriesInFlight: 100 },
        store: { kind: "sqlite", path: "h.db" },
        subscriptions: [
          {
            id: "dead",
            types: ["dead"],
            sink: `${base}/dead`,
            delivery: { timeout: "5m", concurrency: 300 },
          },
          { id: "ok", types: ["ok"], sink: `${base}/ok`, delivery: { timeout: "2s", retry: 0 } },
        ],
      }),
    );
    server = await serveQuietly(originDir, "herald.json");
    const publish = async (type: string, id: string) => {
      const res = await fetch(`${server?.url}/events`, {
        method: "POST",
        headers: { "ce-specversion": "1.0", "ce-id": id, "ce-source": "/iso", "ce-type": type },
      });
      expect(res.status).toBe(202);
    };
    await Promise.all(Array.from({ length: 200 }, (_, i) => publish("dead", `dead-${i}`)));
    await filled;
    await publish("ok", "ok-1");
    await expect.poll(() => ok, { timeout: 4_000 }).toBe(1);
  }, 15_000);
});

describe("herald serve: a sink that never answers does not make the publishers of a healthy one wait for its timeout", () => {
  let server: RunningServer | undefined;
  let hung: ScriptedSink | undefined;
  let ok: RecordingSink | undefined;
  let stallDir: string | undefined;
  afterAll(async () => {
    await hung?.close();
    await server?.close();
    await ok?.close();
    if (stallDir !== undefined) await rm(stallDir, { recursive: true, force: true });
  });

  it("takes events for a hung sink and a healthy one past the backlog limit: no 503, all delivered to the healthy one", async () => {
    // Every event matches both. The hung sink fails nothing until its 5-minute timeout, so it did
    // not count as down: once 20 events waited for it, each publish waited 5 s and got 503, and
    // the healthy sink got nothing new, for as long as that timeout.
    hung = await startScriptedSink([{ status: 200, hang: true }]);
    ok = await startRecordingSink(204);
    stallDir = await mkdtemp(join(tmpdir(), "herald-stall-"));
    await writeFile(
      join(stallDir, "herald.json"),
      JSON.stringify({
        limits: { maxQueuedDeliveries: 20 },
        store: { kind: "sqlite", path: "h.db" },
        subscriptions: [
          { id: "hung", sink: hung.url, delivery: { timeout: "5m", concurrency: 4 } },
          { id: "ok", sink: `${ok.url}/ok` },
        ],
      }),
    );
    server = await serveQuietly(stallDir, "herald.json");
    const statuses: number[] = [];
    const started = Date.now();
    for (let i = 0; i < 60; i++) {
      const res = await fetch(`${server.url}/events`, {
        method: "POST",
        headers: { "ce-specversion": "1.0", "ce-id": `e-${i}`, "ce-source": "/s", "ce-type": "t" },
      });
      statuses.push(res.status);
    }
    expect(statuses).toEqual(statuses.map(() => 202));
    await ok.waitFor(60);
    // Publishers waited for the stall to show (2 s), not for the timeout or the 5 s wait each.
    expect(Date.now() - started).toBeLessThan(15_000);
    expect(hung.received).toHaveLength(4);
  }, 30_000);
});
