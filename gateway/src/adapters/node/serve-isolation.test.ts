import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RecordingSink, startRecordingSink } from "../../../test/support/recording-sink.js";
import { type ScriptedSink, startScriptedSink } from "../../../test/support/scripted-sink.js";
import { silentLogger } from "../../ports/logger.js";
import { type RunningServer, serve } from "./serve.js";

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
    server = await serve({
      configPath: "herald.json",
      port: 0,
      noAuth: true,
      cwd: dir,
      env: {},
      logger: silentLogger,
      print: () => {},
      watchConfig: false,
    });
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
